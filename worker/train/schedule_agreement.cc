#include "worker/train/schedule_agreement.h"

namespace cyclr {

ScheduleAgreement::ScheduleAgreement(const Timeline& initial) {
  CYCLR_CHECK_MSG(!initial.empty(), "a job always has revision 1");
  for (const Revision& rev : initial.revisions()) {
    held_.push_back(rev);
    held_.back().applied_step.reset();
    if (!rev.applied_step && rev.version != 1) continue;
    // Version 1 is in force from step 0 by definition; later ones as an earlier run recorded.
    // Agreement is a prefix: stop at the first revision that was never applied.
    if (applied_.latest_version() != rev.version - 1) continue;
    Revision copy = rev;
    copy.applied_step.reset();
    Status st = applied_.Append(copy);
    if (st.ok() && rev.applied_step) st = applied_.MarkApplied(rev.version, *rev.applied_step);
    CYCLR_CHECK_MSG(st.ok(), st.ToString());
  }
}

Status ScheduleAgreement::Offer(const Timeline& timeline) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Revision& rev : timeline.revisions()) {
    if (rev.version <= static_cast<int64_t>(held_.size())) {
      if (held_[rev.version - 1].spec != rev.spec) {
        return Status::Internal("revision " + std::to_string(rev.version) +
                                " changed after it was issued");
      }
      continue;
    }
    if (rev.version != static_cast<int64_t>(held_.size()) + 1) {
      return Status::Internal("revision " + std::to_string(rev.version) + " arrived before " +
                              std::to_string(held_.size() + 1));
    }
    held_.push_back(rev);
    held_.back().applied_step.reset();
  }
  return Status::Ok();
}

int64_t ScheduleAgreement::held_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(held_.size());
}

Status ScheduleAgreement::AdoptApplied(const Timeline& recorded) {
  CYCLR_RETURN_IF_ERROR(Offer(recorded));
  for (const Revision& rev : recorded.revisions()) {
    if (rev.version <= applied_.latest_version()) continue;
    if (!rev.applied_step) break;  // agreement is a prefix
    Revision copy = rev;
    copy.applied_step.reset();
    CYCLR_RETURN_IF_ERROR(applied_.Append(copy));
    CYCLR_RETURN_IF_ERROR(applied_.MarkApplied(rev.version, *rev.applied_step));
  }
  return Status::Ok();
}

TimelinePoint ScheduleAgreement::Resolve(int64_t step, int64_t agreed_version,
                                         std::vector<AppliedVersion>* newly_applied) {
  while (applied_.latest_version() < agreed_version) {
    Revision rev;
    {
      std::lock_guard<std::mutex> lock(mu_);
      CYCLR_CHECK(applied_.latest_version() < static_cast<int64_t>(held_.size()));
      rev = held_[applied_.latest_version()];
    }
    Status st = applied_.Append(rev);
    if (st.ok()) st = applied_.MarkApplied(rev.version, step);
    // The coordinator validated the revision against the same core rules; failing here means
    // the ranks would disagree, which must never be papered over.
    CYCLR_CHECK_MSG(st.ok(), st.ToString());
    if (newly_applied) newly_applied->push_back({rev.version, step});
  }
  return applied_.At(step);
}

}  // namespace cyclr
