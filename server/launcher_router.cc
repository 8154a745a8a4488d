#include "server/launcher_router.h"

namespace cyclr {

void LauncherRouter::Add(const std::string& kind, std::unique_ptr<Launcher> launcher) {
  launchers_.emplace_back(kind, std::move(launcher));
}

Launcher* LauncherRouter::Get(const std::string& kind) const {
  for (const auto& [k, l] : launchers_) {
    if (k == kind) return l.get();
  }
  return nullptr;
}

StatusOr<Launcher*> LauncherRouter::For(const std::string& kind) const {
  Launcher* l = Get(kind);
  if (l) return l;
  std::string flag = kind == "slurm"        ? " (start it with --slurm)"
                     : kind == "kubernetes" ? " (start it with --kubernetes)"
                                            : "";
  return Status::FailedPrecondition("this coordinator has no " + kind + " launcher" + flag);
}

Launcher* LauncherRouter::Owner(const std::string& job) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kinds_.find(job);
    if (it != kinds_.end()) return Get(it->second);
  }
  return kind_of_ ? Get(kind_of_(job)) : nullptr;
}

void LauncherRouter::Remember(const std::string& job, const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  kinds_[job] = kind;
}

Status LauncherRouter::Launch(const v1::JobSpec& spec, const std::string& worker_token) {
  CYCLR_ASSIGN_OR_RETURN(Launcher * l, For(spec.launcher()));
  Remember(spec.name(), spec.launcher());
  return l->Launch(spec, worker_token);
}

Status LauncherRouter::Stop(const std::string& job) {
  if (Launcher* l = Owner(job)) return l->Stop(job);
  Status first = Status::Ok();
  for (const auto& [kind, l] : launchers_) {
    Status s = l->Stop(job);
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

Status LauncherRouter::Adopt(const std::string& job, int rank, int pid) {
  Launcher* l = Owner(job);
  if (!l) l = Get("local");
  if (!l) return Status::NotFound("no launcher adopts workers by pid");
  return l->Adopt(job, rank, pid);
}

std::string LauncherRouter::LogTail(const std::string& job, int rank) const {
  if (Launcher* l = Owner(job)) return l->LogTail(job, rank);
  for (const auto& [kind, l] : launchers_) {
    std::string tail = l->LogTail(job, rank);
    if (!tail.empty()) return tail;
  }
  return "";
}

StatusOr<LogChunk> LauncherRouter::ReadLog(const std::string& job, int rank, int64_t offset,
                                           int max_bytes) const {
  if (Launcher* l = Owner(job)) return l->ReadLog(job, rank, offset, max_bytes);
  StatusOr<LogChunk> last = Launcher::ReadLog(job, rank, offset, max_bytes);
  for (const auto& [kind, l] : launchers_) {
    last = l->ReadLog(job, rank, offset, max_bytes);
    if (last.ok() || last.status().code() != StatusCode::kNotFound) return last;
  }
  return last;
}

Status LauncherRouter::Reattach(const v1::Job& job) {
  CYCLR_ASSIGN_OR_RETURN(Launcher * l, For(job.spec().launcher()));
  Remember(job.name(), job.spec().launcher());
  return l->Reattach(job);
}

}  // namespace cyclr
