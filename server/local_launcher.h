// LocalLauncher: runs a job's workers as processes on this machine.
//
// Each worker is `<worker_binary> --coordinator <address> --job <name> --rank <r>
// --world-size <W> --log-dir <work_dir>/jobs/<name>`, started with fork/exec in its own session
// (setsid, so it can outlive a coordinator restart), stdout and stderr appended to
// <work_dir>/jobs/<name>/worker-<r>.log. A reaper thread polls waitpid every `poll_interval` and
// reports each exit (code or signal, plus the log's last line) to the callback, from the reaper
// thread and without holding any lock. Stop() sends SIGTERM to each remaining worker's process
// group and SIGKILL once `stop_grace` has passed. The destructor stops every worker and waits
// (unless Options::stop_on_destroy is false).
//
// Adopted workers (Adopt: started by an earlier coordinator, so not our children) are watched
// through /proc/<pid>/stat instead of waitpid: gone or a zombie means ended, status unknown.
// Adopt checks /proc/<pid>/cmdline for `--job <job>` so a recycled pid is never adopted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/tls_credentials.h"
#include "server/launcher.h"

namespace cyclr {

class LocalLauncher : public Launcher {
 public:
  struct Options {
    std::string worker_binary;
    std::string coordinator_address;  // what workers dial, e.g. 127.0.0.1:7070
    std::string work_dir;             // logs go to <work_dir>/jobs/<job>/
    // TLS for the workers' connection (their --tls-ca/--tls-cert/--tls-key); empty ca: plaintext.
    TlsFiles worker_tls;
    std::chrono::milliseconds stop_grace{5000};
    std::chrono::milliseconds poll_interval{50};
    // Whether the destructor stops the workers (and waits for them). The coordinator leaves
    // them running so that they survive its restart and report to the new one.
    bool stop_on_destroy = true;
  };

  LocalLauncher(Options options, WorkerExitCallback on_exit);
  ~LocalLauncher() override;

  Status Launch(const v1::JobSpec& spec, const std::string& worker_token) override;
  Status Stop(const std::string& job) override;
  Status Adopt(const std::string& job, int rank, int pid) override;

  // Number of worker processes not yet reaped (all jobs).
  int running() const;
  // The log file of a rank.
  std::string LogPath(const std::string& job, int rank) const;
  std::string LogTail(const std::string& job, int rank) const override;
  StatusOr<LogChunk> ReadLog(const std::string& job, int rank, int64_t offset,
                             int max_bytes) const override;
  // The default worker binary: `cyclr-worker` next to this executable (/proc/self/exe).
  static std::string DefaultWorkerBinary();

 private:
  struct Process {
    std::string job;
    int rank = 0;
    std::chrono::steady_clock::time_point kill_at;  // SIGKILL deadline once stopping
    bool stopping = false;
    bool adopted = false;  // not our child: watched by pid, exit status unknown
  };
  StatusOr<int> Spawn(const v1::JobSpec& spec, int rank,
                      const std::string& worker_token);  // returns the pid
  void StopLocked(const std::string& job);               // REQUIRES mu_ held
  void ReapLoop();
  // One pass: collects exits, sends due SIGKILLs. REQUIRES mu_ held.
  std::vector<WorkerExit> ReapOnce();

  Options options_;
  WorkerExitCallback on_exit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Process> procs_;  // by pid; GUARDED_BY(mu_)
  bool done_ = false;             // GUARDED_BY(mu_)
  std::thread reaper_;
};

}  // namespace cyclr
