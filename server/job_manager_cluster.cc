// JobManager, fourth part: jobs whose workers a cluster scheduler runs (launcher slurm or
// kubernetes): the allocation's changes as the launcher reports them, and following it again
// after a coordinator restart.
#include <cstdio>

#include "server/job_manager.h"
#include "server/manager_util.h"

namespace cyclr {

void JobManager::OnClusterChange(const std::string& name, const v1::ClusterJob& cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = Find(name);
  if (!e || IsTerminal(e->job.state())) return;
  const v1::ClusterJob before = e->job.cluster();
  *e->job.mutable_cluster() = cluster;
  if (before.queued() && !cluster.queued()) {
    // The scheduler started the workers: the registration timeout counts from now.
    const Clock::time_point now = Clock::now();
    for (auto& [r, rank] : e->ranks) {
      if (!rank.heard) rank.last_seen = now;
    }
  }
  Changed(e);
  const bool moved = before.state() != cluster.state() || before.id() != cluster.id() ||
                     before.nodes() != cluster.nodes();
  Status s = Persist(e, moved);
  if (!s.ok())
    std::fprintf(stderr, "cyclr: saving job %s: %s\n", name.c_str(), s.ToString().c_str());
}

std::string JobManager::LauncherOf(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(name);
  return e ? e->job.spec().launcher() : "";
}

StatusOr<LogChunk> JobManager::ReadWorkerLog(const std::string& name, int rank, int64_t offset,
                                             int max_bytes) const {
  Launcher* launcher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Entry* e = Find(name);
    if (!e) return UnknownJob(name);
    const v1::JobSpec& spec = e->job.spec();
    if (rank < 0 || rank >= spec.workers()) {
      return Status::InvalidArgument("rank (" + std::to_string(rank) + ") must be between 0 and " +
                                     std::to_string(spec.workers() - 1));
    }
    if (spec.launcher() == "external" || !launcher_) {
      return Status::FailedPrecondition("job \"" + name +
                                        "\" runs its workers elsewhere (launcher " +
                                        spec.launcher() + "): their logs are where they run");
    }
    launcher = launcher_;
  }
  return launcher->ReadLog(name, rank, offset, max_bytes);
}

void JobManager::ReattachAllocation(Launcher* launcher, const v1::Job& job) {
  Status s = launcher->Reattach(job);
  if (s.ok()) return;
  // Nothing follows the allocation any more: the group is treated as failed (restarted while
  // restarts are left), so the job cannot hang in RUNNING forever.
  std::fprintf(stderr, "cyclr: job %s: cannot follow its %s allocation %s: %s\n",
               job.name().c_str(), job.spec().launcher().c_str(), job.cluster().id().c_str(),
               s.ToString().c_str());
  Followup f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(job.name());
    if (!e || IsTerminal(e->job.state())) return;
    e->live.clear();
    f = GroupFailed(e, "cannot follow its " + job.spec().launcher() + " allocation after a " +
                           "coordinator restart: " + s.message());
  }
  Run(job.name(), f);
}

}  // namespace cyclr
