// SpecFromOptions / SpecToOptions / SpecToString / names: round trips and spellings.
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "core/schedule_spec.h"

namespace cyclr {
namespace {

ScheduleSpec FullOneCycle() {
  ScheduleSpec s;
  s.policy = Policy::kOneCycle;
  s.max_lr = 0.1;
  s.total_steps = 1000;
  s.pct_start = 0.25;
  s.anneal = Anneal::kLinear;
  s.div_factor = 10.0 / 3.0;  // not a short decimal: the round trip must still be exact
  s.final_div_factor = 1e4;
  s.three_phase = true;
  s.base_momentum = 0.85;
  s.max_momentum = 0.95;
  s.warmup_steps = 7;
  return s;
}

std::vector<ScheduleSpec> ValidSpecs() {
  std::vector<ScheduleSpec> specs;
  ScheduleSpec tri;
  tri.policy = Policy::kExpRange;
  tri.base_lr = 1e-5;
  tri.max_lr = 0.1 + 0.2;  // 0.30000000000000004
  tri.step_size_up = 2000;
  tri.step_size_down = 1;
  tri.gamma = 0.999;
  tri.scale_mode = ScaleMode::kCycle;
  specs.push_back(tri);
  ScheduleSpec sine;
  sine.policy = Policy::kSine;
  sine.base_lr = 0.001;
  sine.max_lr = 0.01;
  sine.decay = Decay::kHalve;
  specs.push_back(sine);
  specs.push_back(FullOneCycle());
  ScheduleSpec cos;
  cos.policy = Policy::kCosineRestarts;
  cos.base_lr = 0.0;
  cos.max_lr = 0.5;
  cos.t0 = 3;
  cos.t_mult = 2;
  specs.push_back(cos);
  ScheduleSpec constant;
  constant.base_lr = 0.05;
  specs.push_back(constant);
  return specs;
}

TEST(SpecOptionsTest, RoundTripIsExact) {
  for (const ScheduleSpec& spec : ValidSpecs()) {
    SCOPED_TRACE(SpecToString(spec));
    ASSERT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec).message();
    auto pairs = SpecToOptions(spec);
    std::map<std::string, std::string> options(pairs.begin(), pairs.end());
    EXPECT_EQ(options.size(), pairs.size()) << "an option was listed twice";
    StatusOr<ScheduleSpec> back = SpecFromOptions(options);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, spec);
  }
}

TEST(SpecOptionsTest, OnlySetOptionsInFixedOrder) {
  auto pairs = SpecToOptions(FullOneCycle());
  std::vector<std::string> names;
  for (auto& p : pairs) names.push_back(p.first);
  EXPECT_EQ(names, (std::vector<std::string>{"policy", "max_lr", "base_momentum", "max_momentum",
                                             "total_steps", "pct_start", "anneal", "div_factor",
                                             "final_div_factor", "three_phase", "warmup_steps"}));
  // Order follows SpecOptionNames().
  const auto& all = SpecOptionNames();
  size_t last = 0;
  for (const std::string& n : names) {
    auto pos = static_cast<size_t>(std::find(all.begin(), all.end(), n) - all.begin());
    ASSERT_LT(pos, all.size()) << n;
    EXPECT_GE(pos, last) << n;
    last = pos;
  }
  EXPECT_EQ(pairs.front(), std::make_pair(std::string("policy"), std::string("one-cycle")));
}

TEST(SpecOptionsTest, SpecToStringIsOneReadableLine) {
  ScheduleSpec s;
  s.policy = Policy::kTriangular2;
  s.base_lr = 0.001;
  s.max_lr = 0.1;
  s.step_size_up = 200;
  EXPECT_EQ(SpecToString(s), "triangular2 base_lr=0.001 max_lr=0.1 step_size_up=200");
}

TEST(SpecOptionsTest, FormatDoubleIsShortestExact) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(1e-05), "1e-05");
  EXPECT_EQ(FormatDouble(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatDouble(2000), "2000");
  EXPECT_EQ(FormatDouble(123456789.0), "123456789");
  EXPECT_EQ(FormatDouble(1e20), "1e+20");
  EXPECT_EQ(FormatDouble(-2.5), "-2.5");
  EXPECT_EQ(FormatDouble(std::nan("")), "nan");
  for (double v : {1.0 / 3.0, 2.0 / 7.0, 6.02214076e23, 5e-324}) {
    EXPECT_EQ(std::strtod(FormatDouble(v).c_str(), nullptr), v);
  }
}

TEST(SpecOptionsTest, AcceptsKebabCaseAndBooleanSpellings) {
  StatusOr<ScheduleSpec> s = SpecFromOptions({{"policy", "one_cycle"},
                                              {"max-lr", "0.1"},
                                              {"total-steps", "100"},
                                              {"three-phase", "0"}});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->policy, Policy::kOneCycle);
  EXPECT_EQ(s->three_phase, false);
  EXPECT_EQ(s->max_lr, 0.1);
  s = SpecFromOptions({{"policy", "one-cycle"}, {"max_lr", "0.1"}, {"total_steps", "100"},
                       {"three_phase", "1"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->three_phase, true);
}

TEST(SpecOptionsTest, DuplicateSpellingsAreAnError) {
  StatusOr<ScheduleSpec> s =
      SpecFromOptions({{"policy", "constant"}, {"base_lr", "0.1"}, {"base-lr", "0.2"}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "base_lr is given twice");
}

TEST(SpecOptionsTest, NumbersOutOfRangeAndTrailingText) {
  auto msg = [](const std::string& name, const std::string& text) {
    std::map<std::string, std::string> o = {{"policy", "triangular"}, {"base_lr", "0.001"},
                                            {"max_lr", "0.01"}};
    o[name] = text;
    return SpecFromOptions(o).status().message();
  };
  EXPECT_EQ(msg("step_size_up", "99999999999999999999"),
            "step_size_up '99999999999999999999' is out of range");
  EXPECT_EQ(msg("max_lr", "1e999"), "max_lr '1e999' is out of range");
  EXPECT_EQ(msg("max_lr", "0.1x"), "max_lr '0.1x' is not a number");
  EXPECT_EQ(msg("max_lr", ""), "max_lr '' is not a number");
  EXPECT_EQ(msg("step_size_up", " 5"), "step_size_up ' 5' is not an integer");
}

TEST(SpecOptionsTest, NamesAndParsers) {
  for (Policy p : {Policy::kConstant, Policy::kTriangular, Policy::kTriangular2, Policy::kExpRange,
                   Policy::kSine, Policy::kOneCycle, Policy::kCosineRestarts}) {
    StatusOr<Policy> back = ParsePolicy(PolicyName(p));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
  }
  EXPECT_STREQ(PolicyName(Policy::kOneCycle), "one-cycle");
  EXPECT_STREQ(PolicyName(Policy::kExpRange), "exp_range");
  EXPECT_STREQ(ScaleModeName(ScaleMode::kIterations), "iterations");
  EXPECT_STREQ(AnnealName(Anneal::kCos), "cos");
  EXPECT_STREQ(DecayName(Decay::kHalve), "halve");
  EXPECT_STREQ(RampName(Ramp::kLinear), "linear");
  EXPECT_EQ(SpecOptionNames().size(), 20u);
  EXPECT_EQ(SpecOptionNames().front(), "policy");
}

TEST(SpecOptionsTest, EqualityComparesEveryField) {
  ScheduleSpec a = FullOneCycle();
  ScheduleSpec b = a;
  EXPECT_EQ(a, b);
  b.warmup_steps = 8;
  EXPECT_NE(a, b);
  b = a;
  b.three_phase.reset();
  EXPECT_NE(a, b);
  b = a;
  b.ramp = Ramp::kLinear;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace cyclr
