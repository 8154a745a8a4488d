// Divergence: caught at the step it happens, on every rank at the same step.
#include "worker/train/divergence_guard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"
#include "worker/train/trainer.h"

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
  torch::set_num_threads(1);
  v1::JobSpec spec;
  spec.set_model("mlp");
  spec.set_dataset("fashion-mnist");
  spec.set_train_limit(1024);
  spec.set_test_limit(100);
  spec.set_epochs(1);
  spec.set_batch_size(32);
  spec.set_momentum(0.9);
  Timeline timeline;
  Revision r;
  r.version = 1;
  r.spec = *SpecFromOptions({{"policy", "constant"}, {"base_lr", "1e4"}});
  ASSERT_TRUE(timeline.Append(r).ok());
  auto store = std::make_shared<InMemoryStore>();
  std::vector<Status> status(2);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      CommunicatorOptions co;
      co.rank = rank;
      co.world_size = 2;
      auto comm = MakeCommunicator(co, store);
      ASSERT_TRUE(comm.ok());
      ScheduleAgreement agreement(timeline);
      TrainerOptions to;
      to.spec = spec;
      to.rank = rank;
      to.world_size = 2;
      to.quiet = true;
      status[rank] = Trainer(to, comm->get(), &agreement, nullptr).Run().status();
    });
  }
  for (auto& t : ranks) t.join();
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
