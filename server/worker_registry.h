// WorkerRegistry: who joined each job (ranks), the rendezvous key-value store, and heartbeats.
//
// Register checks the job through a lookup function (the JobManager's SpecForWorkers: NOT_FOUND
// for an unknown job, FAILED_PRECONDITION for an ended one), so the registry depends on no other
// manager. Ranks are taken from the request or assigned in order (-1). A rank that registers
// again starts a new incarnation of the job's process group: store_prefix = "<job>/<n>/" changes,
// so stale rendezvous keys of the old group are never read, and the restart is counted.
//
// Store keys live per job. StoreGet waits up to the given timeout for every key and names the
// missing ones in DEADLINE_EXCEEDED. Limits (core/limits.h): a key is 1..kMaxStoreKeyBytes, a
// value at most kMaxStoreValueBytes, one job's keys + values at most kMaxStoreBytesPerJob
// (RESOURCE_EXHAUSTED; overwriting a key replaces its bytes, and a new incarnation drops the keys
// under the previous one's prefix), and at most kMaxStoreWaiters StoreGet calls wait at once
// (RESOURCE_EXHAUSTED beyond: each holds a sync-server thread). A waiting StoreGet re-checks its
// caller's `cancelled` probe every kStoreWaitSlice, so a cancelled or expired call frees its
// thread within that time. A rank is alive while its last heartbeat (Register or a
// progress report) is younger than `heartbeat_timeout`. Only a registration (not a report) makes
// a later registration of the same rank a restart. Thread-safe; never calls out while
// holding its lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

struct Registration {
  int rank = 0;
  int world_size = 0;
  v1::JobSpec spec;
  std::string store_prefix;
  int64_t incarnation = 0;
  bool restart = false;  // the rank had registered before: a new incarnation began
};

class WorkerRegistry {
 public:
  using JobLookup = std::function<StatusOr<v1::JobSpec>(const std::string& job)>;
  using Clock = std::chrono::steady_clock;

  WorkerRegistry(JobLookup lookup, std::chrono::milliseconds heartbeat_timeout);

  // REQUIRES rank == -1 or 0 <= rank < world_size. INVALID_ARGUMENT when world_size differs
  // from the job's workers or the rank is out of range; FAILED_PRECONDITION when every rank is
  // taken (rank -1).
  StatusOr<Registration> Register(const std::string& job, int rank, int world_size,
                                  const std::string& host, int pid);

  // How often a waiting StoreGet polls `cancelled` (a store write wakes it at once).
  static constexpr std::chrono::milliseconds kStoreWaitSlice{50};

  Status StoreSet(const std::string& job, const std::string& key, const std::string& value);
  // Values in the order of `keys`; waits up to `timeout` for all of them. RESOURCE_EXHAUSTED when
  // they would total more than kMaxStoreBytesPerJob (a key repeated). CANCELLED as soon as
  // `cancelled` (may be empty; called with the registry's lock held, must not block) says so.
  StatusOr<std::vector<std::string>> StoreGet(const std::string& job,
                                              const std::vector<std::string>& keys,
                                              std::chrono::milliseconds timeout,
                                              const std::function<bool()>& cancelled = nullptr);
  // StoreGet calls waiting now.
  int store_waiters() const;
  // Bytes (keys + values) in the job's store.
  size_t store_bytes(const std::string& job) const;

  // Starts a new incarnation of the job's process group without a registration (the
  // coordinator restarts the whole group): every rank registers afresh under a new store
  // prefix, so keys of the old group are never read. Not counted in Restarts().
  void NewIncarnation(const std::string& job);

  void Heartbeat(const std::string& job, int rank);
  bool Alive(const std::string& job, int rank) const;
  int AliveCount(const std::string& job) const;
  // Registrations of a rank that was already registered (worker restarts).
  int64_t Restarts(const std::string& job) const;

  // Forgets the job's ranks, store values and restart count (a deleted job). StoreGet calls
  // waiting on it fail with NOT_FOUND.
  void RemoveJob(const std::string& job);

  // Wakes StoreGet waiters; they fail with UNAVAILABLE.
  void Shutdown();

 private:
  struct Worker {
    std::string host;
    int pid = 0;
    Clock::time_point last_heartbeat;
    // Registered in this incarnation (a progress report alone, e.g. from a worker that
    // registered with an earlier coordinator or group, only proves it alive).
    bool registered = false;
  };
  struct JobWorkers {
    std::map<int, Worker> ranks;  // of the current incarnation
    int64_t incarnation = 0;
    int64_t restarts = 0;
    std::map<std::string, std::string> store;
    size_t store_bytes = 0;  // keys + values in `store`
    int getters = 0;         // StoreGet calls holding a reference to this entry
    bool removed = false;    // RemoveJob() ran; the last getter erases the entry
  };
  int AssignRank(const JobWorkers& j, int world_size) const;  // -1 if none is free
  // A new incarnation: drops the previous one's keys ("<job>/<n>/..."). REQUIRES mu_ held.
  static void NextIncarnation(const std::string& job, JobWorkers* j);

  JobLookup lookup_;
  std::chrono::milliseconds heartbeat_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, JobWorkers> jobs_;  // GUARDED_BY(mu_)
  bool shutdown_ = false;                   // GUARDED_BY(mu_)
  int waiters_ = 0;                         // GUARDED_BY(mu_)
};

}  // namespace cyclr
