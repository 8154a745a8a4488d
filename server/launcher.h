// Launcher: starts and stops a job's worker processes.
//
// `local` jobs are started by LocalLauncher on this machine; `external` jobs start no processes
// (Slurm or Kubernetes start the workers, which register themselves), so no launcher is called.
// A launcher reports every worker exit through the callback it was built with; the JobManager
// decides what an exit means (restart the group, FAILED, or a clean end).
//
// Adopt() takes over a worker started by an earlier coordinator process (it is not our child, so
// its exit status cannot be known): the launcher watches it by pid, reports its end with
// status_known = false, and stops it like its own.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

struct WorkerExit {
  std::string job;
  int rank = 0;
  int exit_code = 0;          // valid when signal == 0
  int signal = 0;             // the terminating signal, 0 if it exited normally
  std::string last_log_line;  // the last non-empty line of the worker's log, if any
  bool status_known = true;   // false for an adopted worker (not our child): it ended, somehow
  int pid = 0;

  bool ok() const { return status_known && signal == 0 && exit_code == 0; }
  // "rank 1 exited with code 3" / "rank 0 was killed by signal 9 (Killed)" / "rank 0 (pid 12,
  // adopted) ended with an unknown status", plus the log line.
  std::string Describe() const;
};

using WorkerExitCallback = std::function<void(const WorkerExit&)>;

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts spec.workers() processes for the job, each with `worker_token` (the job's worker
  // credential; "" when authentication is off) in its environment as CYCLR_WORKER_TOKEN — never
  // on a command line, which every local user can read. Returns once they are started (not
  // finished); UNAVAILABLE/INTERNAL if a process could not be started (the ones started are
  // stopped).
  virtual Status Launch(const v1::JobSpec& spec, const std::string& worker_token) = 0;
  // Asks the job's remaining workers to terminate (SIGTERM, then SIGKILL after a grace period).
  // Does not block; exits are still reported. OK if the job has no running workers.
  virtual Status Stop(const std::string& job) = 0;
  // Watches a running worker of `job` that this launcher did not start (see above). OK and a
  // no-op when the pid is already watched; NOT_FOUND when no such worker process runs (gone, or
  // the pid now belongs to another program).
  virtual Status Adopt(const std::string& job, int rank, int pid) = 0;
  // The last lines of a worker's log (a few, cut to ~1 KB), for a failure's reason; "" when the
  // launcher keeps no log. Thread-safe.
  virtual std::string LogTail(const std::string& job, int rank) const {
    (void)job;
    (void)rank;
    return "";
  }
};

}  // namespace cyclr
