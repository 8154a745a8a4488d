// Divergence: caught at the step it happens, on every rank at the same step.
#include "worker/train/divergence_guard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/worker/train/train_test_util.h"

namespace cyclr {
namespace {

TEST(DivergenceGuardTest, NonFiniteLossDivergesAtOnce) {
  DivergenceGuard g(10);
  EXPECT_TRUE(g.Observe(2.3));
  EXPECT_FALSE(g.Observe(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_NE(g.Explain().find("nan"), std::string::npos);
  DivergenceGuard h(10);
  EXPECT_FALSE(h.Observe(std::numeric_limits<double>::infinity()));
}

TEST(DivergenceGuardTest, ExplodingAverageDivergesNoisyLossDoesNot) {
  DivergenceGuard g(4, /*warmup_steps=*/5);
  for (int i = 0; i < 200; ++i) {
    // A falling, noisy loss: single batches 3x above the average are fine.
    double loss = 2.0 / (1 + i * 0.05) * (i % 7 == 0 ? 3.0 : 1.0);
    ASSERT_TRUE(g.Observe(loss)) << "step " << i << ": " << g.Explain();
  }
  int steps = 0;
  while (g.Observe(50.0) && steps < 100) ++steps;
  EXPECT_LT(steps, 100);
  EXPECT_NE(g.Explain().find("exceeds 4 x its minimum"), std::string::npos) << g.Explain();
}

TEST(DivergenceTest, AbsurdLearningRateStopsAllRanksAtTheSameStep) {
  auto results = testing::RunRanks(2, testing::SmallJob(1024, 1),
                                   testing::OneRevision({{"policy", "constant"}, {"base_lr", "1e4"}}),
                                   [](int, TrainerOptions*) {});
  std::vector<Status> status = {results[0].status(), results[1].status()};
  for (const Status& s : status) {
    EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
    EXPECT_NE(s.message().find("loss diverged at step"), std::string::npos) << s.message();
  }
  // Same step on both ranks.
  auto step_of = [](const Status& s) { return s.message().substr(0, s.message().find(" (")); };
  EXPECT_EQ(step_of(status[0]), step_of(status[1]));
}

}  // namespace
}  // namespace cyclr
