// ScheduleAgreement: decides which schedule revision every step applies, so that all ranks apply
// the identical LR at every step — also across a runtime change — without any timing assumption.
//
// Revisions reach each rank at different times (the watch stream, a reconnect). A rank *holds* a
// revision once it arrived; it *applies* it only from the first step whose collective showed that
// every rank holds it: each step all-reduces MIN(held_version) over the ranks (piggybacked on the
// step's own collective), and Resolve() then appends every newly agreed revision with applied_step
// = that step. Since the agreed version and the step are the same on every rank, so is the
// applied timeline and so is the LR. An agreed version never exceeds what a rank holds (it is a
// minimum), so no rank ever lacks a revision it must apply.
//
// Threads: Offer() and held_version() from any thread (the watcher); Resolve() and applied()
// only from the training thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "core/timeline.h"

namespace cyclr {

struct AppliedVersion {
  int64_t version;
  int64_t step;
};

class ScheduleAgreement {
 public:
  // `initial` is the timeline the coordinator gave at registration. Its revisions that already
  // carry an applied_step were agreed by an earlier incarnation of the job (a resumed run) and
  // are applied as recorded; the others are only held.
  explicit ScheduleAgreement(const Timeline& initial);

  // Offers the coordinator's current timeline; new revisions become held. Revisions already held
  // are ignored (they are immutable). Returns an error if the offer contradicts what is held.
  Status Offer(const Timeline& timeline);
  int64_t held_version() const;

  // Training thread, before the first Resolve(): adopts the applied steps recorded in `recorded`
  // (a checkpoint's timeline) for revisions not applied yet, in version order, so a resumed run
  // applies each revision at the same step as the run that wrote the checkpoint.
  Status AdoptApplied(const Timeline& recorded);

  // Training thread: `agreed_version` is MIN(held_version) over all ranks, from this step's
  // collective. Applies the newly agreed revisions from `step` and returns the value in force
  // at `step`. Newly applied revisions are appended to `newly_applied` when non-null.
  TimelinePoint Resolve(int64_t step, int64_t agreed_version,
                        std::vector<AppliedVersion>* newly_applied);

  const Timeline& applied() const { return applied_; }

 private:
  mutable std::mutex mu_;
  std::vector<Revision> held_;  // GUARDED_BY(mu_); held_[i].version == i + 1
  Timeline applied_;            // training thread only
};

}  // namespace cyclr
