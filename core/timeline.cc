// Timeline: append-only revisions, anchors for phase continuity, O(log n) lookups.
#include "core/timeline.h"

#include <algorithm>

namespace cyclr {
namespace {

std::string Num(int64_t v) { return std::to_string(v); }

}  // namespace

const char* PhaseModeName(PhaseMode m) {
  return m == PhaseMode::kContinue ? "continue" : "restart";
}

StatusOr<PhaseMode> ParsePhaseMode(const std::string& name) {
  if (name == "continue") return PhaseMode::kContinue;
  if (name == "restart") return PhaseMode::kRestart;
  return Status::InvalidArgument("phase '" + name + "' is unknown; expected one of continue, restart");
}

Status Timeline::Append(Revision rev, int64_t current_step) {
  CYCLR_RETURN_IF_ERROR(ValidateSpec(rev.spec));
  if (rev.version != latest_version() + 1) {
    return Status::InvalidArgument("version (" + Num(rev.version) +
                                      ") must be the latest version + 1 (" +
                                      Num(latest_version() + 1) + ")");
  }
  if (rev.effective_step < 0 || rev.effective_step > kMaxSteps) {
    return Status::InvalidArgument("effective_step (" + Num(rev.effective_step) +
                                   ") must be in [0, " + Num(kMaxSteps) + "]");
  }
  if (rev.applied_step && (*rev.applied_step < 0 || *rev.applied_step > kMaxSteps)) {
    return Status::InvalidArgument("applied_step (" + Num(*rev.applied_step) + ") must be in [0, " +
                                   Num(kMaxSteps) + "]");
  }
  if (empty() && rev.effective_step != 0) {
    return Status::InvalidArgument("effective_step (" + Num(rev.effective_step) +
                                   ") must be 0 for the first revision");
  }
  if (rev.effective_step < current_step) {
    return Status::FailedPrecondition("effective_step (" + Num(rev.effective_step) +
                                      ") must be >= the job's current step (" +
                                      Num(current_step) + ")");
  }
  // The previous revision's *effective* step, not its applied step: a revision may be appended
  // before the previous one was applied (and a restored timeline replays both); the lookup then
  // starts the later revision no earlier than the earlier one (see Rebuild).
  if (!empty() && rev.effective_step < revisions_.back().effective_step) {
    return Status::InvalidArgument("effective_step (" + Num(rev.effective_step) +
                                      ") must be >= the previous revision's effective_step (" +
                                      Num(revisions_.back().effective_step) + ")");
  }
  StatusOr<Schedule> schedule = Schedule::Create(rev.spec);
  CYCLR_CHECK(schedule.ok());  // validated above
  revisions_.push_back(std::move(rev));
  entries_.push_back(Entry{std::move(schedule).value(), /*start=*/0, /*anchor=*/0});
  Rebuild(revisions_.size() - 1);
  return Status::Ok();
}

Status Timeline::MarkApplied(int64_t version, int64_t step) {
  if (version < 1 || version > latest_version()) {
    return Status::NotFound("revision version (" + Num(version) + ") does not exist; latest is " +
                            Num(latest_version()));
  }
  if (step < 0 || step > kMaxSteps) {
    return Status::InvalidArgument("step (" + Num(step) + ") must be in [0, " + Num(kMaxSteps) +
                                   "]");
  }
  Revision& rev = revisions_[static_cast<size_t>(version - 1)];
  // Idempotent for the same step. A different step is refused rather than ignored, so that a
  // caller that persists the report (the coordinator's store) never records a step the timeline
  // does not hold; all ranks agree on one step in a collective, so a second one is an anomaly.
  if (rev.applied_step) {
    if (*rev.applied_step == step) return Status::Ok();
    return Status::FailedPrecondition("revision " + Num(version) + " was already applied at step " +
                                      Num(*rev.applied_step) + "; cannot record step " +
                                      Num(step));
  }
  // A step before effective_step is recorded as is; start_step() keeps the effective step.
  rev.applied_step = step;
  Rebuild(static_cast<size_t>(version - 1));
  return Status::Ok();
}

void Timeline::Rebuild(size_t from) {
  for (size_t i = from; i < revisions_.size(); ++i) {
    const Revision& rev = revisions_[i];
    Entry& entry = entries_[i];
    const Entry* prev = i > 0 ? &entries_[i - 1] : nullptr;
    // The first revision is in force from step 0 whatever its applied step says.
    entry.start = prev ? std::max(rev.start_step(), prev->start) : 0;
    if (rev.phase == PhaseMode::kRestart) {
      entry.anchor = entry.start;
    } else {
      entry.anchor = prev ? prev->anchor : 0;
    }
  }
}

int64_t Timeline::StartStep(int64_t version) const {
  CYCLR_CHECK_MSG(version >= 1 && version <= latest_version(), "StartStep: no such version");
  return entries_[static_cast<size_t>(version - 1)].start;
}

TimelinePoint Timeline::At(int64_t step) const {
  return At(step, latest_version());
}

TimelinePoint Timeline::At(int64_t step, int64_t max_version) const {
  CYCLR_CHECK_MSG(!empty(), "Timeline::At on an empty timeline");
  CYCLR_CHECK_MSG(step >= 0, "Timeline::At needs a step >= 0");
  // The first revision always applies (it starts at 0); versions beyond the latest add nothing.
  const int64_t usable = std::clamp<int64_t>(max_version, 1, latest_version());
  auto end = entries_.begin() + usable;
  auto it = std::upper_bound(entries_.begin(), end, step,
                             [](int64_t s, const Entry& e) { return s < e.start; });
  const size_t index = static_cast<size_t>(it - entries_.begin()) - 1;  // entries_[0].start == 0
  const Entry& entry = entries_[index];
  TimelinePoint point;
  static_cast<SchedulePoint&>(point) = entry.schedule.At(step - entry.anchor);
  point.version = revisions_[index].version;
  return point;
}

}  // namespace cyclr
