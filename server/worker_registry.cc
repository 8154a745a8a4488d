#include "server/worker_registry.h"

#include <algorithm>

#include "core/limits.h"
#include "server/manager_util.h"

namespace cyclr {
namespace {

std::string Bytes(size_t n) { return std::to_string(n) + " bytes"; }

}  // namespace

WorkerRegistry::WorkerRegistry(JobLookup lookup, std::chrono::milliseconds heartbeat_timeout)
    : lookup_(std::move(lookup)), heartbeat_timeout_(heartbeat_timeout) {}

int WorkerRegistry::AssignRank(const JobWorkers& j, int world_size) const {
  for (int r = 0; r < world_size; ++r) {
    if (!j.ranks.count(r)) return r;
  }
  return -1;
}

StatusOr<Registration> WorkerRegistry::Register(const std::string& job, int rank, int world_size,
                                                const std::string& host, int pid) {
  CYCLR_ASSIGN_OR_RETURN(v1::JobSpec spec, lookup_(job));
  if (world_size != spec.workers()) {
    return Status::InvalidArgument("world_size (" + std::to_string(world_size) +
                                   ") must equal the job's workers (" +
                                   std::to_string(spec.workers()) + ")");
  }
  if (rank < -1 || rank >= world_size) {
    return Status::InvalidArgument("rank (" + std::to_string(rank) +
                                   ") must be -1 (assign) or between 0 and " +
                                   std::to_string(world_size - 1));
  }
  std::lock_guard<std::mutex> lock(mu_);
  JobWorkers& j = jobs_[job];
  if (rank == -1) {
    rank = AssignRank(j, world_size);
    if (rank == -1) {
      return Status::FailedPrecondition("all " + std::to_string(world_size) + " ranks of job \"" +
                                        job + "\" are registered");
    }
  }
  auto previous = j.ranks.find(rank);
  bool restart = previous != j.ranks.end() && previous->second.registered;
  if (restart) {
    // The rank came back: a new process group under a new prefix.
    NextIncarnation(job, &j);
    ++j.restarts;
  }
  j.ranks[rank] = Worker{host, pid, Clock::now(), true};
  Registration reg;
  reg.rank = rank;
  reg.world_size = world_size;
  reg.spec = std::move(spec);
  reg.incarnation = j.incarnation;
  reg.restart = restart;
  reg.store_prefix = job + "/" + std::to_string(j.incarnation) + "/";
  return reg;
}

Status WorkerRegistry::StoreSet(const std::string& job, const std::string& key,
                                const std::string& value) {
  if (key.empty()) return Status::InvalidArgument("key must not be empty");
  if (key.size() > limits::kMaxStoreKeyBytes || value.size() > limits::kMaxStoreValueBytes) {
    return Status::InvalidArgument(
        "store key " + limits::Echo(key) + " (" + Bytes(key.size()) + ") or its value (" +
        Bytes(value.size()) + ") is over kMaxStoreKeyBytes (" + Bytes(limits::kMaxStoreKeyBytes) +
        ") / kMaxStoreValueBytes (" + Bytes(limits::kMaxStoreValueBytes) + ")");
  }
  CYCLR_RETURN_IF_ERROR(lookup_(job).status());
  std::lock_guard<std::mutex> lock(mu_);
  JobWorkers& j = jobs_[job];
  auto it = j.store.find(key);
  size_t replaced = it == j.store.end() ? 0 : key.size() + it->second.size();
  size_t total = j.store_bytes - replaced + key.size() + value.size();
  if (total > limits::kMaxStoreBytesPerJob) {
    return Status::ResourceExhausted("job \"" + job + "\"'s rendezvous store would hold " +
                                     Bytes(total) + "; the limit is kMaxStoreBytesPerJob (" +
                                     Bytes(limits::kMaxStoreBytesPerJob) + ")");
  }
  j.store[key] = value;
  j.store_bytes = total;
  cv_.notify_all();
  return Status::Ok();
}

// Waits on the condition variable in slices of kStoreWaitSlice, not for the whole timeout: a
// sync-server handler cannot be woken by gRPC when its client goes away, so it polls the
// caller's `cancelled` (ServerContext::IsCancelled). Moving StoreGet to the callback API would
// need a timer and a waiter list per call for the same effect; with at most kMaxStoreWaiters
// waiters the polling costs ~20 wake-ups per second each and bounds the threads.
StatusOr<std::vector<std::string>> WorkerRegistry::StoreGet(
    const std::string& job, const std::vector<std::string>& keys, std::chrono::milliseconds timeout,
    const std::function<bool()>& cancelled) {
  if (keys.empty()) return Status::InvalidArgument("keys must not be empty");
  CYCLR_RETURN_IF_ERROR(lookup_(job).status());
  std::unique_lock<std::mutex> lock(mu_);
  JobWorkers& j = jobs_[job];
  auto missing = [&] {
    std::vector<std::string> m;
    for (const auto& k : keys) {
      if (!j.store.count(k)) m.push_back(k);
    }
    return m;
  };
  if (!missing().empty()) {
    if (waiters_ >= limits::kMaxStoreWaiters) {
      return Status::ResourceExhausted(std::to_string(waiters_) +
                                       " StoreGet calls are waiting already, the most "
                                       "kMaxStoreWaiters (" +
                                       std::to_string(limits::kMaxStoreWaiters) + ") allows");
    }
    ++waiters_;
    ++j.getters;
    const Clock::time_point deadline = Clock::now() + timeout;
    bool gave_up = false;
    while (!shutdown_ && !j.removed && !missing().empty()) {
      if (cancelled && cancelled()) {
        gave_up = true;
        break;
      }
      Clock::time_point now = Clock::now();
      if (now >= deadline) break;
      cv_.wait_until(lock, std::min(deadline, now + kStoreWaitSlice));
    }
    --waiters_;
    --j.getters;
    if (j.removed) {
      if (j.getters == 0) jobs_.erase(job);
      return UnknownJob(job);
    }
    if (gave_up) return Status(StatusCode::kCancelled, "StoreGet cancelled by the caller");
  }
  std::vector<std::string> m = missing();
  if (!m.empty()) {
    if (shutdown_) return Status::Unavailable("coordinator is shutting down");
    std::string list;
    for (const auto& k : m) list += (list.empty() ? "" : ", ") + k;
    return Status::DeadlineExceeded("store keys not set within " + std::to_string(timeout.count()) +
                                    " ms: " + list);
  }
  // A key may be asked for many times: the reply, not only the store, is bounded.
  size_t reply = 0;
  for (const auto& k : keys) reply += j.store.at(k).size();
  if (reply > limits::kMaxStoreBytesPerJob) {
    return Status::ResourceExhausted("the values asked for are " + Bytes(reply) +
                                     ", more than kMaxStoreBytesPerJob (" +
                                     Bytes(limits::kMaxStoreBytesPerJob) + ") in one reply");
  }
  std::vector<std::string> values;
  for (const auto& k : keys) values.push_back(j.store.at(k));
  return values;
}

int WorkerRegistry::store_waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_;
}

size_t WorkerRegistry::store_bytes(const std::string& job) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : it->second.store_bytes;
}

void WorkerRegistry::NextIncarnation(const std::string& job, JobWorkers* j) {
  const std::string old_prefix = job + "/" + std::to_string(j->incarnation) + "/";
  for (auto it = j->store.lower_bound(old_prefix);
       it != j->store.end() && it->first.compare(0, old_prefix.size(), old_prefix) == 0;) {
    j->store_bytes -= it->first.size() + it->second.size();
    it = j->store.erase(it);
  }
  ++j->incarnation;
  j->ranks.clear();
}

void WorkerRegistry::NewIncarnation(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  NextIncarnation(job, &jobs_[job]);
}

void WorkerRegistry::Heartbeat(const std::string& job, int rank) {
  std::lock_guard<std::mutex> lock(mu_);
  Worker& w = jobs_[job].ranks[rank];
  w.last_heartbeat = Clock::now();
}

bool WorkerRegistry::Alive(const std::string& job, int rank) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return false;
  auto r = it->second.ranks.find(rank);
  return r != it->second.ranks.end() &&
         Clock::now() - r->second.last_heartbeat < heartbeat_timeout_;
}

int WorkerRegistry::AliveCount(const std::string& job) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return 0;
  int n = 0;
  for (const auto& [rank, w] : it->second.ranks) {
    if (Clock::now() - w.last_heartbeat < heartbeat_timeout_) ++n;
  }
  return n;
}

int64_t WorkerRegistry::Restarts(const std::string& job) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : it->second.restarts;
}

void WorkerRegistry::RemoveJob(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return;
  it->second.removed = true;  // a waiting StoreGet holds a reference: it erases the entry
  if (it->second.getters == 0) jobs_.erase(it);
  cv_.notify_all();
}

void WorkerRegistry::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

}  // namespace cyclr
