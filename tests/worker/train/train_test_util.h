// Shared by the training-loop tests: ranks as threads over real Gloo, temp folders, files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"
#include "worker/train/trainer.h"

namespace cyclr {
namespace testing {

// A fresh, empty folder under the system temp dir, unique to this process.
inline std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cyclr-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small job on a real Fashion-MNIST subset; callers adjust what they test.
inline v1::JobSpec SmallJob(int64_t train_limit, int epochs) {
  v1::JobSpec spec;
  spec.set_model("mlp");
  spec.set_dataset("fashion-mnist");
  spec.set_train_limit(train_limit);
  spec.set_test_limit(200);
  spec.set_epochs(epochs);
  spec.set_batch_size(32);
  spec.set_momentum(0.9);
  spec.set_seed(5);
  return spec;
}

// A timeline holding one revision built from option name -> text.
inline Timeline OneRevision(const std::map<std::string, std::string>& options) {
  Timeline timeline;
  Revision r;
  r.version = 1;
  StatusOr<ScheduleSpec> spec = SpecFromOptions(options);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  r.spec = *spec;
  EXPECT_TRUE(timeline.Append(r).ok());
  return timeline;
}

// Trains `world` ranks as threads, each with its own Gloo communicator and ScheduleAgreement
// built from `timeline`; `adjust(rank, options, agreement)` may change each rank's options.
// Returns each rank's result.
template <typename Adjust>
std::vector<StatusOr<TrainResult>> RunRanks(int world, const v1::JobSpec& spec,
                                            const Timeline& timeline, Adjust adjust) {
  torch::set_num_threads(1);
  auto store = std::make_shared<InMemoryStore>();
  std::vector<StatusOr<TrainResult>> results(world, Status::Internal("not run"));
  std::vector<std::thread> ranks;
  for (int r = 0; r < world; ++r) {
    ranks.emplace_back([&, r] {
      CommunicatorOptions co;
      co.rank = r;
      co.world_size = world;
      auto comm = MakeCommunicator(co, store);
      if (!comm.ok()) {
        results[r] = comm.status();
        return;
      }
      ScheduleAgreement agreement(timeline);
      TrainerOptions to;
      to.spec = spec;
      to.rank = r;
      to.world_size = world;
      to.quiet = true;
      to.collective_timeout = std::chrono::milliseconds(20000);
      adjust(r, &to, &agreement);
      results[r] = Trainer(to, comm->get(), &agreement, nullptr).Run();
    });
  }
  for (auto& t : ranks) t.join();
  return results;
}

}  // namespace testing
}  // namespace cyclr
