// JobManager: jobs, their states and the progress aggregated from worker reports.
//
// States: PENDING (launched) -> RUNNING (a worker registered or reported) -> SUCCEEDED (every
// rank reported finished without error and, for local launches, exited 0) | FAILED (a worker
// reported an error or exited non-zero; the reason says which rank and why) | STOPPED (StopJob).
// A terminal state is final; it is persisted at once, the job's schedule is closed and, for
// FAILED/STOPPED, the launcher is asked to terminate the remaining workers.
//
// Aggregates: global_step = the steps every rank completed = 1 + min over all ranks of the index
// of the last step reported (only once every rank has reported; never decreases), loss = mean of the ranks' last losses, samples/s = sum,
// test_accuracy/epoch from the latest epoch report, lr/momentum/schedule_version = the timeline's
// value at global_step. Progress is persisted at most once per `persist_interval` (state changes
// at once) so reports stay cheap; workers re-report after a restart anyway.
//
// Lock order: JobManager -> ScheduleManager / alive probe; the launcher is called unlocked.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cyclr/v1/service.pb.h"
#include "server/launcher.h"
#include "server/schedule_manager.h"
#include "server/state_store.h"

namespace cyclr {

struct JobSnapshot {
  int64_t generation = 0;
  v1::Job job;
};

class JobManager {
 public:
  // Tells whether a rank is alive (the WorkerRegistry's heartbeats); may be empty (all false).
  using AliveProbe = std::function<bool(const std::string& job, int rank)>;
  struct Options {
    std::chrono::milliseconds persist_interval{1000};
  };

  // `store` and `schedules` must outlive this object.
  JobManager(StateStore* store, ScheduleManager* schedules, Options options,
             AliveProbe alive = nullptr);

  // Sets the launcher for `local` jobs (not owned; may stay null: local jobs then wait for
  // workers started by hand). Call before serving.
  void SetLauncher(Launcher* launcher);

  // Loads every job and its timeline from the store (at start-up, before serving).
  Status Recover();

  // Validates (job_spec_rules.h), persists the job with its first revision (effective step 0),
  // and starts local workers. ALREADY_EXISTS for a taken name.
  StatusOr<v1::Job> Launch(v1::JobSpec spec);
  StatusOr<v1::Job> Get(const std::string& name) const;
  std::vector<v1::Job> List() const;  // in creation order
  // STOPPED with `reason` (default "stopped by user"). FAILED_PRECONDITION if already terminal.
  StatusOr<v1::Job> Stop(const std::string& name, const std::string& reason);

  // The spec of a job that can still take workers: NOT_FOUND / FAILED_PRECONDITION (terminal).
  StatusOr<v1::JobSpec> SpecForWorkers(const std::string& name) const;
  // PENDING -> RUNNING (no-op otherwise).
  Status MarkRunning(const std::string& name);

  // Applies one batched worker report. Returns whether the worker must stop (job STOPPED or
  // FAILED). INVALID_ARGUMENT for a rank outside [0, workers) or a bad applied revision.
  StatusOr<bool> Report(const v1::ReportProgressRequest& report);
  // From the launcher: a worker process ended.
  void OnWorkerExit(const WorkerExit& exit);

  // Blocks until the job changed after `after`, Shutdown(), or `timeout`.
  StatusOr<JobSnapshot> WaitForChange(const std::string& name, int64_t after,
                                      std::chrono::milliseconds timeout) const;
  StatusOr<JobSnapshot> Snapshot(const std::string& name) const;

  // Persists pending progress and wakes every waiter.
  void Shutdown();

  static bool IsTerminal(v1::JobState s) {
    return s == v1::SUCCEEDED || s == v1::FAILED || s == v1::STOPPED;
  }

 private:
  struct RankState {
    v1::RankStatus status;
    bool reported = false;
    bool finished = false;
    bool exited_ok = false;
  };
  struct Entry {
    v1::Job job;  // without ranks
    std::map<int, RankState> ranks;
    int64_t generation = 1;
    std::chrono::steady_clock::time_point last_persist;
    bool dirty = false;
  };
  using Clock = std::chrono::steady_clock;

  // All REQUIRE mu_ held.
  Entry* Find(const std::string& name);
  const Entry* Find(const std::string& name) const;
  v1::Job ToJob(const Entry& e) const;
  void ApplySteps(Entry* e, const v1::ReportProgressRequest& r);
  void Aggregate(Entry* e);
  // Sets a terminal state; returns true if the launcher must stop the workers.
  bool Finish(Entry* e, v1::JobState state, const std::string& reason);
  void MaybeSucceed(Entry* e);
  Status Persist(Entry* e, bool force);
  void Changed(Entry* e);

  void StopWorkers(const std::string& name);  // REQUIRES mu_ NOT held

  StateStore* store_;
  ScheduleManager* schedules_;
  Options options_;
  AliveProbe alive_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Launcher* launcher_ = nullptr;         // GUARDED_BY(mu_)
  std::map<std::string, Entry> jobs_;    // GUARDED_BY(mu_)
  std::vector<std::string> order_;       // creation order; GUARDED_BY(mu_)
  bool shutdown_ = false;                // GUARDED_BY(mu_)
};

}  // namespace cyclr
