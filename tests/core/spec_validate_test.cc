// Every validation rule: one row per rule, with the exact message the user sees.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/schedule.h"

namespace cyclr {
namespace {

using Options = std::map<std::string, std::string>;

struct Case {
  const char* label;
  Options options;
  const char* message;  // nullptr: valid
};

Options Triangular(Options extra = {}) {
  Options o = {{"policy", "triangular"}, {"base_lr", "0.001"}, {"max_lr", "0.01"},
               {"step_size_up", "20"}};
  for (auto& [k, v] : extra) o[k] = v;
  return o;
}

Options OneCycle(Options extra = {}) {
  Options o = {{"policy", "one-cycle"}, {"max_lr", "0.1"}, {"total_steps", "100"}};
  for (auto& [k, v] : extra) o[k] = v;
  return o;
}

Options Cosine(Options extra = {}) {
  Options o = {{"policy", "cosine-restarts"}, {"max_lr", "0.1"}, {"t0", "10"}};
  for (auto& [k, v] : extra) o[k] = v;
  return o;
}

Options RangeTest(Options extra = {}) {
  Options o = {{"policy", "range-test"}, {"base_lr", "1e-05"}, {"max_lr", "1"},
               {"total_steps", "100"}};
  for (auto& [k, v] : extra) o[k] = v;
  return o;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      // Valid specs of every policy.
      {"triangular ok", Triangular(), nullptr},
      {"triangular2 ok", Triangular({{"policy", "triangular2"}, {"step_size_down", "5"}}), nullptr},
      {"exp_range ok", Triangular({{"policy", "exp_range"}, {"gamma", "0.99"}}), nullptr},
      {"sine ok", Triangular({{"policy", "sine"}, {"decay", "halve"}}), nullptr},
      {"sine exp ok", Triangular({{"policy", "sine"}, {"decay", "exp"}, {"gamma", "0.9"}}), nullptr},
      {"one-cycle ok", OneCycle({{"three_phase", "true"}, {"anneal", "linear"}}), nullptr},
      {"cosine ok", Cosine({{"t_mult", "2"}, {"base_lr", "0"}}), nullptr},
      {"constant ok", {{"policy", "constant"}, {"base_lr", "0.1"}, {"warmup_steps", "5"}}, nullptr},
      {"momentum ok", Triangular({{"base_momentum", "0.8"}, {"max_momentum", "0.9"}}), nullptr},
      {"equal bounds ok", Triangular({{"max_lr", "0.001"}}), nullptr},
      // Policy and option names.
      {"unknown policy", {{"policy", "foo"}},
       "policy 'foo' is unknown; expected one of constant, triangular, triangular2, exp_range, "
       "sine, one-cycle, cosine-restarts, range-test"},
      {"policy missing", {{"base_lr", "0.1"}}, "policy is required"},
      {"unknown option", Triangular({{"bse_lr", "1"}}),
       "option 'bse_lr' is unknown; expected one of policy, base_lr, max_lr, step_size_up, "
       "step_size_down, gamma, scale_mode, decay, base_momentum, max_momentum, total_steps, "
       "pct_start, anneal, div_factor, final_div_factor, three_phase, t0, t_mult, warmup_steps, ramp"},
      {"foreign option", Triangular({{"t0", "5"}}), "t0 does not apply to policy triangular"},
      {"gamma on triangular", Triangular({{"gamma", "0.5"}}),
       "gamma does not apply to policy triangular"},
      {"base_lr on one-cycle", OneCycle({{"base_lr", "0.01"}}),
       "base_lr does not apply to policy one-cycle"},
      {"max_lr on constant", {{"policy", "constant"}, {"base_lr", "0.1"}, {"max_lr", "1"}},
       "max_lr does not apply to policy constant"},
      {"decay on triangular", Triangular({{"decay", "halve"}}),
       "decay does not apply to policy triangular"},
      {"scale_mode on sine", Triangular({{"policy", "sine"}, {"scale_mode", "cycle"}}),
       "scale_mode does not apply to policy sine"},
      {"max_lr required", {{"policy", "triangular"}, {"base_lr", "0.1"}},
       "max_lr is required for policy triangular"},
      {"base_lr required", {{"policy", "sine"}, {"max_lr", "0.1"}},
       "base_lr is required for policy sine"},
      {"constant base_lr", {{"policy", "constant"}}, "base_lr is required for policy constant"},
      {"total_steps required", {{"policy", "one-cycle"}, {"max_lr", "0.1"}},
       "total_steps is required for policy one-cycle"},
      {"t0 required", {{"policy", "cosine-restarts"}, {"max_lr", "0.1"}},
       "t0 is required for policy cosine-restarts"},
      {"sine exp needs gamma", Triangular({{"policy", "sine"}, {"decay", "exp"}}),
       "gamma is required for policy sine with decay exp"},
      {"sine gamma without exp", Triangular({{"policy", "sine"}, {"gamma", "0.9"}}),
       "gamma applies to policy sine only with decay exp"},
      {"only base_momentum", Triangular({{"base_momentum", "0.8"}}),
       "max_momentum is required when base_momentum is set"},
      {"only max_momentum", OneCycle({{"max_momentum", "0.9"}}),
       "base_momentum is required when max_momentum is set"},
      // Values.
      {"unparsable", Triangular({{"base_lr", "abc"}}), "base_lr 'abc' is not a number"},
      {"unparsable int", Triangular({{"step_size_up", "2.5"}}),
       "step_size_up '2.5' is not an integer"},
      {"bad bool", OneCycle({{"three_phase", "yes"}}),
       "three_phase 'yes' is not a boolean; expected true, false, 1 or 0"},
      {"bad enum", OneCycle({{"anneal", "cosine"}}),
       "anneal 'cosine' is unknown; expected one of cos, linear"},
      {"nan lr", Triangular({{"base_lr", "nan"}}), "base_lr (nan) must be a finite number"},
      {"inf lr", Triangular({{"max_lr", "inf"}}), "max_lr (inf) must be a finite number"},
      {"zero lr", Triangular({{"base_lr", "0"}}), "base_lr (0) must be > 0"},
      {"negative lr", Triangular({{"max_lr", "-1"}}), "max_lr (-1) must be > 0"},
      {"negative eta_min", Cosine({{"base_lr", "-0.1"}}), "base_lr (-0.1) must be >= 0"},
      {"max below base", Triangular({{"base_lr", "0.01"}, {"max_lr", "0.001"}}),
       "max_lr (0.001) must be >= base_lr (0.01)"},
      {"cosine max below eta", Cosine({{"base_lr", "0.5"}}), "max_lr (0.1) must be >= base_lr (0.5)"},
      {"step size 0", Triangular({{"step_size_up", "0"}}), "step_size_up (0) must be >= 1"},
      {"step size down -3", Triangular({{"step_size_down", "-3"}}),
       "step_size_down (-3) must be >= 1"},
      {"step size huge", Triangular({{"step_size_up", "1099511627777"}}),
       "step_size_up (1099511627777) must be <= 1099511627776"},
      {"gamma 0", Triangular({{"policy", "exp_range"}, {"gamma", "0"}}),
       "gamma (0) must be in (0, 1]"},
      {"gamma 1.5", Triangular({{"policy", "exp_range"}, {"gamma", "1.5"}}),
       "gamma (1.5) must be in (0, 1]"},
      {"momentum 1", Triangular({{"base_momentum", "0.5"}, {"max_momentum", "1"}}),
       "max_momentum (1) must be in [0, 1)"},
      {"momentum negative", Triangular({{"base_momentum", "-0.1"}, {"max_momentum", "0.9"}}),
       "base_momentum (-0.1) must be in [0, 1)"},
      {"momentum order", Triangular({{"base_momentum", "0.95"}, {"max_momentum", "0.85"}}),
       "base_momentum (0.95) must be <= max_momentum (0.85)"},
      {"total_steps 1", OneCycle({{"total_steps", "1"}}), "total_steps (1) must be >= 2"},
      {"pct_start 0", OneCycle({{"pct_start", "0"}}), "pct_start (0) must be in (0, 1)"},
      {"pct_start 1", OneCycle({{"pct_start", "1"}}), "pct_start (1) must be in (0, 1)"},
      {"div_factor 0", OneCycle({{"div_factor", "0"}}), "div_factor (0) must be > 0"},
      {"final_div_factor -1", OneCycle({{"final_div_factor", "-1"}}),
       "final_div_factor (-1) must be > 0"},
      {"empty rising phase", OneCycle({{"total_steps", "3"}}),
       "pct_start * total_steps (0.3 * 3) must be > 1 so that the rising phase spans at least one "
       "step"},
      {"three phase too long", OneCycle({{"three_phase", "1"}, {"pct_start", "0.6"}}),
       "pct_start (0.6) is too large for three_phase: 2 * pct_start * total_steps - 2 must be < "
       "total_steps - 1 (99)"},
      {"t0 0", Cosine({{"t0", "0"}}), "t0 (0) must be >= 1"},
      {"t_mult 0", Cosine({{"t_mult", "0"}}), "t_mult (0) must be >= 1"},
      {"warmup negative", Triangular({{"warmup_steps", "-1"}}), "warmup_steps (-1) must be >= 0"},
      {"range-test", RangeTest(), nullptr},
      {"range-test linear", RangeTest({{"ramp", "linear"}}), nullptr},
      {"range-test needs steps", {{"policy", "range-test"}, {"base_lr", "1"}, {"max_lr", "2"}},
       "total_steps is required for policy range-test"},
      {"range-test one step", RangeTest({{"total_steps", "1"}}), "total_steps (1) must be >= 2"},
      {"range-test downwards", RangeTest({{"max_lr", "1e-06"}}),
       "max_lr (1e-06) must be >= base_lr (1e-05)"},
      {"range-test ratio", RangeTest({{"base_lr", "1e-300"}, {"max_lr", "1e+300"}}),
       "max_lr / base_lr (1e+300 / 1e-300) must be a finite number for policy range-test"},
      {"range-test warmup", RangeTest({{"warmup_steps", "5"}}),
       "warmup_steps does not apply to policy range-test"},
      {"range-test ramp", RangeTest({{"ramp", "cos"}}),
       "ramp 'cos' is unknown; expected one of exp, linear"},
      {"ramp elsewhere", Triangular({{"ramp", "exp"}}), "ramp does not apply to policy triangular"},
  };
  return kCases;
}

TEST(SpecValidateTest, EveryRuleHasItsMessage) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.label);
    StatusOr<ScheduleSpec> spec = SpecFromOptions(c.options);
    if (c.message == nullptr) {
      EXPECT_TRUE(spec.ok()) << spec.status().ToString();
      EXPECT_TRUE(spec.ok() && Schedule::Create(*spec).ok());
      continue;
    }
    ASSERT_FALSE(spec.ok());
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(), c.message);
  }
}

TEST(SpecValidateTest, ScheduleCreateAppliesTheSameRules) {
  ScheduleSpec spec;
  spec.policy = Policy::kTriangular;
  spec.base_lr = 0.01;
  spec.max_lr = 0.001;
  StatusOr<Schedule> schedule = Schedule::Create(spec);
  ASSERT_FALSE(schedule.ok());
  EXPECT_EQ(schedule.status().message(), "max_lr (0.001) must be >= base_lr (0.01)");
  EXPECT_EQ(ValidateSpec(spec).message(), schedule.status().message());
}

TEST(SpecValidateTest, NonFiniteValuesInSpecsBuiltInCode) {
  ScheduleSpec spec;
  spec.policy = Policy::kOneCycle;
  spec.max_lr = 0.1;
  spec.total_steps = 100;
  spec.div_factor = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ValidateSpec(spec).message(), "div_factor (inf) must be a finite number");
  spec.div_factor = std::nan("");
  EXPECT_EQ(ValidateSpec(spec).message(), "div_factor (nan) must be a finite number");
  spec.div_factor.reset();
  spec.pct_start = std::nan("");
  EXPECT_EQ(ValidateSpec(spec).message(), "pct_start (nan) must be in (0, 1)");
}

TEST(SpecValidateTest, FirstViolationWins) {
  // Both the policy membership and a value are wrong: membership is reported.
  Options o = Triangular({{"t0", "0"}, {"base_lr", "-1"}});
  EXPECT_EQ(SpecFromOptions(o).status().message(), "t0 does not apply to policy triangular");
}

}  // namespace
}  // namespace cyclr
