// Launcher: starts and stops a job's worker processes.
//
// One implementation per spec.launcher(): LocalLauncher (`local`: processes on this machine),
// SlurmLauncher (`slurm`: a batch job, one task per rank), KubernetesLauncher (`kubernetes`: an
// Indexed Job, one pod per rank); LauncherRouter hands each job to its own. `external` jobs start
// no processes (someone else starts the workers, which register themselves), so no launcher is
// called. A launcher reports every worker exit through the callback it was built with; the
// JobManager decides what an exit means (restart the group, FAILED, or a clean end). A cluster
// launcher reports the end of its allocation as an exit of every rank still running, and the
// allocation's changes (queued, running on which nodes, ended why) through a ClusterCallback.
//
// Adopt() takes over a worker started by an earlier coordinator process (it is not our child, so
// its exit status cannot be known): the launcher watches it by pid, reports its end with
// status_known = false, and stops it like its own.
#pragma once

#include <cstdint>
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
// A cluster launcher's allocation changed (state, nodes, reason); called from the launcher's own
// thread without any of its locks held.
using ClusterCallback = std::function<void(const std::string& job, const v1::ClusterJob&)>;

// A piece of a rank's log (Launcher::ReadLog).
struct LogChunk {
  std::string data;
  int64_t offset = 0;  // where data starts in the log
  int64_t size = 0;    // the log's size when it was read
  std::string source;  // "/path/worker-0.log", "kubectl logs -n ns pod/x"
  int64_t next_offset() const { return offset + static_cast<int64_t>(data.size()); }
};

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
  // At most `max_bytes` of a rank's log from `offset` (negative: that many bytes before its
  // end; past the end: empty data). NOT_FOUND when the launcher has no such log (yet). May
  // block for a subprocess (kubectl), never while a lock of the caller is held. Thread-safe.
  virtual StatusOr<LogChunk> ReadLog(const std::string& job, int rank, int64_t offset,
                                     int max_bytes) const {
    (void)rank, (void)offset, (void)max_bytes;
    return Status::NotFound("no worker logs are kept for job \"" + job + "\"");
  }
  // After a coordinator restart: follow again the allocation of a recovered job that this
  // launcher started before (job.cluster() names it); its end is reported as Launch()'s would
  // be. OK and a no-op for launchers without allocations (local workers are adopted by pid).
  virtual Status Reattach(const v1::Job& job) {
    (void)job;
    return Status::Ok();
  }
};

}  // namespace cyclr
