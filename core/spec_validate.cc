// ValidateSpec: every rule a ScheduleSpec must satisfy. Rules are checked in a fixed order
// (which options belong to the policy, which are required, then each value in field order) and
// the first violation is returned, naming the field and the rule.
#include <cmath>
#include <set>
#include <vector>

#include "core/schedule_spec.h"

namespace cyclr {
namespace {

using Names = std::set<std::string>;

struct FieldState {
  const char* name;
  bool set;
};

std::vector<FieldState> FieldStates(const ScheduleSpec& s) {
  return {
      {"base_lr", s.base_lr.has_value()},
      {"max_lr", s.max_lr.has_value()},
      {"step_size_up", s.step_size_up.has_value()},
      {"step_size_down", s.step_size_down.has_value()},
      {"gamma", s.gamma.has_value()},
      {"scale_mode", s.scale_mode.has_value()},
      {"decay", s.decay.has_value()},
      {"base_momentum", s.base_momentum.has_value()},
      {"max_momentum", s.max_momentum.has_value()},
      {"total_steps", s.total_steps.has_value()},
      {"pct_start", s.pct_start.has_value()},
      {"anneal", s.anneal.has_value()},
      {"div_factor", s.div_factor.has_value()},
      {"final_div_factor", s.final_div_factor.has_value()},
      {"three_phase", s.three_phase.has_value()},
      {"t0", s.t0.has_value()},
      {"t_mult", s.t_mult.has_value()},
      {"warmup_steps", s.warmup_steps.has_value()},
      {"ramp", s.ramp.has_value()},
  };
}

// Options each policy accepts (warmup_steps belongs to every policy).
const Names& AllowedOptions(Policy p) {
  static const Names kConstant = {"base_lr", "warmup_steps"};
  static const Names kTriangular = {"base_lr",       "max_lr",       "step_size_up",
                                    "step_size_down", "scale_mode",   "base_momentum",
                                    "max_momentum",  "warmup_steps"};
  static const Names kExpRange = {"base_lr",       "max_lr",       "step_size_up",
                                  "step_size_down", "scale_mode",   "gamma",
                                  "base_momentum", "max_momentum", "warmup_steps"};
  static const Names kSine = {"base_lr", "max_lr",        "step_size_up", "step_size_down",
                              "decay",   "gamma",         "base_momentum", "max_momentum",
                              "warmup_steps"};
  static const Names kOneCycle = {"max_lr",          "total_steps",   "pct_start",
                                  "anneal",          "div_factor",    "final_div_factor",
                                  "three_phase",     "base_momentum", "max_momentum",
                                  "warmup_steps"};
  static const Names kCosine = {"base_lr",      "max_lr",        "t0",          "t_mult",
                                "base_momentum", "max_momentum", "warmup_steps"};
  static const Names kRangeTest = {"base_lr", "max_lr", "total_steps", "ramp"};
  switch (p) {
    case Policy::kRangeTest: return kRangeTest;
    case Policy::kConstant: return kConstant;
    case Policy::kTriangular:
    case Policy::kTriangular2: return kTriangular;
    case Policy::kExpRange: return kExpRange;
    case Policy::kSine: return kSine;
    case Policy::kOneCycle: return kOneCycle;
    case Policy::kCosineRestarts: return kCosine;
  }
  return kConstant;
}

std::vector<const char*> RequiredOptions(Policy p) {
  switch (p) {
    case Policy::kConstant: return {"base_lr"};
    case Policy::kOneCycle: return {"max_lr", "total_steps"};
    case Policy::kCosineRestarts: return {"max_lr", "t0"};
    case Policy::kRangeTest: return {"base_lr", "max_lr", "total_steps"};
    default: return {"base_lr", "max_lr"};
  }
}

Status CheckMembership(const ScheduleSpec& spec) {
  const std::string policy = PolicyName(spec.policy);
  std::vector<FieldState> fields = FieldStates(spec);
  for (const FieldState& f : fields) {
    if (f.set && AllowedOptions(spec.policy).count(f.name) == 0) {
      return Status::InvalidArgument(std::string(f.name) + " does not apply to policy " + policy);
    }
  }
  for (const char* required : RequiredOptions(spec.policy)) {
    for (const FieldState& f : fields) {
      if (std::string(f.name) == required && !f.set) {
        return Status::InvalidArgument(f.name + std::string(" is required for policy ") + policy);
      }
    }
  }
  if (spec.policy == Policy::kSine) {
    bool exp = spec.decay == Decay::kExp;
    if (exp && !spec.gamma) {
      return Status::InvalidArgument("gamma is required for policy sine with decay exp");
    }
    if (!exp && spec.gamma) {
      return Status::InvalidArgument("gamma applies to policy sine only with decay exp");
    }
  }
  if (spec.base_momentum.has_value() != spec.max_momentum.has_value()) {
    return Status::InvalidArgument(spec.base_momentum
                                       ? "max_momentum is required when base_momentum is set"
                                       : "base_momentum is required when max_momentum is set");
  }
  return Status::Ok();
}

Status Invalid(const std::string& name, const std::string& value, const std::string& rule) {
  return Status::InvalidArgument(name + " (" + value + ") " + rule);
}

// A learning rate: finite and > 0 (or >= 0 where zero is meaningful).
Status CheckLr(const char* name, const std::optional<double>& v, bool allow_zero) {
  if (!v) return Status::Ok();
  if (!std::isfinite(*v)) return Invalid(name, FormatDouble(*v), "must be a finite number");
  if (allow_zero ? *v < 0 : *v <= 0) {
    return Invalid(name, FormatDouble(*v), allow_zero ? "must be >= 0" : "must be > 0");
  }
  return Status::Ok();
}

Status CheckPositive(const char* name, const std::optional<double>& v) {
  return CheckLr(name, v, /*allow_zero=*/false);
}

Status CheckCount(const char* name, const std::optional<int64_t>& v, int64_t min) {
  if (!v) return Status::Ok();
  if (*v < min) return Invalid(name, std::to_string(*v), "must be >= " + std::to_string(min));
  if (*v > kMaxSteps) {
    return Invalid(name, std::to_string(*v), "must be <= " + std::to_string(kMaxSteps));
  }
  return Status::Ok();
}

Status CheckMomentum(const char* name, const std::optional<double>& v) {
  if (!v) return Status::Ok();
  if (!(*v >= 0.0 && *v < 1.0)) return Invalid(name, FormatDouble(*v), "must be in [0, 1)");
  return Status::Ok();
}

Status CheckLearningRates(const ScheduleSpec& spec) {
  CYCLR_RETURN_IF_ERROR(
      CheckLr("base_lr", spec.base_lr, spec.policy == Policy::kCosineRestarts));
  CYCLR_RETURN_IF_ERROR(CheckLr("max_lr", spec.max_lr, false));
  if (spec.base_lr && spec.max_lr && *spec.max_lr < *spec.base_lr) {
    return Invalid("max_lr", FormatDouble(*spec.max_lr),
                   "must be >= base_lr (" + FormatDouble(*spec.base_lr) + ")");
  }
  // The exponential ramp multiplies by (max_lr / base_lr) ** fraction: the ratio must be finite.
  if (spec.policy == Policy::kRangeTest && !std::isfinite(*spec.max_lr / *spec.base_lr)) {
    return Invalid("max_lr / base_lr", FormatDouble(*spec.max_lr) + " / " +
                                           FormatDouble(*spec.base_lr),
                   "must be a finite number for policy range-test");
  }
  return Status::Ok();
}

// One-cycle's phases must each span a positive number of steps, or PyTorch's formula divides by
// zero (or runs the phases out of order).
Status CheckOneCyclePhases(const ScheduleSpec& spec) {
  if (spec.policy != Policy::kOneCycle) return Status::Ok();
  const double pct = spec.pct_start.value_or(0.3);
  const double total = static_cast<double>(*spec.total_steps);
  if (!(pct * total - 1.0 > 0.0)) {
    return Invalid("pct_start * total_steps", FormatDouble(pct) + " * " + FormatDouble(total),
                   "must be > 1 so that the rising phase spans at least one step");
  }
  if (spec.three_phase.value_or(false) && !(2.0 * pct * total - 2.0 < total - 1.0)) {
    return Invalid("pct_start", FormatDouble(pct),
                   "is too large for three_phase: 2 * pct_start * total_steps - 2 must be < "
                   "total_steps - 1 (" + FormatDouble(total - 1.0) + ")");
  }
  return Status::Ok();
}

Status CheckValues(const ScheduleSpec& spec) {
  CYCLR_RETURN_IF_ERROR(CheckLearningRates(spec));
  CYCLR_RETURN_IF_ERROR(CheckCount("step_size_up", spec.step_size_up, 1));
  CYCLR_RETURN_IF_ERROR(CheckCount("step_size_down", spec.step_size_down, 1));
  if (spec.gamma && !(*spec.gamma > 0.0 && *spec.gamma <= 1.0)) {
    return Invalid("gamma", FormatDouble(*spec.gamma), "must be in (0, 1]");
  }
  CYCLR_RETURN_IF_ERROR(CheckMomentum("base_momentum", spec.base_momentum));
  CYCLR_RETURN_IF_ERROR(CheckMomentum("max_momentum", spec.max_momentum));
  if (spec.base_momentum && spec.max_momentum && *spec.base_momentum > *spec.max_momentum) {
    return Invalid("base_momentum", FormatDouble(*spec.base_momentum),
                   "must be <= max_momentum (" + FormatDouble(*spec.max_momentum) + ")");
  }
  CYCLR_RETURN_IF_ERROR(CheckCount("total_steps", spec.total_steps, 2));
  if (spec.pct_start && !(*spec.pct_start > 0.0 && *spec.pct_start < 1.0)) {
    return Invalid("pct_start", FormatDouble(*spec.pct_start), "must be in (0, 1)");
  }
  CYCLR_RETURN_IF_ERROR(CheckPositive("div_factor", spec.div_factor));
  CYCLR_RETURN_IF_ERROR(CheckPositive("final_div_factor", spec.final_div_factor));
  CYCLR_RETURN_IF_ERROR(CheckOneCyclePhases(spec));
  CYCLR_RETURN_IF_ERROR(CheckCount("t0", spec.t0, 1));
  CYCLR_RETURN_IF_ERROR(CheckCount("t_mult", spec.t_mult, 1));
  CYCLR_RETURN_IF_ERROR(CheckCount("warmup_steps", spec.warmup_steps, 0));
  return Status::Ok();
}

}  // namespace

Status ValidateSpec(const ScheduleSpec& spec) {
  CYCLR_RETURN_IF_ERROR(CheckMembership(spec));
  return CheckValues(spec);
}

}  // namespace cyclr
