// SlurmLauncher: runs a job's workers as one Slurm batch job (launcher slurm), as TorchX's slurm
// scheduler does: one task per rank, rank = SLURM_PROCID.
//
// Launch writes <work_dir>/jobs/<job>/{worker.token (0600), slurm-job.sh} (slurm_script.h) and
// submits the script with `sbatch --parsable`; the work dir must be on a filesystem the nodes
// share (the workers read the credential and append their logs there), and the worker binary
// must be at the same path on every node. A follower thread asks `scontrol show job -o ID` (or
// `sacct`, once scontrol has forgotten the job) about every followed allocation each
// `poll_interval`, reports its changes through the ClusterCallback (queued while PENDING) and,
// when it ends, the exit of every rank: code 0 when the batch script completed, else its exit
// code or signal, with Slurm's state and reason in last_log_line ("Slurm job 42 TIMEOUT") — the
// JobManager then restarts the group (a new sbatch from the newest checkpoint) or ends the job.
// Stop runs `scancel ID`; the end is reported by the follower as for any other end. Callbacks
// run on the follower thread (or, for Launch errors, not at all) without this object's lock.
//
// The Slurm commands come from `bin_dir` (empty: PATH) and never go through a shell; sbatch is
// given the job's #SBATCH options in the script, the output path on its command line.
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
#include "server/slurm_script.h"

namespace cyclr {

class SlurmLauncher : public Launcher {
 public:
  struct Options {
    std::string bin_dir;  // where sbatch, scontrol, sacct and scancel are ("" = PATH)
    std::string worker_binary;
    std::string coordinator_address;  // what the workers dial (reachable from the nodes)
    std::string work_dir;             // shared with the nodes
    TlsFiles worker_tls;
    std::chrono::milliseconds poll_interval{2000};
    std::chrono::milliseconds command_timeout{30000};
  };

  SlurmLauncher(Options options, WorkerExitCallback on_exit, ClusterCallback on_change);
  ~SlurmLauncher() override;  // stops following; the allocations keep running

  // FAILED_PRECONDITION with sbatch's own words when it refuses (unknown partition, quota, no
  // sbatch on PATH); the job folder may then hold the script, nothing runs.
  Status Launch(const v1::JobSpec& spec, const std::string& worker_token) override;
  Status Stop(const std::string& job) override;
  // Workers in an allocation are not adopted by pid: OK when the job's allocation is followed,
  // else NOT_FOUND.
  Status Adopt(const std::string& job, int rank, int pid) override;
  std::string LogTail(const std::string& job, int rank) const override;
  StatusOr<LogChunk> ReadLog(const std::string& job, int rank, int64_t offset,
                             int max_bytes) const override;
  // Follows job.cluster().id() again (NOT_FOUND when the job has none).
  Status Reattach(const v1::Job& job) override;

  // The script Launch writes for a job, and the files it names.
  std::string JobDir(const std::string& job) const;
  std::string LogPath(const std::string& job, int rank) const;

 private:
  struct Allocation {
    std::string id;
    int workers = 0;
    int submissions = 0;
    v1::ClusterJob last;  // as last reported
  };
  struct Event {  // what one poll found, reported once the lock is released
    std::string job;
    v1::ClusterJob cluster;
    bool changed = false;
    bool ended = false;
    SlurmJobInfo info;
    int workers = 0;
  };

  std::string Tool(const std::string& name) const;
  StatusOr<std::string> Submit(const v1::JobSpec& spec, const std::string& worker_token);
  StatusOr<SlurmJobInfo> Query(const std::string& id) const;  // scontrol, then sacct
  void FollowLoop();
  void PollOnce();
  Event Observe(const std::string& job, const std::string& id, const StatusOr<SlurmJobInfo>& info);
  void Report(const Event& e);

  Options options_;
  WorkerExitCallback on_exit_;
  ClusterCallback on_change_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Allocation> jobs_;  // followed, by job name; GUARDED_BY(mu_)
  std::map<std::string, int> submissions_;  // sbatch calls per job; GUARDED_BY(mu_)
  bool done_ = false;                       // GUARDED_BY(mu_)
  std::thread follower_;
};

}  // namespace cyclr
