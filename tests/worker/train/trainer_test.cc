// The training loop with 2 ranks as threads over real Gloo, on a real Fashion-MNIST subset.
#include "worker/train/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TrainerTest, TwoRanksLearnAgreeOnParametersAndApplyTheTimeline) {
  torch::set_num_threads(1);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("cyclr-trainer-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  v1::JobSpec spec;
  spec.set_model("mlp");
  spec.set_dataset("fashion-mnist");
  spec.set_train_limit(2048);
  spec.set_test_limit(500);
  spec.set_epochs(3);
  spec.set_batch_size(32);
  spec.set_momentum(0.9);
  spec.set_seed(5);
  ScheduleSpec sched;
  sched.policy = Policy::kTriangular2;
  sched.base_lr = 0.005;
  sched.max_lr = 0.05;
  sched.step_size_up = 16;
  Timeline timeline;
  Revision rev;
  rev.version = 1;
  rev.spec = sched;
  ASSERT_TRUE(timeline.Append(rev).ok());

  auto store = std::make_shared<InMemoryStore>();
  std::vector<StatusOr<TrainResult>> results(2, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      CommunicatorOptions co;
      co.rank = r;
      co.world_size = 2;
      auto comm = MakeCommunicator(co, store);
      ASSERT_TRUE(comm.ok()) << comm.status().ToString();
      ScheduleAgreement agreement(timeline);
      TrainerOptions to;
      to.spec = spec;
      to.rank = r;
      to.world_size = 2;
      to.log_dir = dir;
      to.quiet = true;
      Trainer trainer(to, comm->get(), &agreement, nullptr);
      results[r] = trainer.Run();
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(results[r].ok()) << results[r].status().ToString();
    EXPECT_EQ(results[r]->steps, 3 * (1024 / 32));
    EXPECT_GT(results[r]->test_accuracy, 0.6);
  }
  EXPECT_EQ(results[0]->test_accuracy, results[1]->test_accuracy);
  std::string p0 = ReadFile(dir + "/params-rank-0.bin"), p1 = ReadFile(dir + "/params-rank-1.bin");
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
