// JobManager, second part: worker exits, group restarts, heartbeats and adoption of the workers
// of an earlier coordinator (the policy is in job_manager.h).
#include <algorithm>
#include <cstdio>

#include "server/job_manager.h"
#include "server/manager_util.h"

namespace cyclr {

bool IsFinalWorkerError(const std::string& error) {
  return error.find("loss diverged") != std::string::npos;
}

bool JobManager::Managed(const Entry& e) const {
  return e.job.spec().launcher() != "external" && launcher_ != nullptr;
}

bool IsClusterLauncher(const std::string& launcher) {
  return launcher == "slurm" || launcher == "kubernetes";
}

bool JobManager::Restartable(const Entry& e) const {
  return Managed(e) && e.job.restarts() < e.job.spec().max_restarts();
}

void JobManager::Expect(Entry* e) {
  Clock::time_point now = Clock::now();
  e->group_started_unix_ms = NowUnixMs();
  for (int r = 0; r < e->job.spec().workers(); ++r) {
    RankState& rank = e->ranks[r];
    rank.finished = false;
    rank.heard = false;
    rank.last_seen = now;
    e->live.insert(r);
  }
}

JobManager::Followup JobManager::GroupFailed(Entry* e, const std::string& reason) {
  Followup f;
  if (!Restartable(*e)) {
    int max = e->job.spec().max_restarts();
    std::string why = reason;
    if (max > 0) {
      why += " (restarted " + std::to_string(e->job.restarts()) + " of " + std::to_string(max) +
             " times)";
    }
    f.stop = Finish(e, v1::FAILED, why);
    return f;
  }
  e->restarting = true;
  e->job.set_reason("restart " + std::to_string(e->job.restarts() + 1) + " of " +
                    std::to_string(e->job.spec().max_restarts()) + ": " + reason);
  std::fprintf(stderr, "cyclr: job %s: %s\n", e->job.name().c_str(), e->job.reason().c_str());
  Changed(e);
  f = MaybeRelaunch(e);
  f.stop = true;
  return f;
}

JobManager::Followup JobManager::MaybeRelaunch(Entry* e) {
  Followup f;
  if (!e->restarting || !e->live.empty()) return f;
  e->restarting = false;
  e->job.set_restarts(e->job.restarts() + 1);
  Expect(e);
  Changed(e);
  Status s = Persist(e, true);
  if (!s.ok())
    std::fprintf(stderr, "cyclr: saving job %s: %s\n", e->job.name().c_str(), s.ToString().c_str());
  f.relaunch = true;
  f.spec = e->job.spec();
  return f;
}

void JobManager::OnWorkerExit(const WorkerExit& x) {
  Followup f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(x.job);
    if (!e) return;
    e->live.erase(x.rank);
    if (IsTerminal(e->job.state())) return;
    RankState& rank = e->ranks[x.rank];
    if (e->restarting) {
      f = MaybeRelaunch(e);
    } else if (rank.finished && (x.ok() || !x.status_known)) {
      MaybeSucceed(e);
      Changed(e);
    } else {
      std::string why = "worker " + x.Describe();
      if (x.ok()) why += " before reporting finished";
      f = GroupFailed(e, why);
    }
  }
  Run(x.job, f);
}

std::string JobManager::Silence(const Entry& e, int r, Clock::time_point now) const {
  auto it = e.ranks.find(r);
  if (it == e.ranks.end() || it->second.finished) return "";
  const RankState& rank = it->second;
  const std::string who = "worker rank " + std::to_string(r);
  if (rank.heard) {
    if (now - rank.last_seen <= options_.heartbeat_timeout) return "";
    return who + " sent nothing for more than " +
           std::to_string(options_.heartbeat_timeout.count()) + " ms";
  }
  // A queued allocation: its workers cannot register before the scheduler starts them.
  if (e.job.cluster().queued()) return "";
  if (now - rank.last_seen <= options_.register_timeout) return "";
  return who + " did not register within " + std::to_string(options_.register_timeout.count()) +
         " ms of its start";
}

void JobManager::CheckHeartbeats(Clock::time_point now) {
  struct Silent {
    std::string job;
    int rank;
    bool registered;
  };
  std::vector<Silent> silent;
  Launcher* launcher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    launcher = launcher_;
    for (auto& [name, e] : jobs_) {
      if (IsTerminal(e.job.state()) || e.restarting || !Managed(e)) continue;
      for (int r = 0; r < e.job.spec().workers(); ++r) {
        if (Silence(e, r, now).empty()) continue;
        silent.push_back({name, r, e.ranks[r].heard});
        break;
      }
    }
  }
  if (silent.empty()) return;
  // A rank that never registered fails its group with its log's last lines, read unlocked (the
  // launcher may have to ask kubectl).
  std::vector<std::string> tails;
  for (const Silent& s : silent) {
    tails.push_back(s.registered || !launcher ? "" : launcher->LogTail(s.job, s.rank));
  }
  std::vector<std::pair<std::string, Followup>> failed;  // run once the lock is released
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < silent.size(); ++i) {
      Entry* e = Find(silent[i].job);
      if (!e || IsTerminal(e->job.state()) || e->restarting) continue;
      std::string why = Silence(*e, silent[i].rank, now);
      if (why.empty()) continue;  // heard from while the log was read
      if (!silent[i].registered) {
        why += tails[i].empty() ? " (its log is empty)" : "; its log ends: " + tails[i];
      }
      failed.emplace_back(silent[i].job, GroupFailed(e, why));
    }
  }
  for (const auto& [name, f] : failed) Run(name, f);
}

JobManager::Clock::time_point JobManager::GraceSeen(Clock::time_point now) const {
  return now + std::max(std::chrono::milliseconds(0),
                        options_.adoption_grace - options_.heartbeat_timeout);
}

void JobManager::GrantGrace(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point seen = GraceSeen(now);
  for (auto& [name, e] : jobs_) {
    if (IsTerminal(e.job.state()) || !Managed(e)) continue;
    for (auto& [r, rank] : e.ranks) rank.last_seen = std::max(rank.last_seen, seen);
  }
}

Status JobManager::OnRegister(const std::string& name, int rank, int pid, bool restart) {
  Launcher* adopt_with = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(name);
    if (!e) return Status::NotFound("job \"" + name + "\" not found");
    bool changed = restart || e->job.state() == v1::PENDING;
    if (e->job.state() == v1::PENDING) e->job.set_state(v1::RUNNING);
    if (restart) e->job.set_restarts(e->job.restarts() + 1);
    e->ranks[rank].last_seen = Clock::now();
    e->ranks[rank].heard = true;
    if (pid > 0) CYCLR_RETURN_IF_ERROR(store_->SaveWorkerPid(name, rank, pid));
    // (A cluster job's workers run elsewhere: the allocation is what its launcher watches.)
    const bool by_pid = Managed(*e) && !IsClusterLauncher(e->job.spec().launcher());
    if (pid > 0 && by_pid && !e->live.count(rank)) adopt_with = launcher_;
    if (changed) {
      Changed(e);
      CYCLR_RETURN_IF_ERROR(Persist(e, true));
    }
  }
  // A worker this coordinator did not start (a previous one did, or a person): watch it too.
  if (adopt_with && adopt_with->Adopt(name, rank, pid).ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (Entry* e = Find(name)) e->live.insert(rank);
  }
  return Status::Ok();
}

void JobManager::AdoptWorkers() {
  std::vector<std::pair<std::string, std::map<int, int>>> recorded;
  std::vector<v1::Job> allocations;  // cluster jobs: follow their allocation again
  Launcher* launcher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    launcher = launcher_;
    if (!launcher) return;
    for (auto& [name, e] : jobs_) {
      if (IsTerminal(e.job.state()) || !Managed(e)) continue;
      const Clock::time_point seen = GraceSeen(Clock::now());
      for (int r = 0; r < e.job.spec().workers(); ++r) {
        // Ranks of a RUNNING job had registered with the previous coordinator.
        e.ranks[r].last_seen = seen;
        e.ranks[r].heard = e.job.state() == v1::RUNNING;
        // The allocation holds every rank until the launcher reports its end.
        if (IsClusterLauncher(e.job.spec().launcher())) e.live.insert(r);
      }
      e.group_started_unix_ms = NowUnixMs();
      if (IsClusterLauncher(e.job.spec().launcher())) {
        allocations.push_back(e.job);
        continue;
      }
      StatusOr<std::map<int, int>> pids = store_->LoadWorkerPids(name);
      if (pids.ok()) recorded.emplace_back(name, std::move(*pids));
    }
  }
  for (const v1::Job& job : allocations) ReattachAllocation(launcher, job);
  for (const auto& [name, pids] : recorded) {
    for (const auto& [rank, pid] : pids) {
      if (!launcher->Adopt(name, rank, pid).ok()) continue;  // gone: heartbeats will tell
      std::lock_guard<std::mutex> lock(mu_);
      Find(name)->live.insert(rank);
    }
  }
}

void JobManager::Run(const std::string& name, const Followup& f) {
  if (f.stop) StopWorkers(name);
  if (!f.relaunch) return;
  if (options_.on_group_restart) options_.on_group_restart(name);
  Launcher* launcher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    launcher = launcher_;
  }
  Status s = launcher ? StartGroup(launcher, f.spec) : Status::FailedPrecondition("no launcher");
  bool stop = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(name);
    if (!e) return;
    if (!s.ok() && !IsTerminal(e->job.state())) {
      stop = Finish(e, v1::FAILED, "restarting the workers failed: " + s.message());
    }
    stop = stop || IsTerminal(e->job.state());  // stopped while the group was starting
  }
  if (stop) StopWorkers(name);
}

Status JobManager::StartGroup(Launcher* launcher, const v1::JobSpec& spec) {
  std::string token;
  if (options_.mint_worker_token) {
    CYCLR_ASSIGN_OR_RETURN(token, options_.mint_worker_token(spec.name()));
  }
  return launcher->Launch(spec, token);
}

}  // namespace cyclr
