// Schedule properties that PyTorch has no reference for (sine, warm-up, constant, momentum of
// cosine-restarts, holds and huge steps) and the cycle/position bookkeeping of every policy.
#include <cmath>

#include <gtest/gtest.h>

#include "core/schedule.h"

namespace cyclr {
namespace {

Schedule Make(const std::map<std::string, std::string>& options) {
  StatusOr<ScheduleSpec> spec = SpecFromOptions(options);
  CYCLR_CHECK_MSG(spec.ok(), spec.status().message());
  StatusOr<Schedule> schedule = Schedule::Create(*spec);
  CYCLR_CHECK(schedule.ok());
  return *schedule;
}

Schedule Sine(const std::string& decay = "none", const std::string& up = "10",
              const std::string& down = "10") {
  std::map<std::string, std::string> o = {{"policy", "sine"},        {"base_lr", "0.01"},
                                          {"max_lr", "0.09"},        {"step_size_up", up},
                                          {"step_size_down", down},  {"decay", decay},
                                          {"base_momentum", "0.85"}, {"max_momentum", "0.95"}};
  if (decay == "exp") o["gamma"] = "0.99";
  return Make(o);
}

// The range test's ramp (exact values against LambdaLR are in reference_test): starts at base_lr,
// reaches max_lr at the last step of total_steps, holds it after, never cycles.
TEST(RangeTestTest, RampsFromBaseToMaxThenHolds) {
  for (const char* ramp : {"exp", "linear"}) {
    SCOPED_TRACE(ramp);
    Schedule s = Make({{"policy", "range-test"}, {"base_lr", "0.0001"}, {"max_lr", "1"},
                       {"total_steps", "50"}, {"ramp", ramp}});
    EXPECT_DOUBLE_EQ(s.At(0).lr, 0.0001);
    EXPECT_NEAR(s.At(49).lr, 1.0, 1e-12);
    EXPECT_EQ(s.At(49).lr, s.At(50).lr);
    EXPECT_EQ(s.At(49).lr, s.At(int64_t{1} << 40).lr);
    for (int64_t k = 1; k < 50; ++k) EXPECT_GT(s.At(k).lr, s.At(k - 1).lr) << k;
    EXPECT_FALSE(s.At(10).momentum.has_value());
    EXPECT_EQ(s.At(10).cycle, 0);
    EXPECT_DOUBLE_EQ(s.At(10).cycle_position, 10.0 / 50);
    EXPECT_LT(s.At(1000).cycle_position, 1.0);
  }
  // exp: equal ratios per step (a straight line on a log axis); linear: equal differences.
  Schedule e = Make({{"policy", "range-test"}, {"base_lr", "0.001"}, {"max_lr", "10"},
                     {"total_steps", "5"}});
  EXPECT_NEAR(e.At(1).lr, 0.01, 1e-15);
  EXPECT_NEAR(e.At(2).lr, 0.1, 1e-15);
  Schedule l = Make({{"policy", "range-test"}, {"base_lr", "1"}, {"max_lr", "5"},
                     {"total_steps", "5"}, {"ramp", "linear"}});
  EXPECT_DOUBLE_EQ(l.At(1).lr, 2.0);
  EXPECT_DOUBLE_EQ(l.At(3).lr, 4.0);
}

TEST(SineTest, EndpointsAndPeak) {
  Schedule s = Sine("none", "10", "30");
  EXPECT_DOUBLE_EQ(s.At(0).lr, 0.01);
  EXPECT_DOUBLE_EQ(s.At(10).lr, 0.09);  // the peak after step_size_up steps
  EXPECT_DOUBLE_EQ(s.At(40).lr, 0.01);  // back at the base after up + down
  EXPECT_EQ(s.At(40).cycle, 1);
  EXPECT_DOUBLE_EQ(*s.At(0).momentum, 0.95);  // momentum moves opposite to the LR
  EXPECT_DOUBLE_EQ(*s.At(10).momentum, 0.85);
  // Half way up the ramp the half-cosine is at half height.
  EXPECT_NEAR(s.At(5).lr, 0.05, 1e-15);
}

TEST(SineTest, SymmetricRampIsMirrored) {
  Schedule s = Sine("none", "16", "16");
  for (int k = 0; k <= 16; ++k) {
    EXPECT_NEAR(s.At(k).lr, s.At(32 - k).lr, 1e-15) << k;
    if (k > 0) {
      EXPECT_GT(s.At(k).lr, s.At(k - 1).lr) << k;  // strictly rising on the way up
    }
  }
}

TEST(SineTest, IsTheHalfCosineOfTriangularsFraction) {
  Schedule sine = Sine("none", "7", "13");
  Schedule tri = Make({{"policy", "triangular"}, {"base_lr", "0.01"}, {"max_lr", "0.09"},
                       {"step_size_up", "7"}, {"step_size_down", "13"}});
  for (int k = 0; k < 100; ++k) {
    double s = (tri.At(k).lr - 0.01) / 0.08;
    EXPECT_NEAR(sine.At(k).lr, 0.01 + 0.08 * (1 - std::cos(M_PI * s)) / 2, 1e-12) << k;
    EXPECT_EQ(sine.At(k).cycle, tri.At(k).cycle);
    EXPECT_EQ(sine.At(k).cycle_position, tri.At(k).cycle_position);
  }
}

TEST(SineTest, HalveDecayHalvesEachCyclesPeak) {
  Schedule s = Sine("halve");
  for (int c = 0; c < 6; ++c) {
    EXPECT_DOUBLE_EQ(s.At(20 * c + 10).lr - 0.01, 0.08 / std::pow(2.0, c)) << c;
    // Momentum's amplitude decays with it.
    EXPECT_NEAR(0.95 - *s.At(20 * c + 10).momentum, 0.1 / std::pow(2.0, c), 1e-15) << c;
  }
}

TEST(SineTest, ExpDecayMultipliesByGammaPerStep) {
  Schedule plain = Sine("none");
  Schedule decayed = Sine("exp");
  for (int k = 0; k < 200; k += 3) {
    EXPECT_NEAR(decayed.At(k).lr - 0.01, (plain.At(k).lr - 0.01) * std::pow(0.99, k), 1e-15);
  }
}

TEST(WarmupTest, RampsLinearlyToThePolicysFirstValueThenShifts) {
  Schedule plain = Sine("none");
  Schedule s = Make({{"policy", "sine"}, {"base_lr", "0.01"}, {"max_lr", "0.09"},
                     {"step_size_up", "10"}, {"base_momentum", "0.85"}, {"max_momentum", "0.95"},
                     {"warmup_steps", "4"}});
  for (int k = 0; k < 4; ++k) {
    SchedulePoint p = s.At(k);
    EXPECT_DOUBLE_EQ(p.lr, 0.01 * (k + 1) / 5.0) << k;
    EXPECT_EQ(p.momentum, plain.At(0).momentum);
    EXPECT_EQ(p.cycle, 0);
    EXPECT_EQ(p.cycle_position, 0.0);
    EXPECT_LT(p.lr, s.At(k + 1).lr);
  }
  for (int k = 4; k < 100; ++k) {
    EXPECT_EQ(s.At(k).lr, plain.At(k - 4).lr) << k;
    EXPECT_EQ(s.At(k).cycle, plain.At(k - 4).cycle) << k;
  }
}

TEST(WarmupTest, AppliesToOneCycleAndConstant) {
  Schedule c = Make({{"policy", "constant"}, {"base_lr", "0.5"}, {"warmup_steps", "1"}});
  EXPECT_DOUBLE_EQ(c.At(0).lr, 0.25);
  EXPECT_DOUBLE_EQ(c.At(1).lr, 0.5);
  Schedule plain = Make({{"policy", "one-cycle"}, {"max_lr", "1"}, {"total_steps", "10"}});
  Schedule oc = Make({{"policy", "one-cycle"}, {"max_lr", "1"}, {"total_steps", "10"},
                      {"warmup_steps", "9"}});
  EXPECT_NEAR(plain.At(0).lr, 1.0 / 25, 1e-15);  // initial_lr = max_lr / div_factor
  EXPECT_EQ(oc.At(0).lr, plain.At(0).lr * 1 / 10);
  EXPECT_EQ(oc.At(9).lr, plain.At(0).lr);
  EXPECT_EQ(oc.At(12).lr, plain.At(3).lr);
}

TEST(ConstantTest, IsConstantWithoutMomentum) {
  Schedule c = Make({{"policy", "constant"}, {"base_lr", "0.003"}});
  for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{1000}, kMaxSteps}) {
    EXPECT_EQ(c.At(k).lr, 0.003);
    EXPECT_FALSE(c.At(k).momentum.has_value());
    EXPECT_EQ(c.At(k).cycle, 0);
    EXPECT_EQ(c.At(k).cycle_position, 0.0);
  }
}

TEST(CyclicTest, CycleAndPosition) {
  Schedule s = Make({{"policy", "triangular"}, {"base_lr", "0.1"}, {"max_lr", "0.2"},
                     {"step_size_up", "3"}, {"step_size_down", "5"}});
  EXPECT_EQ(s.At(0).cycle, 0);
  EXPECT_EQ(s.At(7).cycle, 0);
  EXPECT_DOUBLE_EQ(s.At(3).cycle_position, 3.0 / 8);
  EXPECT_EQ(s.At(8).cycle, 1);
  EXPECT_EQ(s.At(8).cycle_position, 0.0);
  EXPECT_EQ(s.At(8 * 1000 + 4).cycle, 1000);
  EXPECT_FALSE(s.At(5).momentum.has_value());
}

TEST(CyclicTest, ScaleModeChangesExpRange) {
  std::map<std::string, std::string> o = {{"policy", "exp_range"}, {"base_lr", "0.1"},
                                          {"max_lr", "0.2"},       {"step_size_up", "5"},
                                          {"gamma", "0.9"}};
  Schedule iterations = Make(o);
  o["scale_mode"] = "cycle";
  Schedule cycle = Make(o);
  EXPECT_DOUBLE_EQ(iterations.At(5).lr, 0.1 + 0.1 * std::pow(0.9, 5));
  EXPECT_DOUBLE_EQ(cycle.At(5).lr, 0.1 + 0.1 * 0.9);
}

TEST(OneCycleTest, HoldsTheFinalValuePastTotalSteps) {
  Schedule s = Make({{"policy", "one-cycle"}, {"max_lr", "0.1"}, {"total_steps", "100"},
                     {"base_momentum", "0.85"}, {"max_momentum", "0.95"}});
  SchedulePoint last = s.At(99);
  EXPECT_DOUBLE_EQ(last.lr, 0.1 / 25 / 1e4);
  for (int64_t k : {int64_t{100}, int64_t{101}, int64_t{1} << 50}) {
    EXPECT_EQ(s.At(k).lr, last.lr);
    EXPECT_EQ(s.At(k).momentum, last.momentum);
    EXPECT_EQ(s.At(k).cycle_position, last.cycle_position);
  }
  EXPECT_EQ(s.At(50).cycle, 0);
  EXPECT_DOUBLE_EQ(s.At(50).cycle_position, 0.5);
  EXPECT_LT(last.cycle_position, 1.0);
}

// PyTorch's own recurrence (T_cur += 1; if T_cur >= T_i: T_cur -= T_i; T_i *= T_mult), run step by
// step, against the closed form for several T_0 / T_mult.
TEST(CosineRestartsTest, ClosedFormMatchesTheRecurrence) {
  for (int t0 : {1, 2, 5}) {
    for (int mult : {1, 2, 3, 4}) {
      Schedule s = Make({{"policy", "cosine-restarts"}, {"max_lr", "0.1"},
                         {"t0", std::to_string(t0)}, {"t_mult", std::to_string(mult)}});
      int64_t t_cur = 0, t_i = t0, restart = 0;
      for (int64_t k = 0; k < 5000; ++k) {
        if (k > 0 && ++t_cur >= t_i) {
          t_cur -= t_i;
          t_i *= mult;
          ++restart;
        }
        SchedulePoint p = s.At(k);
        ASSERT_EQ(p.cycle, restart) << t0 << " " << mult << " " << k;
        ASSERT_EQ(p.cycle_position, static_cast<double>(t_cur) / t_i);
        ASSERT_EQ(p.lr, 0 + (0.1 - 0) * (1 + std::cos(M_PI * t_cur / t_i)) / 2);
      }
    }
  }
}

TEST(CosineRestartsTest, MomentumMovesOppositeToTheLr) {
  Schedule s = Make({{"policy", "cosine-restarts"}, {"base_lr", "0.01"}, {"max_lr", "0.11"},
                     {"t0", "10"}, {"base_momentum", "0.8"}, {"max_momentum", "0.9"}});
  EXPECT_DOUBLE_EQ(*s.At(0).momentum, 0.8);  // LR at its peak
  EXPECT_DOUBLE_EQ(*s.At(10).momentum, 0.8);
  for (int k = 0; k < 10; ++k) {
    SchedulePoint p = s.At(k);
    double lr_fraction = (p.lr - 0.01) / 0.1;
    EXPECT_NEAR(*p.momentum, 0.9 - 0.1 * lr_fraction, 1e-12) << k;
  }
}

TEST(CosineRestartsTest, HugeStepsStayInRange) {
  Schedule s = Make({{"policy", "cosine-restarts"}, {"max_lr", "0.1"}, {"t0", "1099511627776"},
                     {"t_mult", "1099511627776"}});
  for (int64_t k : {int64_t{0}, kMaxSteps - 1, kMaxSteps, int64_t{1} << 62}) {
    SchedulePoint p = s.At(k);
    EXPECT_GE(p.lr, 0.0);
    EXPECT_LE(p.lr, 0.1);
    EXPECT_GE(p.cycle_position, 0.0);
    EXPECT_LT(p.cycle_position, 1.0);
  }
  EXPECT_EQ(s.At(kMaxSteps).cycle, 1);
  EXPECT_EQ(s.At(kMaxSteps).cycle_position, 0.0);
}

TEST(ScheduleTest, PositionsStayInTheUnitIntervalForEveryPolicy) {
  std::vector<Schedule> all = {
      Sine("halve", "3", "8"),
      Make({{"policy", "triangular2"}, {"base_lr", "0.1"}, {"max_lr", "0.2"}}),
      Make({{"policy", "one-cycle"}, {"max_lr", "0.1"}, {"total_steps", "77"},
            {"three_phase", "true"}}),
      Make({{"policy", "cosine-restarts"}, {"max_lr", "0.1"}, {"t0", "3"}, {"t_mult", "2"}}),
  };
  for (const Schedule& s : all) {
    SCOPED_TRACE(SpecToString(s.spec()));
    for (int64_t k = 0; k < 3000; k += 7) {
      SchedulePoint p = s.At(k);
      ASSERT_GE(p.cycle_position, 0.0) << k;
      ASSERT_LT(p.cycle_position, 1.0) << k;
      ASSERT_TRUE(std::isfinite(p.lr) && p.lr > 0) << k;
    }
  }
}

}  // namespace
}  // namespace cyclr
