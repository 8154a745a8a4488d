// Divergence: caught at the step it happens, on every rank at the same step.
#include "worker/train/divergence_guard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

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
                                   [](int, TrainerOptions*, ScheduleAgreement*) {});
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

namespace cyclr {
namespace {

// Policy rollback: the ranks reload the newest checkpoint, rank 0 appends a revision with the
// peak LR lowered, all ranks wait to hold it and redo the diverged step with it.
TEST(DivergenceTest, RollbackReloadsTheCheckpointAndGoesOnWithALowerLr) {
  v1::JobSpec spec = testing::SmallJob(1280, 2);  // 20 steps per epoch and rank
  spec.set_divergence_policy("rollback");
  spec.set_rollback_lr_factor(1e-5);
  spec.set_checkpoint_every(5);
  const std::string dir = testing::TempDir("rollback");
  spec.set_checkpoint_dir(dir + "/ckpt");
  // Fine at first; from step 12 an absurd LR makes the loss diverge.
  Timeline timeline = testing::OneRevision({{"policy", "constant"}, {"base_lr", "0.05"}});
  Revision absurd;
  absurd.version = 2;
  absurd.effective_step = 12;
  absurd.spec = *SpecFromOptions({{"policy", "constant"}, {"base_lr", "1e4"}});
  ASSERT_TRUE(timeline.Append(absurd).ok());

  // A stand-in coordinator: appends the requested revision and delivers it to every rank.
  std::mutex mu;
  Timeline shared = timeline;
  std::vector<ScheduleAgreement*> agreements(2);
  std::vector<std::string> reasons;
  RevisionRequester requester = [&](const ScheduleSpec& s, int64_t step,
                                    const std::string& reason) -> StatusOr<int64_t> {
    std::lock_guard<std::mutex> lock(mu);
    Revision rev;
    rev.version = shared.latest_version() + 1;
    rev.effective_step = step;
    rev.spec = s;
    rev.reason = reason;
    CYCLR_RETURN_IF_ERROR(shared.Append(rev));
    reasons.push_back(reason);
    for (ScheduleAgreement* a : agreements) CYCLR_RETURN_IF_ERROR(a->Offer(shared));
    return rev.version;
  };
  auto results = testing::RunRanks(2, spec, timeline,
                                   [&](int r, TrainerOptions* o, ScheduleAgreement* a) {
                                     agreements[r] = a;
                                     o->log_dir = dir;
                                     if (r == 0) o->request_revision = requester;
                                   });
  for (auto& r : results) ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The step counter goes on across a rollback (the timeline stays a function of the step);
  // the data position went back to the checkpoint's, so more than 40 steps ran.
  const int64_t steps = results[0]->steps;
  EXPECT_GT(steps, 40);
  EXPECT_GT(results[0]->test_accuracy, 0.5);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("loss diverged at step"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[0].find("rolled back to the checkpoint of step 10"), std::string::npos);
  ASSERT_EQ(shared.latest_version(), 3);
  EXPECT_DOUBLE_EQ(*shared.revision(3).spec.base_lr, 1e4 * 1e-5);
  // Both ranks applied the same LRs, one row per step, and ended with the same parameters.
  const std::string l0 = testing::ReadFile(dir + "/lr-rank-0.csv");
  EXPECT_EQ(std::count(l0.begin(), l0.end(), '\n'), steps + 1);
  // Same step, LR, momentum and version on every row (the loss column is each rank's own).
  auto without_loss = [](const std::string& log) {
    std::string out;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };
  EXPECT_EQ(without_loss(l0), without_loss(testing::ReadFile(dir + "/lr-rank-1.csv")));
  EXPECT_EQ(testing::ReadFile(dir + "/params-rank-0.bin"),
            testing::ReadFile(dir + "/params-rank-1.bin"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cyclr
