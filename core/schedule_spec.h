// ScheduleSpec: one learning-rate policy with its parameters, as a user writes it.
//
// Every parameter is optional so that "set by the user" is visible: validation rejects options
// that do not belong to the policy, and the defaults (PyTorch's) are filled in by the evaluator.
// Names match the CLI flags (kebab-case there), the YAML/JSON files and the proto (snake_case).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr {

enum class Policy {
  kConstant,
  kTriangular,
  kTriangular2,
  kExpRange,
  kSine,
  kOneCycle,
  kCosineRestarts,
  kRangeTest,  // the LR range test: a ramp from base_lr to max_lr over total_steps
};

enum class ScaleMode { kCycle, kIterations };
enum class Anneal { kCos, kLinear };
// Amplitude decay of the `sine` policy: none, halving per cycle (as triangular2) or gamma per
// step (as exp_range).
enum class Decay { kNone, kHalve, kExp };
// The shape of the range test's ramp: geometric (fastai's lr_find, torch-lr-finder's "exp") or
// arithmetic (DeepSpeed's LRRangeTest, torch-lr-finder's "linear").
enum class Ramp { kExp, kLinear };

// The largest step count or step size accepted: large enough for any training run, small enough
// that step arithmetic in int64 and double stays exact.
inline constexpr int64_t kMaxSteps = int64_t{1} << 40;

struct ScheduleSpec {
  Policy policy = Policy::kConstant;
  std::optional<double> base_lr;         // LR_min (cyclic), eta_min (cosine-restarts), the LR (constant)
  std::optional<double> max_lr;          // LR_max
  std::optional<int64_t> step_size_up;   // cyclic: steps from base to max
  std::optional<int64_t> step_size_down; // cyclic: steps from max to base (default step_size_up)
  std::optional<double> gamma;           // exp_range, sine with decay=exp
  std::optional<ScaleMode> scale_mode;   // triangular*, exp_range
  std::optional<Decay> decay;            // sine
  std::optional<double> base_momentum;   // momentum cycling (both or neither)
  std::optional<double> max_momentum;
  std::optional<int64_t> total_steps;    // one-cycle
  std::optional<double> pct_start;       // one-cycle
  std::optional<Anneal> anneal;          // one-cycle
  std::optional<double> div_factor;      // one-cycle
  std::optional<double> final_div_factor;// one-cycle
  std::optional<bool> three_phase;       // one-cycle
  std::optional<int64_t> t0;             // cosine-restarts
  std::optional<int64_t> t_mult;         // cosine-restarts
  std::optional<int64_t> warmup_steps;   // any policy but range-test: linear warm-up before it
  std::optional<Ramp> ramp;              // range-test (default exp)

  bool operator==(const ScheduleSpec& o) const;
  bool operator!=(const ScheduleSpec& o) const { return !(*this == o); }
};

// Spellings shared by the CLI, YAML and proto: "triangular", "triangular2", "exp_range", "sine",
// "one-cycle", "cosine-restarts", "constant", "range-test".
const char* PolicyName(Policy p);
StatusOr<Policy> ParsePolicy(const std::string& name);
const char* ScaleModeName(ScaleMode m);  // "cycle" | "iterations"
const char* AnnealName(Anneal a);        // "cos" | "linear"
const char* DecayName(Decay d);          // "none" | "halve" | "exp"
const char* RampName(Ramp r);            // "exp" | "linear"

// Checks every rule; the first violation is returned as INVALID_ARGUMENT naming the field and
// the rule, e.g. "max_lr (0.001) must be >= base_lr (0.01)".
Status ValidateSpec(const ScheduleSpec& spec);

// Builds a spec from option name -> text (snake_case names, e.g. {"policy","triangular2"},
// {"base_lr","0.001"}). Unknown names and unparsable values are errors naming the option.
// The result is validated.
StatusOr<ScheduleSpec> SpecFromOptions(const std::map<std::string, std::string>& options);

// The options that are set, in a fixed order, as (snake_case name, text); the inverse of
// SpecFromOptions. Doubles are printed with 17 significant digits so the round trip is exact.
std::vector<std::pair<std::string, std::string>> SpecToOptions(const ScheduleSpec& spec);

// One line for humans: "triangular2 base_lr=0.001 max_lr=0.1 step_size_up=200".
std::string SpecToString(const ScheduleSpec& spec);

// All option names SpecFromOptions accepts (including "policy").
const std::vector<std::string>& SpecOptionNames();

// Added by the schedule engine: the shortest decimal text that parses back to exactly `v`
// ("0.1", "1e-05", "nan"); used in SpecToOptions, SpecToString and error messages.
std::string FormatDouble(double v);

}  // namespace cyclr
