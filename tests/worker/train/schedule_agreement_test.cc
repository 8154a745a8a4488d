// Principle 1: every rank applies the identical LR at every step, also across runtime changes,
// whatever the order and time in which revisions reach the ranks. Ranks are threads with real
// Gloo communicators; the MIN of held versions is the same all-reduce the trainer issues.
#include "worker/train/schedule_agreement.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

ScheduleSpec Triangular(double base, double max, int64_t up) {
  ScheduleSpec s;
  s.policy = Policy::kTriangular;
  s.base_lr = base;
  s.max_lr = max;
  s.step_size_up = up;
  return s;
}

Revision Rev(int64_t version, int64_t effective, ScheduleSpec spec, PhaseMode phase) {
  Revision r;
  r.version = version;
  r.effective_step = effective;
  r.spec = spec;
  r.phase = phase;
  return r;
}

// Timelines holding revisions 1..n of a fixed history.
Timeline History(int n) {
  std::vector<Revision> all = {
      Rev(1, 0, Triangular(0.01, 0.1, 10), PhaseMode::kContinue),
      Rev(2, 5, Triangular(0.001, 0.05, 10), PhaseMode::kRestart),
      Rev(3, 6, Triangular(0.002, 0.02, 4), PhaseMode::kContinue),
  };
  Timeline t;
  for (int i = 0; i < n; ++i) EXPECT_TRUE(t.Append(all[i]).ok());
  return t;
}

// Runs `steps` steps on `world` ranks; rank r receives the history up to version v at its local
// step deliver[r][v]. Returns each rank's applied LRs and final applied timeline.
struct RankLog {
  std::vector<double> lr;
  std::vector<int64_t> version;
  Timeline applied;
};

std::vector<RankLog> RunRanks(int world, int steps,
                              const std::vector<std::map<int, int>>& deliver) {
  auto store = std::make_shared<InMemoryStore>();
  std::vector<RankLog> logs(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      CommunicatorOptions o;
      o.rank = r;
      o.world_size = world;
      auto comm = MakeCommunicator(o, store);
      ASSERT_TRUE(comm.ok()) << comm.status().ToString();
      ScheduleAgreement agreement(History(1));
      for (int step = 0; step < steps; ++step) {
        for (auto [version, at] : deliver[r]) {
          if (at == step) {
            ASSERT_TRUE(agreement.Offer(History(version)).ok());
          }
        }
        int64_t held = agreement.held_version();
        auto work = (*comm)->AllReduce(&held, 1, DataType::kInt64, ReduceOp::kMin);
        ASSERT_TRUE(work->Wait(std::chrono::seconds(10)).ok());
        TimelinePoint p = agreement.Resolve(step, held, nullptr);
        logs[r].lr.push_back(p.lr);
        logs[r].version.push_back(p.version);
      }
      logs[r].applied = agreement.applied();
    });
  }
  for (auto& t : threads) t.join();
  return logs;
}

TEST(ScheduleAgreementTest, RevisionsApplyAtTheFirstStepAllRanksHoldThem) {
  // Revision 2 reaches the ranks at steps 7, 12, 9: it applies from 12 on every rank.
  // Revision 3 reaches them at 15, 25, 20: it applies from 25.
  std::vector<std::map<int, int>> deliver = {{{2, 7}, {3, 15}}, {{2, 12}, {3, 25}},
                                             {{2, 9}, {3, 20}}};
  auto logs = RunRanks(3, 40, deliver);
  Timeline expected = History(3);
  ASSERT_TRUE(expected.MarkApplied(2, 12).ok());
  ASSERT_TRUE(expected.MarkApplied(3, 25).ok());
  for (int r = 0; r < 3; ++r) {
    for (int step = 0; step < 40; ++step) {
      EXPECT_EQ(logs[r].lr[step], logs[0].lr[step]) << "rank " << r << " step " << step;
      EXPECT_DOUBLE_EQ(logs[r].lr[step], expected.At(step).lr) << "step " << step;
      EXPECT_EQ(logs[r].version[step], expected.At(step).version) << "step " << step;
    }
    EXPECT_EQ(*logs[r].applied.revision(2).applied_step, 12);
    EXPECT_EQ(*logs[r].applied.revision(3).applied_step, 25);
  }
  // Restart anchors revision 2's cycle at its applied step: the LR there is the new base.
  EXPECT_DOUBLE_EQ(logs[0].lr[12], 0.001);
  EXPECT_EQ(logs[0].version[11], 1);
}

TEST(ScheduleAgreementTest, RandomDeliveryOrderNeverSplitsTheRanks) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 5; ++trial) {
    const int world = 2 + trial % 3;
    std::vector<std::map<int, int>> deliver(world);
    for (auto& d : deliver) {
      int a = static_cast<int>(rng() % 20), b = static_cast<int>(rng() % 20);
      d = {{2, std::min(a, b)}, {3, std::max(a, b) + 1}};
    }
    auto logs = RunRanks(world, 30, deliver);
    for (int r = 1; r < world; ++r) {
      EXPECT_EQ(logs[r].lr, logs[0].lr) << "trial " << trial << " rank " << r;
      EXPECT_EQ(logs[r].version, logs[0].version) << "trial " << trial << " rank " << r;
    }
  }
}

TEST(ScheduleAgreementTest, ResumedTimelineKeepsRecordedAppliedSteps) {
  Timeline recorded = History(3);
  ASSERT_TRUE(recorded.MarkApplied(2, 12).ok());  // 3 was held but never applied
  ScheduleAgreement agreement(recorded);
  EXPECT_EQ(agreement.held_version(), 3);
  EXPECT_EQ(agreement.applied().latest_version(), 2);
  EXPECT_EQ(agreement.applied().StartStep(2), 12);
  std::vector<AppliedVersion> newly;
  agreement.Resolve(30, 3, &newly);
  ASSERT_EQ(newly.size(), 1u);
  EXPECT_EQ(newly[0].version, 3);
  EXPECT_EQ(newly[0].step, 30);
}

TEST(ScheduleAgreementTest, OfferRejectsARewrittenRevision) {
  ScheduleAgreement agreement(History(2));
  Timeline other;
  ASSERT_TRUE(other.Append(Rev(1, 0, Triangular(0.02, 0.1, 10), PhaseMode::kContinue)).ok());
  EXPECT_FALSE(agreement.Offer(other).ok());
}

}  // namespace
}  // namespace cyclr
