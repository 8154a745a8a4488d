#include "server/worker_registry.h"

namespace cyclr {

WorkerRegistry::WorkerRegistry(JobLookup lookup, std::chrono::milliseconds heartbeat_timeout)
    : lookup_(std::move(lookup)), heartbeat_timeout_(heartbeat_timeout) {}

int WorkerRegistry::AssignRank(const JobWorkers& j, int world_size) const {
  for (int r = 0; r < world_size; ++r) {
    if (!j.ranks.count(r)) return r;
  }
  return -1;
}

StatusOr<Registration> WorkerRegistry::Register(const std::string& job, int rank,
                                                int world_size, const std::string& host,
                                                int pid) {
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
    // The rank came back: a new process group. Old rendezvous keys stay under the old prefix.
    ++j.incarnation;
    ++j.restarts;
    j.ranks.clear();
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
  CYCLR_RETURN_IF_ERROR(lookup_(job).status());
  std::lock_guard<std::mutex> lock(mu_);
  jobs_[job].store[key] = value;
  cv_.notify_all();
  return Status::Ok();
}

StatusOr<std::vector<std::string>> WorkerRegistry::StoreGet(const std::string& job,
                                                            const std::vector<std::string>& keys,
                                                            std::chrono::milliseconds timeout) {
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
  cv_.wait_for(lock, timeout, [&] { return shutdown_ || missing().empty(); });
  std::vector<std::string> m = missing();
  if (!m.empty()) {
    if (shutdown_) return Status::Unavailable("coordinator is shutting down");
    std::string list;
    for (const auto& k : m) list += (list.empty() ? "" : ", ") + k;
    return Status::DeadlineExceeded("store keys not set within " +
                                    std::to_string(timeout.count()) + " ms: " + list);
  }
  std::vector<std::string> values;
  for (const auto& k : keys) values.push_back(j.store.at(k));
  return values;
}

void WorkerRegistry::NewIncarnation(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  JobWorkers& j = jobs_[job];
  ++j.incarnation;
  j.ranks.clear();
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

void WorkerRegistry::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

}  // namespace cyclr
