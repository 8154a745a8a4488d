// The training loop with 2 ranks as threads over real Gloo, on a real Fashion-MNIST subset.
#include "worker/train/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/worker/train/train_test_util.h"

namespace cyclr {
namespace {

TEST(TrainerTest, TwoRanksLearnAgreeOnParametersAndApplyTheTimeline) {
  const std::string dir = testing::TempDir("trainer");
  v1::JobSpec spec = testing::SmallJob(2048, 3);
  spec.set_test_limit(500);
  Timeline timeline = testing::OneRevision({{"policy", "triangular2"}, {"base_lr", "0.005"},
                                            {"max_lr", "0.05"}, {"step_size_up", "16"}});
  auto results = testing::RunRanks(2, spec, timeline,
                                    [&](int, TrainerOptions* o, ScheduleAgreement*) { o->log_dir = dir; });
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(results[r].ok()) << results[r].status().ToString();
    EXPECT_EQ(results[r]->steps, 3 * (1024 / 32));
    EXPECT_GT(results[r]->test_accuracy, 0.6);
  }
  EXPECT_EQ(results[0]->test_accuracy, results[1]->test_accuracy);
  std::string p0 = testing::ReadFile(dir + "/params-rank-0.bin"), p1 = testing::ReadFile(dir + "/params-rank-1.bin");
  EXPECT_GT(p0.size(), 100000u);
  EXPECT_TRUE(p0 == p1) << "ranks ended with different parameters";

  // Every applied LR equals the timeline's value; the loss fell.
  std::ifstream log(dir + "/lr-rank-1.csv");
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(line, "step,lr,momentum,version,loss");
  int64_t n = 0;
  double first_loss = 0, last_loss = 0;
  while (std::getline(log, line)) {
    long long step, version;
    double lr, momentum, loss;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lld,%lf,%lf,%lld,%lf", &step, &lr, &momentum, &version,
                          &loss), 5);
    EXPECT_EQ(step, n);
    EXPECT_DOUBLE_EQ(lr, timeline.At(step).lr);
    EXPECT_DOUBLE_EQ(momentum, 0.9);
    if (n < 10) first_loss += loss / 10;
    if (n >= 86) last_loss += loss / 10;
    ++n;
  }
  EXPECT_EQ(n, 96);
  EXPECT_LT(last_loss, first_loss * 0.7);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cyclr
