// JobManager: jobs, their states, the progress aggregated from worker reports, and what a
// worker failure does to its job.
//
// States: PENDING (launched) -> RUNNING (a worker registered or reported) -> SUCCEEDED (every
// rank reported finished without error and, for local launches, exited 0) | FAILED | STOPPED
// (StopJob). A terminal state is final; it is persisted at once, the job's schedule is closed and,
// for FAILED/STOPPED, the launcher is asked to terminate the remaining workers.
//
// Worker-group restarts (local jobs with a launcher, as torchrun's): a worker that exits non-zero,
// is killed, exits 0 before reporting finished, or goes silent (CheckHeartbeats: nothing for
// `register_timeout` from the group's start until it registers — a cold LibTorch start may take
// long — then nothing for `heartbeat_timeout` between reports) fails its *group*: the launcher
// stops every worker (SIGTERM, then SIGKILL) and, once all have exited and while restarts <
// spec.max_restarts, the group is started again (Options::on_group_restart runs first: a new
// rendezvous incarnation). The workers resume from the newest checkpoint by themselves.
// Job.restarts counts group restarts (persisted); past max_restarts the job is FAILED with the last
// reason plus "(restarted k of n times)". A reported error FAILS the job at once (no restart) when
// it is a divergence ("loss diverged
// ...": the same checkpoint and LR would diverge again) or when no launcher watches the job's
// processes (external jobs; their cluster engine restarts them, and a rank that registers again
// counts as a restart). Otherwise the worker is about to exit non-zero and the exits decide: the
// first one found is usually the cause (a killed rank) rather than its peers' lost-peer errors.
//
// Coordinator stalls (the process was stopped, swapped, starved): the silence the heartbeat check
// measures may be the coordinator's own. The coordinator calls GrantGrace() when its checker sees a
// gap in its own schedule, and every rank gets `adoption_grace` from then, as after a restart.
//
// Life cycle of stored jobs: Delete() forgets an ended job (state, timeline; Options::on_deleted
// lets the coordinator drop its metric series and rendezvous values); ExpireEnded() deletes the
// ones that ended longer ago than a retention period (the coordinator's --retain).
//
// Coordinator restarts: Recover() loads every job; AdoptWorkers() hands the pids that the
// previous coordinator's workers registered (persisted) to the launcher, which watches them by
// pid. Their reports are accepted as if they had registered here; an adopted worker that ends
// after reporting finished ended cleanly (its exit status cannot be known).
//
// Aggregates: global_step = the steps every rank completed = 1 + min over all ranks of the index
// of the last step reported (only once every rank has reported; never decreases), loss = mean of
// the ranks' last finite losses (NaN when none is finite), samples/s = sum, test_accuracy/epoch
// from the latest epoch report, lr/momentum/schedule_version = the timeline's value at global_step.
// Progress is persisted at most once per `persist_interval` (state changes at once) so reports stay
// cheap; workers re-report after a restart anyway.
//
// Lock order: JobManager -> ScheduleManager / alive probe / StateStore; the launcher and the
// restart hook are called unlocked. job_manager.cc holds the job life cycle and progress,
// job_manager_failures.cc the exits, restarts, heartbeats and adoption, job_manager_recovery.cc
// the recovery (with quarantine) and the quotas, job_manager_retention.cc listing, deletion and
// expiry.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/limits.h"
#include "cyclr/v1/service.pb.h"
#include "server/change_feed.h"
#include "server/launcher.h"
#include "server/schedule_manager.h"
#include "server/state_store.h"

namespace cyclr {

// Whether a worker's reported error ends its job without a restart: a divergence ("loss
// diverged"), which the same checkpoint and LR would only repeat.
bool IsFinalWorkerError(const std::string& error);
// Whether spec.launcher() names a cluster scheduler (slurm, kubernetes): the workers run in an
// allocation the launcher follows (Job.cluster).
bool IsClusterLauncher(const std::string& launcher);

struct JobSnapshot {
  int64_t generation = 0;
  v1::Job job;
};

class JobManager {
 public:
  // Tells whether a rank is alive (the WorkerRegistry's heartbeats); may be empty (all false).
  using AliveProbe = std::function<bool(const std::string& job, int rank)>;
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds persist_interval{1000};
    // A local worker that registered and then sent nothing for this long failed.
    std::chrono::milliseconds heartbeat_timeout{10000};
    // A local worker that did not register this long after its group started failed (torchrun
    // gives a joining worker 600 s; a cold first start of LibTorch can take tens of seconds).
    std::chrono::milliseconds register_timeout{300000};
    // After a coordinator restart, how long recovered local workers have to be heard from (at
    // least heartbeat_timeout): their reconnect backoffs (gRPC's channel, the progress
    // reporter's) grow while the coordinator is down.
    std::chrono::milliseconds adoption_grace{30000};
    // Runs (unlocked) right before a failed group's workers are started again.
    std::function<void(const std::string& job)> on_group_restart;
    // Runs (unlocked) after a job was deleted.
    std::function<void(const std::string& job)> on_deleted;
    // Makes the credential of a local job's worker group, right before the launcher starts it
    // (at launch and at each group restart: the previous group's credential stops working).
    // Empty: no credential ("").
    std::function<StatusOr<std::string>(const std::string& job)> mint_worker_token;
    // Checks a launched spec's paths (path_policy.h) before any file is looked at. Empty: none.
    std::function<Status(const v1::JobSpec& spec)> check_paths;
    // Quotas (RESOURCE_EXHAUSTED at Launch): jobs held (every stored job, finished ones too) and
    // workers of the unfinished local jobs together (the coordinator's --max-jobs and
    // --max-local-workers).
    int max_jobs = limits::kDefaultMaxJobs;
    int max_local_workers = limits::kDefaultMaxLocalWorkers;
  };

  // `store` and `schedules` must outlive this object.
  JobManager(StateStore* store, ScheduleManager* schedules, Options options,
             AliveProbe alive = nullptr);

  // Sets the launcher for `local` jobs (not owned; may stay null: local jobs then wait for
  // workers started by hand). Call before serving.
  void SetLauncher(Launcher* launcher);

  // Loads every job and its timeline from the store (at start-up, before serving). Rows are
  // decoded by state_rows.h: a job whose row or revisions are bad is quarantined — loaded as
  // FAILED with reason "quarantined at recovery: <why>" (persisted), its timeline the revisions
  // that decoded, served like any job — and every other job starts normally. A row whose name is
  // not a job name is skipped (logged). Only SQLite errors fail the recovery.
  Status Recover();

  // Validates (job_spec_rules.h), persists the job with its first revision (effective step 0),
  // and starts local workers. ALREADY_EXISTS for a taken name; RESOURCE_EXHAUSTED when the job
  // would exceed Options::max_jobs or (local jobs) Options::max_local_workers.
  StatusOr<v1::Job> Launch(v1::JobSpec spec);
  StatusOr<v1::Job> Get(const std::string& name) const;
  std::vector<v1::Job> List() const;  // in creation order
  // One page of List(): at most `page_size` jobs (0 = kDefaultListPageSize, at most
  // kMaxListPageSize) created after the job `page_token` names ("" = from the first).
  // INVALID_ARGUMENT for a token that ListPage did not hand out.
  StatusOr<v1::ListJobsResponse> ListPage(int page_size, const std::string& page_token) const;
  // STOPPED with `reason` (default "stopped by user"). FAILED_PRECONDITION if already terminal.
  StatusOr<v1::Job> Stop(const std::string& name, const std::string& reason);
  // Forgets an ended job (state store rows included). NOT_FOUND; FAILED_PRECONDITION while it
  // has not ended ("stop it first").
  Status Delete(const std::string& name);
  // Deletes every job that ended (updated_unix_ms) `retain` or longer before `now_unix_ms`;
  // returns their names.
  std::vector<std::string> ExpireEnded(int64_t now_unix_ms, std::chrono::milliseconds retain);

  // The spec of a job that can still take workers: NOT_FOUND / FAILED_PRECONDITION (terminal).
  StatusOr<v1::JobSpec> SpecForWorkers(const std::string& name) const;
  // A worker registered: PENDING -> RUNNING, its pid is recorded (for a later coordinator to
  // adopt) and, when no launched process is known for the rank, handed to the launcher to watch.
  // `restart`: the rank had registered before (counted in Job.restarts).
  Status OnRegister(const std::string& name, int rank, int pid, bool restart);

  // Applies one batched worker report. Returns whether the worker must stop (job STOPPED or
  // FAILED). INVALID_ARGUMENT for a rank outside [0, workers) or a bad applied revision.
  // REQUIRES the report passed CheckRequest (request_limits.h): steps are then < kMaxStep, so
  // global_step + 1 cannot overflow.
  StatusOr<bool> Report(const v1::ReportProgressRequest& report);
  // From the launcher: a worker process ended.
  void OnWorkerExit(const WorkerExit& exit);
  // From a cluster launcher: the job's allocation changed (kept as Job.cluster, persisted when
  // its state changes). When it stops being queued, the ranks' registration timeout starts.
  void OnClusterChange(const std::string& job, const v1::ClusterJob& cluster);
  // After SetLauncher, at start-up: adopts the recorded workers of every unfinished local job and
  // gives each rank max(heartbeat_timeout, adoption_grace) from now to report.
  void AdoptWorkers();
  // Fails the group of every unfinished local job with a rank silent for too long at `now`
  // (`register_timeout` before it registered, `heartbeat_timeout` after; the coordinator calls it
  // periodically). A rank that never registered fails it with the last lines of its log.
  void CheckHeartbeats(Clock::time_point now);
  // The coordinator itself was stalled until `now`: every rank of an unfinished local job counts
  // as heard from no earlier than max(heartbeat_timeout, adoption_grace) before its deadline.
  void GrantGrace(Clock::time_point now);

  StatusOr<JobSnapshot> Snapshot(const std::string& name) const;
  // The job's spec.launcher(), "" for an unknown job (a LauncherRouter's KindOf).
  std::string LauncherOf(const std::string& name) const;

  // A piece of a rank's log from the job's launcher (Launcher::ReadLog; called without mu_
  // held, it may run kubectl). NOT_FOUND for an unknown job or a log that does not exist;
  // INVALID_ARGUMENT for a rank outside [0, workers); FAILED_PRECONDITION for an external job
  // (its logs are wherever its workers run).
  StatusOr<LogChunk> ReadWorkerLog(const std::string& name, int rank, int64_t offset,
                                   int max_bytes) const;

  // The loss curve of an LR range test (job_manager_curve.cc): its points as stored, in step
  // order. NOT_FOUND; FAILED_PRECONDITION for a job whose schedule is not a range test.
  StatusOr<v1::LossCurve> LossCurve(const std::string& name) const;

  // Push notification of the job's changes, as ScheduleManager::Subscribe (change_feed.h): the
  // listener gets one shared snapshot per change (v1::Job built once per generation) on the
  // manager's feed thread, no lock held. Returns its id and the current snapshot; NOT_FOUND.
  using Listener = ChangeFeed<JobSnapshot>::Listener;
  using Subscription = ChangeFeed<JobSnapshot>::Subscription;
  StatusOr<Subscription> Subscribe(const std::string& name, Listener listener);
  void Unsubscribe(const std::string& name, int64_t id);

  // Persists pending progress (called at the coordinator's shutdown).
  void Shutdown();

  static bool IsTerminal(v1::JobState s) {
    return s == v1::SUCCEEDED || s == v1::FAILED || s == v1::STOPPED;
  }

 private:
  struct RankState {
    v1::RankStatus status;
    bool reported = false;
    bool finished = false;
    bool heard = false;           // registered or reported since its group started
    Clock::time_point last_seen;  // registration or report; set for all ranks at launch
  };
  struct Entry {
    int64_t seq = 0;  // creation order (the ListPage cursor)
    v1::Job job;      // without ranks
    std::map<int, RankState> ranks;
    int64_t generation = 1;
    std::chrono::steady_clock::time_point last_persist;
    bool dirty = false;
    std::set<int> live;                 // ranks with a process the launcher watches
    bool restarting = false;            // the group failed; waiting for `live` to empty
    int64_t group_started_unix_ms = 0;  // Expect()'s time: since when ranks are awaited
    std::string finish_note;            // rank 0's note with `finished` (SUCCEEDED's reason)
  };
  // What to do once the lock is released.
  struct Followup {
    bool stop = false;      // launcher->Stop(job)
    bool relaunch = false;  // on_group_restart, then launcher->Launch(spec)
    v1::JobSpec spec;
  };

  // All REQUIRE mu_ held.
  Status CheckQuotas(const v1::JobSpec& spec) const;
  // Recovery of one stored job (job_manager_recovery.cc); REQUIRES mu_ NOT held.
  Status RecoverJob(const JobRow& row);
  Entry* Find(const std::string& name);
  const Entry* Find(const std::string& name) const;
  v1::Job ToJob(const Entry& e) const;
  void ApplySteps(Entry* e, const v1::ReportProgressRequest& r);
  // A range test's curve points and training set size, from rank 0 (persisted before the report
  // is acknowledged), and rank 0's note with `finished`. INVALID_ARGUMENT: curve points or
  // train_examples from another rank;
  // FAILED_PRECONDITION: curve points for a job that is not a range test.
  Status ApplyRangeTest(Entry* e, const v1::ReportProgressRequest& r);
  void Aggregate(Entry* e);
  // Sets a terminal state; returns true if the launcher must stop the workers.
  bool Finish(Entry* e, v1::JobState state, const std::string& reason);
  void MaybeSucceed(Entry* e);
  Status Persist(Entry* e, bool force);
  void Changed(Entry* e);

  bool Restartable(const Entry& e) const;
  // The group failed: restart it (when restartable and restarts are left) or FAIL the job.
  Followup GroupFailed(Entry* e, const std::string& reason);
  // Starts the new group once every process of the failed one ended.
  Followup MaybeRelaunch(Entry* e);
  void Expect(Entry* e);  // every rank is expected to run (live) and report from now
  // The silence that fails `rank`, or "" (REQUIRES mu_ held).
  std::string Silence(const Entry& e, int rank, Clock::time_point now) const;
  // The "last heard" time that gives a rank max(heartbeat_timeout, adoption_grace) from `now`
  // (after a coordinator restart or stall).
  Clock::time_point GraceSeen(Clock::time_point now) const;
  Entry& AddEntry(v1::Job job);  // REQUIRES mu_ held; the next seq
  // A launcher starts and watches the job's workers (every launcher but external).
  bool Managed(const Entry& e) const;

  void StopWorkers(const std::string& name);  // REQUIRES mu_ NOT held
  // A new worker credential, then the launcher's Launch (REQUIRES mu_ NOT held).
  Status StartGroup(Launcher* launcher, const v1::JobSpec& spec);
  void Run(const std::string& name, const Followup& f);  // REQUIRES mu_ NOT held
  // Recovery of a cluster job: the launcher follows its allocation again, or the group failed
  // (job_manager_cluster.cc). REQUIRES mu_ NOT held.
  void ReattachAllocation(Launcher* launcher, const v1::Job& job);

  StateStore* store_;
  ScheduleManager* schedules_;
  Options options_;
  AliveProbe alive_;
  mutable std::mutex mu_;
  Launcher* launcher_ = nullptr;          // GUARDED_BY(mu_)
  std::map<std::string, Entry> jobs_;     // GUARDED_BY(mu_)
  std::map<int64_t, std::string> order_;  // seq -> name, creation order; GUARDED_BY(mu_)
  int64_t next_seq_ = 1;                  // GUARDED_BY(mu_)
  // Last member: its thread reads the ones above and stops first.
  ChangeFeed<JobSnapshot> feed_{[this](const std::string& name) {
    StatusOr<JobSnapshot> snap = Snapshot(name);
    return snap.ok() ? std::make_shared<const JobSnapshot>(std::move(*snap)) : nullptr;
  }};
};

}  // namespace cyclr
