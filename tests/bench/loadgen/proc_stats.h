// ProcStats: CPU time and memory of another process, read from /proc (Linux only). The load
// generator samples the coordinator before and after its measured window.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace cyclr::bench {

struct ProcSample {
  double cpu_seconds = 0;  // user + system time so far
  int64_t rss_kb = 0;      // resident set now (VmRSS)
  int64_t peak_rss_kb = 0; // high-water mark (VmHWM)
  int threads = 0;
};

// NOT_FOUND when `pid` does not exist (or /proc is not mounted).
StatusOr<ProcSample> ReadProcSample(int pid);

}  // namespace cyclr::bench
