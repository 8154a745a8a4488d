#include "server/schedule_manager.h"

#include <algorithm>

#include "core/limits.h"
#include "server/manager_util.h"

namespace cyclr {
namespace {

Status CheckPreviewRange(int64_t start, int64_t steps) {
  // start <= kMaxStep keeps start + steps far from overflow (and Schedule::At's step >= 0).
  if (start < 0 || start > limits::kMaxStep) {
    return Status::InvalidArgument("start_step (" + std::to_string(start) +
                                   ") must be between 0 and " + std::to_string(limits::kMaxStep));
  }
  if (steps < 1 || steps > ScheduleManager::kMaxPreviewSteps) {
    return Status::InvalidArgument("steps (" + std::to_string(steps) + ") must be between 1 and " +
                                   std::to_string(ScheduleManager::kMaxPreviewSteps));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<TimelinePoint>> ScheduleManager::PreviewJob(const std::string& job,
                                                                 int64_t start,
                                                                 int64_t steps) const {
  CYCLR_RETURN_IF_ERROR(CheckPreviewRange(start, steps));
  CYCLR_ASSIGN_OR_RETURN(TimelineSnapshot snap, Snapshot(job));
  if (snap.timeline.empty())
    return Status::FailedPrecondition("job \"" + job + "\" has no schedule");
  std::vector<TimelinePoint> points;
  for (int64_t s = start; s < start + steps; ++s) points.push_back(snap.timeline.At(s));
  return points;
}

StatusOr<std::vector<TimelinePoint>> ScheduleManager::PreviewSpec(const ScheduleSpec& spec,
                                                                  int64_t start, int64_t steps) {
  CYCLR_RETURN_IF_ERROR(CheckPreviewRange(start, steps));
  CYCLR_ASSIGN_OR_RETURN(Schedule schedule, Schedule::Create(spec));
  std::vector<TimelinePoint> points;
  for (int64_t s = start; s < start + steps; ++s) {
    TimelinePoint p;
    static_cast<SchedulePoint&>(p) = schedule.At(s);
    points.push_back(p);
  }
  return points;
}

Status ScheduleManager::AddJob(const std::string& job, Timeline timeline, int64_t current_step,
                               bool ended) {
  std::lock_guard<std::mutex> lock(mu_);
  // A state file edited by hand may name a job twice: refused, not CHECKed.
  if (jobs_.count(job)) return Status::AlreadyExists("job \"" + job + "\" already has a schedule");
  Entry& e = jobs_[job];
  e.timeline = std::move(timeline);
  e.current_step = current_step;
  e.ended = ended;
  return Status::Ok();
}

StatusOr<Revision> ScheduleManager::BuildRevision(const Entry& e, const ScheduleUpdate& u) const {
  Revision rev;
  rev.version = e.timeline.latest_version() + 1;
  rev.phase = u.phase;
  rev.author = u.author;
  rev.reason = u.reason;
  rev.created_unix_ms = NowUnixMs();
  if (u.revert_to) {
    int64_t v = *u.revert_to;
    if (v < 1 || v > e.timeline.latest_version()) {
      return Status::InvalidArgument("revert_to (" + std::to_string(v) +
                                     ") must name an existing revision (1.." +
                                     std::to_string(e.timeline.latest_version()) + ")");
    }
    rev.spec = e.timeline.revision(v).spec;
    if (rev.reason.empty()) rev.reason = "revert to revision " + std::to_string(v);
  } else if (u.spec) {
    rev.spec = *u.spec;
  } else {
    return Status::InvalidArgument("spec is required (or set revert_to)");
  }
  int64_t prev_start = e.timeline.empty() ? 0 : e.timeline.revisions().back().start_step();
  rev.effective_step = u.effective_step.value_or(std::max(e.current_step, prev_start));
  if (rev.effective_step < e.current_step) {
    return Status::FailedPrecondition("effective_step (" + std::to_string(rev.effective_step) +
                                      ") must be >= the job's current step (" +
                                      std::to_string(e.current_step) + ")");
  }
  if (rev.effective_step < prev_start) {
    return Status::FailedPrecondition("effective_step (" + std::to_string(rev.effective_step) +
                                      ") must be >= the start step of revision " +
                                      std::to_string(e.timeline.latest_version()) + " (" +
                                      std::to_string(prev_start) + ")");
  }
  return rev;
}

StatusOr<Revision> ScheduleManager::Update(const ScheduleUpdate& u) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(u.job);
  if (it == jobs_.end()) return UnknownJob(u.job);
  Entry& e = it->second;
  if (e.ended) {
    return Status::FailedPrecondition("job \"" + u.job + "\" has ended; its schedule is final");
  }
  if (e.timeline.latest_version() >= limits::kMaxRevisionsPerJob) {
    return Status::ResourceExhausted(
        "job \"" + u.job + "\" has " + std::to_string(e.timeline.latest_version()) +
        " revisions, the most one job may have (kMaxRevisionsPerJob = " +
        std::to_string(limits::kMaxRevisionsPerJob) + ")");
  }
  CYCLR_ASSIGN_OR_RETURN(Revision rev, BuildRevision(e, u));
  Timeline next = e.timeline;
  CYCLR_RETURN_IF_ERROR(next.Append(rev, e.current_step));
  if (store_) CYCLR_RETURN_IF_ERROR(store_->AppendRevision(u.job, rev));
  e.timeline = std::move(next);
  Changed(u.job, &e);
  return rev;
}

Status ScheduleManager::MarkApplied(const std::string& job, int64_t version, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return UnknownJob(job);
  Entry& e = it->second;
  if (version < 1 || version > e.timeline.latest_version()) {
    return Status::InvalidArgument("applied version (" + std::to_string(version) +
                                   ") is not a revision of job \"" + job + "\"");
  }
  const Revision& rev = e.timeline.revision(version);
  if (rev.applied_step && *rev.applied_step == step) return Status::Ok();
  Timeline next = e.timeline;
  CYCLR_RETURN_IF_ERROR(next.MarkApplied(version, step));
  if (store_) CYCLR_RETURN_IF_ERROR(store_->SetApplied(job, version, step));
  e.timeline = std::move(next);
  Changed(job, &e);
  return Status::Ok();
}

StatusOr<TimelinePoint> ScheduleManager::PointAt(const std::string& job, int64_t step) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return UnknownJob(job);
  if (it->second.timeline.empty()) {
    return Status::FailedPrecondition("job \"" + job + "\" has no schedule");
  }
  if (step < 0) return Status::InvalidArgument("step (" + std::to_string(step) + ") must be >= 0");
  return it->second.timeline.At(step);
}

StatusOr<TimelineSnapshot> ScheduleManager::Snapshot(const std::string& job) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return UnknownJob(job);
  return TimelineSnapshot{it->second.generation, it->second.timeline, it->second.ended};
}

void ScheduleManager::SetCurrentStep(const std::string& job, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it != jobs_.end()) it->second.current_step = std::max(it->second.current_step, step);
}

void ScheduleManager::EndJob(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.ended) return;
  it->second.ended = true;
  Changed(job, &it->second);
}

void ScheduleManager::RemoveJob(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.erase(job);
}

void ScheduleManager::Changed(const std::string& job, Entry* e) {
  ++e->generation;
  feed_.Changed(job);
}

std::shared_ptr<const TimelineSnapshot> ScheduleManager::SharedSnapshot(
    const std::string& job) const {
  StatusOr<TimelineSnapshot> snap = Snapshot(job);
  if (!snap.ok()) return nullptr;
  return std::make_shared<const TimelineSnapshot>(std::move(*snap));
}

StatusOr<ScheduleManager::Subscription> ScheduleManager::Subscribe(const std::string& job,
                                                                   Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return UnknownJob(job);
  const Entry& e = it->second;
  Subscription sub;
  sub.current =
      std::make_shared<const TimelineSnapshot>(TimelineSnapshot{e.generation, e.timeline, e.ended});
  sub.id = feed_.Add(job, std::move(listener));
  return sub;
}

void ScheduleManager::Unsubscribe(const std::string& job, int64_t id) { feed_.Remove(job, id); }

}  // namespace cyclr
