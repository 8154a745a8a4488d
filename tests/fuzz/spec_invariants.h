// Invariants of a schedule spec that core accepted, written from docs/limits.md and
// core/schedule.h independently of the checks under test, so a check that lets a bad value
// through is caught.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "core/limits.h"
#include "core/schedule.h"
#include "core/schedule_spec.h"
#include "proto/proto_convert.h"
#include "tests/fuzz/fuzz_util.h"

namespace cyclr::fuzz {

// Steps at which an accepted schedule is evaluated: the edges of its phases and of the step range
// (a preview may start at kMaxStep and run kMaxPreviewSteps past it).
inline void CheckSchedulePoint(const ScheduleSpec& spec, int64_t step, const SchedulePoint& p) {
  const std::string at = SpecToString(spec) + " at step " + std::to_string(step);
  FUZZ_REQUIRE(std::isfinite(p.lr) && p.lr >= 0, "lr " + FormatDouble(p.lr) + ": " + at);
  if (p.momentum) {
    FUZZ_REQUIRE(*p.momentum >= 0 && *p.momentum < 1,
                 "momentum " + FormatDouble(*p.momentum) + ": " + at);
  }
  FUZZ_REQUIRE(p.cycle >= 0, "cycle " + std::to_string(p.cycle) + ": " + at);
  FUZZ_REQUIRE(p.cycle_position >= 0 && p.cycle_position < 1,
               "cycle_position " + FormatDouble(p.cycle_position) + ": " + at);
}

// A spec that core accepted: valid, and its option text and its proto both convert back to it
// exactly; its values at the phase edges are finite, as every report of them must be.
inline void CheckAcceptedSpec(const ScheduleSpec& spec) {
  const std::string s = SpecToString(spec);
  FUZZ_REQUIRE(ValidateSpec(spec).ok(), s + ": " + ValidateSpec(spec).message());
  std::map<std::string, std::string> options;
  for (const auto& [name, text] : SpecToOptions(spec)) options[name] = text;
  StatusOr<ScheduleSpec> from_options = SpecFromOptions(options);
  FUZZ_REQUIRE(from_options.ok() && *from_options == spec,
               s + ": option round trip: " + from_options.status().message());
  StatusOr<ScheduleSpec> from_proto = FromProto(ToProto(spec));
  FUZZ_REQUIRE(from_proto.ok() && *from_proto == spec,
               s + ": proto round trip: " + from_proto.status().message());
  StatusOr<Schedule> schedule = Schedule::Create(spec);
  FUZZ_REQUIRE(schedule.ok(), s + ": " + schedule.status().message());
  const int64_t edges[] = {spec.step_size_up.value_or(0),
                           spec.step_size_up.value_or(0) + spec.step_size_down.value_or(0),
                           spec.total_steps.value_or(0), spec.t0.value_or(0),
                           spec.warmup_steps.value_or(0)};
  const int64_t last = limits::kMaxStep + limits::kMaxPreviewSteps - 1;
  for (int64_t edge : edges) {
    for (int64_t d : {-1, 0, 1}) {
      const int64_t step = edge + d;
      if (step >= 0 && step <= last) CheckSchedulePoint(spec, step, schedule->At(step));
    }
  }
  for (int64_t step :
       {int64_t{0}, int64_t{1} << 20, limits::kMaxStep - 1, limits::kMaxStep, last}) {
    CheckSchedulePoint(spec, step, schedule->At(step));
  }
}

}  // namespace cyclr::fuzz
