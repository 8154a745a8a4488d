// Schedule: the pure function step -> (LR, momentum, cycle, position) of one validated spec.
//
// Values match PyTorch's schedulers exactly (CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts),
// where `step` is PyTorch's `last_epoch`: step 0 is the first training step. Thread-safe (const).
#pragma once

#include <cstdint>
#include <optional>

#include "core/schedule_spec.h"

namespace cyclr {

struct SchedulePoint {
  double lr = 0.0;
  // The momentum in force, or nullopt when the spec does not cycle momentum (the optimizer's own
  // momentum applies).
  std::optional<double> momentum;
  int64_t cycle = 0;            // 0-based cycle index
  double cycle_position = 0.0;  // fraction of the current cycle elapsed, in [0, 1)
};

class Schedule {
 public:
  // Validates `spec`; on error returns INVALID_ARGUMENT naming the field and rule.
  static StatusOr<Schedule> Create(const ScheduleSpec& spec);

  // Value in force at training step `step` (>= 0) counted from the schedule's own start.
  // One-cycle holds its final value past total_steps. O(1) except cosine-restarts with t_mult > 1
  // (O(log step)).
  SchedulePoint At(int64_t step) const;

  const ScheduleSpec& spec() const { return spec_; }

 private:
  explicit Schedule(const ScheduleSpec& spec) : spec_(spec) {}
  SchedulePoint PolicyAt(int64_t step) const;  // without warm-up
  ScheduleSpec spec_;
};

}  // namespace cyclr
