// The range test's curve math (core/loss_curve.h) and suggestion rules (core/lr_suggestions.h) on
// hand-made curves whose answers are known from their formula.
#include "core/lr_suggestions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cyclr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 200 points, LR 1e-5 .. 1 geometric (x = log10 lr from -5 to 0). The loss falls as a tanh
// centred on x = -3 (steepest there) from 2.3 to 0.3, flat from about x = -2, and rises as a
// parabola past x = -1.5 (the lowest loss is at x = -1.5).
double CleanLoss(double x) {
  if (x <= -1.5) return 1.3 - std::tanh((x + 3) / 0.5);
  return 1.3 - std::tanh(3.0) + 5 * (x + 1.5) * (x + 1.5);
}

std::vector<LossCurvePoint> Curve(double (*loss)(double), int n = 200, double noise = 0) {
  std::vector<LossCurvePoint> c;
  uint64_t state = 12345;
  for (int i = 0; i < n; ++i) {
    const double x = -5.0 + 5.0 * i / (n - 1);
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
    c.push_back({i, std::pow(10.0, x), loss(x) * (1 + noise * (2 * u - 1))});
  }
  return c;
}

// Within `decades` of the expected LR on the log axis.
void ExpectNear(double lr, double expected, double decades = 0.15) {
  EXPECT_NEAR(std::log10(lr), std::log10(expected), decades) << "lr " << lr;
}

TEST(EmaSmooth, BiasCorrectedFromTheFirstPoint) {
  std::vector<double> s = EmaSmooth({2, 2, 2, 4}, 0.98);
  EXPECT_DOUBLE_EQ(s[0], 2);  // not pulled towards 0
  EXPECT_DOUBLE_EQ(s[2], 2);
  // s_3 = (0.98^3 * 0.02 * 2 * ... ) / (1 - 0.98^4): the weights of the 4th value is 0.02 / (1 -
  // 0.98^4).
  EXPECT_NEAR(s[3], 2 + 2 * 0.02 / (1 - std::pow(0.98, 4)), 1e-12);
  std::vector<double> broken = EmaSmooth({1, kNaN, 1}, 0.9);
  EXPECT_TRUE(std::isnan(broken[1]) && std::isnan(broken[2]));
}

TEST(ZeroLagSmooth, HasNoLagOnARamp) {
  std::vector<double> ramp;
  for (int i = 0; i < 400; ++i) ramp.push_back(i);
  std::vector<double> causal = EmaSmooth(ramp, 0.9), zero = ZeroLagSmooth(ramp, 0.9);
  // Away from the ends the causal average trails a ramp by beta / (1 - beta) = 9 steps; the
  // forward-backward one does not.
  EXPECT_NEAR(causal[200], 191, 0.01);
  EXPECT_NEAR(zero[200], 200, 0.01);
}

TEST(RangeTestMonitor, StopsAtFourTimesTheSmoothedMinimumOrANonFiniteLoss) {
  RangeTestMonitor m;
  int64_t step = 0;
  for (; step < 100; ++step) ASSERT_TRUE(m.Observe(step, 1.0));
  for (; step < 10000 && m.Observe(step, 100.0); ++step) {
  }
  // (1 - 0.98^k) * 99 + 1 > 4 from k = ceil(log(1 - 3/99) / log(0.98)) = 2 steps of 100.
  EXPECT_EQ(step, 101);
  EXPECT_NE(m.Explain().find("exceeds 4 x its minimum"), std::string::npos) << m.Explain();
  RangeTestMonitor nan;
  EXPECT_TRUE(nan.Observe(0, 2.0));
  EXPECT_FALSE(nan.Observe(1, kNaN));
  EXPECT_NE(nan.Explain().find("step 1 is nan"), std::string::npos) << nan.Explain();
}

TEST(SuggestLr, CleanCurve) {
  StatusOr<LrSuggestions> s = SuggestLr(Curve(CleanLoss), {.steps_per_epoch = 234});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectNear(s->Rule("steep"), 1e-3);  // the tanh's centre
  // The loss starts to fall (5 % of the descent) at tanh((x + 3) / 0.5) = -0.9, x = -3.74, and
  // the longest descending run goes on to the bottom (about x = -1.8): halfway is near -2.75.
  ExpectNear(s->Rule("valley"), std::pow(10.0, -2.75), 0.25);
  // The lowest loss lies in the flat bottom (x -2.0 .. -1.5); the symmetric smoothing feels the
  // rise on its right and moves it left, never past the bottom's start.
  const double lowest = std::log10(s->Rule("minimum") * 10);
  EXPECT_GE(lowest, -2.1);
  EXPECT_LE(lowest, -1.5);
  // Within 5 % of the descent of the minimum: tanh((x + 3) / 0.5) = 0.9, x = -2.26.
  ExpectNear(s->max_lr, std::pow(10.0, -2.26), 0.15);
  EXPECT_DOUBLE_EQ(s->base_lr, s->max_lr / 4);
  EXPECT_EQ(s->step_size_up, 4 * 234);
  EXPECT_GE(s->stop_step, 150);  // the parabola reached 4x the minimum
  EXPECT_LT(s->stop_step, 200);
  EXPECT_EQ(s->usable_points, s->stop_step);
}

TEST(SuggestLr, NoisyCurveStaysNearTheCleanAnswers) {
  StatusOr<LrSuggestions> clean = SuggestLr(Curve(CleanLoss), {});
  StatusOr<LrSuggestions> noisy = SuggestLr(Curve(CleanLoss, 200, 0.15), {});
  ASSERT_TRUE(clean.ok() && noisy.ok()) << noisy.status().ToString();
  for (const char* rule : {"steep", "valley", "minimum"}) {
    ExpectNear(noisy->Rule(rule), clean->Rule(rule), 0.35);
  }
  ExpectNear(noisy->max_lr, clean->max_lr, 0.3);
}

TEST(SuggestLr, NaNInTheMiddleEndsTheUsableCurve) {
  std::vector<LossCurvePoint> c = Curve(CleanLoss);
  c[140].loss = kNaN;
  StatusOr<LrSuggestions> s = SuggestLr(c, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->stop_step, 140);
  EXPECT_EQ(s->usable_points, 140);
  ExpectNear(s->Rule("steep"), 1e-3);
}

TEST(SuggestLr, DivergingAtOnceGivesNoSuggestions) {
  std::vector<LossCurvePoint> c = Curve(CleanLoss);
  c[6].loss = std::numeric_limits<double>::infinity();
  StatusOr<LrSuggestions> s = SuggestLr(c, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("diverged at step 6"), std::string::npos)
      << s.status().message();
}

TEST(SuggestLr, NeverDivergingSaysTheEndMayBeTooLow) {
  StatusOr<LrSuggestions> s =
      SuggestLr(Curve(+[](double x) { return 2.5 - std::tanh((x + 2) / 1.0); }), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->stop_step, -1);
  EXPECT_EQ(s->usable_points, 200);
  EXPECT_NE(s->note.find("still falling at the end"), std::string::npos) << s->note;
  ExpectNear(s->Rule("steep"), 1e-2, 0.2);
}

TEST(SuggestLr, ALossThatNeverFallsIsRefused) {
  StatusOr<LrSuggestions> s = SuggestLr(Curve(+[](double x) { return 2.0 + (x + 5); }), {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("never fell"), std::string::npos);
}

TEST(SuggestLr, BadPointsAreRefused) {
  std::vector<LossCurvePoint> c = Curve(CleanLoss);
  c[3].lr = -1;
  EXPECT_EQ(SuggestLr(c, {}).status().code(), StatusCode::kInvalidArgument);
  c = Curve(CleanLoss);
  c[3].step = 1;
  EXPECT_EQ(SuggestLr(c, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(SuggestLr, NoteWhenTheRulesDisagree) {
  // A long, shallow descent after an early steep drop: steep reads the drop, the minimum lies
  // two decades later.
  auto two_phase = +[](double x) {
    return x < -1 ? 2.0 - 0.8 * std::tanh((x + 4.5) / 0.2) - 0.1 * (x + 5) : 0.8 + 3 * (x + 1);
  };
  StatusOr<LrSuggestions> s = SuggestLr(Curve(two_phase), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_NE(s->note.find("disagree"), std::string::npos) << s->note;
}

TEST(MedianSuggestions, TakesEachRulesMedian) {
  std::vector<LrSuggestions> each(3);
  const double lrs[3] = {1e-2, 3e-2, 2e-3};
  for (int i = 0; i < 3; ++i) {
    each[i].rules = {{"steep", lrs[i], 0}, {"valley", lrs[i] / 2, 0}, {"minimum", lrs[i], 0}};
    each[i].max_lr = lrs[i] * 10;
    each[i].base_lr = lrs[i] * 2.5;
  }
  LrSuggestions m = MedianSuggestions(each);
  EXPECT_DOUBLE_EQ(m.Rule("steep"), 1e-2);
  EXPECT_DOUBLE_EQ(m.Rule("valley"), 5e-3);
  EXPECT_DOUBLE_EQ(m.max_lr, 0.1);
  EXPECT_DOUBLE_EQ(m.base_lr, 0.025);
  EXPECT_NE(m.note.find("medians of 3 probes"), std::string::npos) << m.note;
}

}  // namespace
}  // namespace cyclr
