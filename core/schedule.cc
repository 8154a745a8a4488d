// Schedule: step -> (LR, momentum, cycle, position).
//
// The formulas copy PyTorch 1.13's torch/optim/lr_scheduler.py operation for operation (same
// operand order, same int -> double conversions, the same libm calls) so that values agree to
// the last bit, not merely to a tolerance. Comments quote the Python they reproduce.
#include "core/schedule.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace cyclr {
namespace {

constexpr double kPi = 3.141592653589793;  // == math.pi
constexpr int64_t kDefaultStepSizeUp = 2000;  // CyclicLR's default

// CyclicLR's cycle (1-based), x in [0, 1) and scale_factor in [0, 1] at `step`.
struct CyclicPhase {
  int64_t cycle;
  double x;
  double scale_factor;
};

CyclicPhase CyclicPhaseAt(const ScheduleSpec& spec, int64_t step) {
  // step_size_up = float(step_size_up); step_size_down = float(...) or step_size_up
  const double up = static_cast<double>(spec.step_size_up.value_or(kDefaultStepSizeUp));
  const double down = spec.step_size_down ? static_cast<double>(*spec.step_size_down) : up;
  const double total_size = up + down;
  const double step_ratio = up / total_size;
  const double epoch = static_cast<double>(step);
  // cycle = math.floor(1 + self.last_epoch / self.total_size)
  const double cycle = std::floor(1.0 + epoch / total_size);
  // x = 1. + self.last_epoch / self.total_size - cycle
  const double x = 1.0 + epoch / total_size - cycle;
  const double scale_factor = x <= step_ratio ? x / step_ratio : (x - 1) / (step_ratio - 1);
  return {static_cast<int64_t>(cycle), x, scale_factor};
}

// The amplitude multiplier: scale_fn(cycle) or scale_fn(last_epoch).
double CyclicScale(const ScheduleSpec& spec, int64_t cycle, int64_t step) {
  if (spec.policy == Policy::kSine) {
    switch (spec.decay.value_or(Decay::kNone)) {
      case Decay::kNone: return 1.0;
      case Decay::kHalve: return 1 / std::pow(2.0, static_cast<double>(cycle - 1));
      case Decay::kExp: return std::pow(*spec.gamma, static_cast<double>(step));
    }
  }
  const ScaleMode default_mode =
      spec.policy == Policy::kExpRange ? ScaleMode::kIterations : ScaleMode::kCycle;
  const ScaleMode mode = spec.scale_mode.value_or(default_mode);
  const double arg = static_cast<double>(mode == ScaleMode::kCycle ? cycle : step);
  switch (spec.policy) {
    case Policy::kTriangular2: return 1 / std::pow(2.0, arg - 1);  // 1 / (2. ** (x - 1))
    case Policy::kExpRange: return std::pow(spec.gamma.value_or(1.0), arg);  // gamma**(x)
    default: return 1.0;
  }
}

SchedulePoint CyclicAt(const ScheduleSpec& spec, int64_t step) {
  const CyclicPhase phase = CyclicPhaseAt(spec, step);
  double fraction = phase.scale_factor;
  if (spec.policy == Policy::kSine) fraction = (1 - std::cos(kPi * fraction)) / 2;
  const double scale = CyclicScale(spec, phase.cycle, step);
  SchedulePoint p;
  // base_height = (max_lr - base_lr) * scale_factor; lr = base_lr + base_height * scale_fn(.)
  const double base_height = (*spec.max_lr - *spec.base_lr) * fraction;
  p.lr = *spec.base_lr + base_height * scale;
  if (spec.base_momentum) {
    // momentum = max_momentum - (max_momentum - base_momentum) * scale_factor * scale_fn(.)
    const double m_height = (*spec.max_momentum - *spec.base_momentum) * fraction;
    p.momentum = *spec.max_momentum - m_height * scale;
  }
  p.cycle = phase.cycle - 1;
  p.cycle_position = phase.x;
  return p;
}

// OneCycleLR._annealing_cos / _annealing_linear.
double AnnealValue(Anneal how, double start, double end, double pct) {
  if (how == Anneal::kLinear) return (end - start) * pct + start;
  const double cos_out = std::cos(kPi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

struct OneCyclePhase {
  double end_step;
  double start_lr, end_lr;
  double start_momentum, end_momentum;
};

SchedulePoint OneCycleAt(const ScheduleSpec& spec, int64_t step) {
  const int64_t total = *spec.total_steps;
  const int64_t s = std::min(step, total - 1);  // hold the final value (PyTorch raises)
  const double pct_start = spec.pct_start.value_or(0.3);
  const double max_lr = *spec.max_lr;
  const double initial_lr = max_lr / spec.div_factor.value_or(25.0);
  const double min_lr = initial_lr / spec.final_div_factor.value_or(1e4);
  const double base_m = spec.base_momentum.value_or(0.0);
  const double max_m = spec.max_momentum.value_or(0.0);
  const double total_d = static_cast<double>(total);
  // OneCycleLR._schedule_phases; end_step = float(pct_start * total_steps) - 1, ...
  std::array<OneCyclePhase, 3> phases;
  size_t num_phases = 0;
  phases[num_phases++] = {pct_start * total_d - 1, initial_lr, max_lr, max_m, base_m};
  if (spec.three_phase.value_or(false)) {
    phases[num_phases++] = {2 * pct_start * total_d - 2, max_lr, initial_lr, base_m, max_m};
    phases[num_phases++] = {static_cast<double>(total - 1), initial_lr, min_lr, max_m, max_m};
  } else {
    phases[num_phases++] = {static_cast<double>(total - 1), max_lr, min_lr, base_m, max_m};
  }
  const Anneal how = spec.anneal.value_or(Anneal::kCos);
  const double step_num = static_cast<double>(s);
  double start_step = 0;
  SchedulePoint p;
  for (size_t i = 0; i < num_phases; ++i) {
    const OneCyclePhase& ph = phases[i];
    if (step_num <= ph.end_step || i == num_phases - 1) {
      const double pct = (step_num - start_step) / (ph.end_step - start_step);
      p.lr = AnnealValue(how, ph.start_lr, ph.end_lr, pct);
      if (spec.base_momentum) p.momentum = AnnealValue(how, ph.start_momentum, ph.end_momentum, pct);
      break;
    }
    start_step = ph.end_step;
  }
  p.cycle = 0;
  p.cycle_position = step_num / total_d;
  return p;
}

SchedulePoint CosineRestartsAt(const ScheduleSpec& spec, int64_t step) {
  const int64_t t0 = *spec.t0;
  const int64_t mult = spec.t_mult.value_or(1);
  int64_t restart = 0;
  int64_t t_cur = 0;
  __int128 t_i = t0;  // grows as t0 * mult^n; 128 bits cannot overflow before it exceeds step
  if (mult == 1) {
    restart = step / t0;
    t_cur = step % t0;
  } else {
    int64_t rest = step;
    while (rest >= t_i) {
      rest -= static_cast<int64_t>(t_i);
      t_i *= mult;
      ++restart;
    }
    t_cur = rest;
  }
  const double eta_min = spec.base_lr.value_or(0.0);
  const double base_lr = *spec.max_lr;  // the optimizer's initial lr
  const double t_i_d = static_cast<double>(t_i);
  // eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
  const double cos_term = 1 + std::cos(kPi * static_cast<double>(t_cur) / t_i_d);
  SchedulePoint p;
  p.lr = eta_min + (base_lr - eta_min) * cos_term / 2;
  if (spec.base_momentum) {
    // Opposite to the LR: base_momentum where the LR peaks, max_momentum where it bottoms.
    p.momentum = *spec.max_momentum - (*spec.max_momentum - *spec.base_momentum) * (cos_term / 2);
  }
  p.cycle = restart;
  p.cycle_position = static_cast<double>(t_cur) / t_i_d;
  return p;
}

// The LR range test: step t of N rises from base_lr (t = 0) to max_lr (t = N - 1), then holds.
//   exp:    base_lr * (max_lr / base_lr) ** (t / (N - 1))   (fastai's lr_find rule)
//   linear: base_lr * (1 + rate * t), rate = (max_lr / base_lr - 1) / (N - 1)   (DeepSpeed's
//           LRRangeTest, step size 1, with the rate that reaches max_lr at the last step)
// in the operation order of tests/reference/gen_traces.py's LambdaLR, so values are bit-equal.
SchedulePoint RangeTestAt(const ScheduleSpec& spec, int64_t step) {
  const int64_t last = *spec.total_steps - 1;
  const int64_t t = std::min(step, last);
  const double base = *spec.base_lr, top = *spec.max_lr;
  const double last_d = static_cast<double>(last), t_d = static_cast<double>(t);
  SchedulePoint p;
  if (spec.ramp.value_or(Ramp::kExp) == Ramp::kExp) {
    p.lr = base * std::pow(top / base, t_d / last_d);
  } else {
    const double rate = (top / base - 1.0) / last_d;
    p.lr = base * (1.0 + rate * t_d);
  }
  p.cycle = 0;
  // One "cycle" of N steps; the held tail stays at its last position.
  p.cycle_position = static_cast<double>(t) / static_cast<double>(*spec.total_steps);
  return p;
}

}  // namespace

StatusOr<Schedule> Schedule::Create(const ScheduleSpec& spec) {
  CYCLR_RETURN_IF_ERROR(ValidateSpec(spec));
  return Schedule(spec);
}

SchedulePoint Schedule::At(int64_t step) const {
  CYCLR_CHECK_MSG(step >= 0, "Schedule::At needs a step >= 0");
  const int64_t warmup = spec_.warmup_steps.value_or(0);
  if (step >= warmup) return PolicyAt(step - warmup);
  // Linear warm-up towards the policy's first value: lr0 * (step + 1) / (W + 1).
  SchedulePoint p = PolicyAt(0);
  p.lr = p.lr * static_cast<double>(step + 1) / static_cast<double>(warmup + 1);
  p.cycle = 0;
  p.cycle_position = 0.0;
  return p;
}

SchedulePoint Schedule::PolicyAt(int64_t step) const {
  switch (spec_.policy) {
    case Policy::kConstant: {
      SchedulePoint p;
      p.lr = *spec_.base_lr;
      return p;
    }
    case Policy::kTriangular:
    case Policy::kTriangular2:
    case Policy::kExpRange:
    case Policy::kSine: return CyclicAt(spec_, step);
    case Policy::kOneCycle: return OneCycleAt(spec_, step);
    case Policy::kCosineRestarts: return CosineRestartsAt(spec_, step);
    case Policy::kRangeTest: return RangeTestAt(spec_, step);
  }
  return SchedulePoint{};
}

}  // namespace cyclr
