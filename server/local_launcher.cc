#include "server/local_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/limits.h"
#include "server/log_file.h"

namespace cyclr {
namespace {

std::string LastLine(const std::string& path) { return LastLines(path, 1); }

// Whether `pid` is a live (not zombie) process.
bool ProcessRunning(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return false;
  size_t paren = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

// Whether process `pid`'s command line holds "--job" followed by `job`.
bool IsWorkerOf(int pid, const std::string& job) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string arg, previous;
  while (std::getline(in, arg, '\0')) {
    if (previous == "--job" && arg == job) return true;
    previous = arg;
  }
  return false;
}

}  // namespace

std::string WorkerExit::Describe() const {
  std::string s = "rank " + std::to_string(rank);
  if (!status_known) {
    s += " (pid " + std::to_string(pid) + ", adopted) ended with an unknown status";
  } else if (signal != 0) {
    s += " was killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  } else {
    s += " exited with code " + std::to_string(exit_code);
  }
  if (!last_log_line.empty()) s += ": " + last_log_line;
  return s;
}

LocalLauncher::LocalLauncher(Options options, WorkerExitCallback on_exit)
    : options_(std::move(options)), on_exit_(std::move(on_exit)) {
  reaper_ = std::thread([this] { ReapLoop(); });
}

LocalLauncher::~LocalLauncher() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (options_.stop_on_destroy) {
      std::vector<std::string> jobs;
      for (const auto& [pid, p] : procs_) jobs.push_back(p.job);
      for (const auto& j : jobs) StopLocked(j);
      // Let the reaper collect them (bounded by the grace period plus a margin).
      cv_.wait_for(lock, options_.stop_grace + std::chrono::seconds(2),
                   [&] { return procs_.empty(); });
    }
    done_ = true;
    cv_.notify_all();
  }
  reaper_.join();
}

std::string LocalLauncher::DefaultWorkerBinary() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "cyclr-worker";
  return (self.parent_path() / "cyclr-worker").string();
}

std::string LocalLauncher::LogTail(const std::string& job, int rank) const {
  return std::string(limits::CutUtf8(LastLines(LogPath(job, rank), 5), 1024));
}

StatusOr<LogChunk> LocalLauncher::ReadLog(const std::string& job, int rank, int64_t offset,
                                          int max_bytes) const {
  return ReadLogFile(LogPath(job, rank), offset, max_bytes);
}

std::string LocalLauncher::LogPath(const std::string& job, int rank) const {
  return options_.work_dir + "/jobs/" + job + "/worker-" + std::to_string(rank) + ".log";
}

StatusOr<int> LocalLauncher::Spawn(const v1::JobSpec& spec, int rank,
                                   const std::string& worker_token) {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::string log_dir = options_.work_dir + "/jobs/" + spec.name();
  std::string log = LogPath(spec.name(), rank);
  std::vector<std::string> args = {options_.worker_binary,
                                   "--coordinator",
                                   options_.coordinator_address,
                                   "--job",
                                   spec.name(),
                                   "--rank",
                                   std::to_string(rank),
                                   "--world-size",
                                   std::to_string(spec.workers()),
                                   "--log-dir",
                                   log_dir};
  const TlsFiles& tls = options_.worker_tls;
  if (!tls.ca.empty()) args.insert(args.end(), {"--tls-ca", tls.ca});
  if (!tls.cert.empty()) args.insert(args.end(), {"--tls-cert", tls.cert, "--tls-key", tls.key});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment: ours, with the job's credential instead of any inherited one.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "CYCLR_WORKER_TOKEN=", 19) != 0) env_strings.emplace_back(*e);
  }
  if (!worker_token.empty()) env_strings.push_back("CYCLR_WORKER_TOKEN=" + worker_token);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  if (access(options_.worker_binary.c_str(), X_OK) != 0) {
    return Status::FailedPrecondition("worker binary " + options_.worker_binary +
                                      " is not executable: " + std::strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) return Status::Unavailable(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    setsid();
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execve(argv[0], argv.data(), envp.data());
    const char msg[] = "cyclr: exec of the worker binary failed\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  return static_cast<int>(pid);
}

Status LocalLauncher::Launch(const v1::JobSpec& spec, const std::string& worker_token) {
  CYCLR_RETURN_IF_ERROR(MakeJobFolder(options_.work_dir, spec.name()).status());
  std::lock_guard<std::mutex> lock(mu_);
  for (int r = 0; r < spec.workers(); ++r) {
    StatusOr<int> pid = Spawn(spec, r, worker_token);
    if (!pid.ok()) {
      StopLocked(spec.name());
      return pid.status().WithContext("starting rank " + std::to_string(r));
    }
    procs_[*pid] = Process{spec.name(), r, {}, false, false};
  }
  return Status::Ok();
}

Status LocalLauncher::Stop(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  StopLocked(job);
  return Status::Ok();
}

Status LocalLauncher::Adopt(const std::string& job, int rank, int pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (procs_.count(pid)) return Status::Ok();
  if (pid <= 0 || !ProcessRunning(pid) || !IsWorkerOf(pid, job)) {
    return Status::NotFound("no worker of job \"" + job + "\" runs with pid " +
                            std::to_string(pid));
  }
  procs_[pid] = Process{job, rank, {}, false, true};
  return Status::Ok();
}

void LocalLauncher::StopLocked(const std::string& job) {
  auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  for (auto& [pid, p] : procs_) {
    if (p.job != job || p.stopping) continue;
    p.stopping = true;
    p.kill_at = deadline;
    kill(-pid, SIGTERM);  // the worker leads its own process group (setsid)
    kill(pid, SIGTERM);   // in case setsid had not run yet
  }
}

int LocalLauncher::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(procs_.size());
}

std::vector<WorkerExit> LocalLauncher::ReapOnce() {
  std::vector<WorkerExit> exits;
  auto now = std::chrono::steady_clock::now();
  for (auto it = procs_.begin(); it != procs_.end();) {
    int status = 0;
    bool ended;
    pid_t r = 0;
    if (it->second.adopted) {
      ended = !ProcessRunning(it->first);
    } else {
      r = waitpid(it->first, &status, WNOHANG);
      ended = r == it->first || (r < 0 && errno == ECHILD);
    }
    if (ended) {
      WorkerExit x;
      x.job = it->second.job;
      x.rank = it->second.rank;
      x.pid = it->first;
      x.status_known = !it->second.adopted;
      if (r > 0 && WIFSIGNALED(status)) x.signal = WTERMSIG(status);
      if (r > 0 && WIFEXITED(status)) x.exit_code = WEXITSTATUS(status);
      x.last_log_line = LastLine(LogPath(x.job, x.rank));
      exits.push_back(std::move(x));
      it = procs_.erase(it);
      continue;
    }
    if (it->second.stopping && now >= it->second.kill_at) {
      kill(-it->first, SIGKILL);
      kill(it->first, SIGKILL);
    }
    ++it;
  }
  return exits;
}

void LocalLauncher::ReapLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    std::vector<WorkerExit> exits = ReapOnce();
    // A worker killed by a signal is the likelier cause of its peers' exits found in the same
    // pass (they lost their peer): report it first, since the first exit names the failure.
    std::stable_sort(exits.begin(), exits.end(), [](const WorkerExit& a, const WorkerExit& b) {
      return a.signal != 0 && b.signal == 0;
    });
    if (!exits.empty()) {
      cv_.notify_all();
      lock.unlock();
      for (const auto& x : exits) {
        if (on_exit_) on_exit_(x);
      }
      lock.lock();
      continue;
    }
    cv_.wait_for(lock, options_.poll_interval, [&] { return done_; });
  }
}

}  // namespace cyclr
