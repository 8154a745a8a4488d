#include "tests/bench/loadgen/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace cyclr::bench {
namespace {

// Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks. The command name (field 2)
// may contain spaces, so parsing starts after its closing parenthesis.
StatusOr<double> CpuSeconds(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return Status::NotFound(path + ": cannot read");
  size_t close = line.rfind(')');
  if (close == std::string::npos) return Status::Internal(path + ": unexpected format");
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  // After the name: state(3) ppid(4) ... utime(14) stime(15): skip 11 fields.
  for (int i = 3; i < 14 && rest >> field; ++i) {
  }
  unsigned long long utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return Status::Internal(path + ": no utime/stime");
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

StatusOr<ProcSample> ReadProcSample(int pid) {
  ProcSample s;
  CYCLR_ASSIGN_OR_RETURN(s.cpu_seconds, CpuSeconds(pid));
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot read");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key;
    int64_t value = 0;
    fields >> key >> value;
    if (key == "VmRSS:") s.rss_kb = value;
    if (key == "VmHWM:") s.peak_rss_kb = value;
    if (key == "Threads:") s.threads = static_cast<int>(value);
  }
  return s;
}

}  // namespace cyclr::bench
