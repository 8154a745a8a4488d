// Timeline: a job's schedule as an append-only list of immutable revisions.
//
// Revision v takes over from its start step: the largest of its effective_step, its applied_step
// and the previous revision's start step (so start steps never decrease) — effective_step is what
// the user asked for; applied_step is set once the workers agreed (in a step's collective) that
// every rank holds v, which may be later. Its phase is anchored either to the previous
// revision's anchor (`continue`: the cycle keeps counting, changing bounds does not jump the
// phase; the first revision's anchor is step 0) or to its own start step (`restart`).
//
// Lookups are O(log revisions). Not thread-safe: callers that share one guard it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/schedule.h"

namespace cyclr {

enum class PhaseMode { kContinue, kRestart };
const char* PhaseModeName(PhaseMode m);  // "continue" | "restart"
StatusOr<PhaseMode> ParsePhaseMode(const std::string& name);

struct Revision {
  int64_t version = 0;          // 1, 2, ...
  int64_t effective_step = 0;   // first step the user wants it in force
  std::optional<int64_t> applied_step;  // first step all ranks applied it (set by the workers)
  ScheduleSpec spec;
  PhaseMode phase = PhaseMode::kContinue;
  std::string author;           // audit, optional
  std::string reason;           // audit, optional
  int64_t created_unix_ms = 0;  // audit, optional

  int64_t start_step() const {
    return applied_step && *applied_step > effective_step ? *applied_step : effective_step;
  }
};

struct TimelinePoint : SchedulePoint {
  int64_t version = 0;  // the revision in force
};

class Timeline {
 public:
  Timeline() = default;

  // Appends `rev`. REQUIRES nothing of the caller: checks that the spec is valid, that
  // rev.version == latest_version() + 1, that the first revision starts at step 0 and that
  // rev.effective_step >= max(current_step, the previous revision's effective_step) (not its
  // start step: a revision applied late must not make a later, valid request fail). Errors name
  // the field: "effective_step (10) must be >= the job's current step (25)"
  // (FAILED_PRECONDITION for a step in the past, INVALID_ARGUMENT otherwise).
  Status Append(Revision rev, int64_t current_step = 0);

  // Records that revision `version` was first applied at `step` (a step before its effective
  // step is kept as given but has no effect: start_step() takes the max). Idempotent.
  // INVALID_ARGUMENT unless 0 <= step <= kMaxSteps (as Append's applied_step), so start steps and
  // anchors stay in range and At() never sees a negative schedule step.
  Status MarkApplied(int64_t version, int64_t step);
  // The step from which revision `version` is in force (see the class comment).
  int64_t StartStep(int64_t version) const;

  // The value in force at `step`; REQUIRES !empty() and step >= 0 (CHECKed: callers range-check
  // client and stored steps first, see ScheduleManager::PointAt).
  TimelinePoint At(int64_t step) const;
  // Same, using only revisions with version <= max_version (what a worker has agreed on).
  TimelinePoint At(int64_t step, int64_t max_version) const;

  bool empty() const { return revisions_.empty(); }
  int64_t latest_version() const { return revisions_.empty() ? 0 : revisions_.back().version; }
  const std::vector<Revision>& revisions() const { return revisions_; }
  // REQUIRES 1 <= version <= latest_version().
  const Revision& revision(int64_t version) const { return revisions_.at(version - 1); }

 private:
  struct Entry {
    Schedule schedule;
    int64_t start;   // StartStep(): non-decreasing along entries_
    int64_t anchor;  // step at which the schedule's own step 0 falls
  };
  void Rebuild(size_t from);  // recomputes anchors from revisions_[from] on

  std::vector<Revision> revisions_;
  std::vector<Entry> entries_;  // parallel to revisions_
};

}  // namespace cyclr
