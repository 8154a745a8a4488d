// Checkpoints: atomic files, retention, and exact resumption — a run that crashes mid-epoch and
// resumes from its newest checkpoint ends with the same parameters as one that never stopped.
#include "worker/train/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "tests/worker/train/train_test_util.h"

namespace cyclr {
namespace {

namespace fs = std::filesystem;

TEST(CheckpointTest, SaveLoadRoundTripAtomicAndKeepsNewest) {
  const std::string dir = testing::TempDir("ckpt");
  torch::manual_seed(1);
  torch::nn::Linear model(4, 3);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  for (int i = 0; i < 2; ++i) {  // creates momentum buffers
    opt.zero_grad();
    model->forward(torch::ones({2, 4})).sum().backward();
    opt.step();
  }
  CheckpointMeta meta;
  meta.step = 7;
  meta.epoch = 1;
  meta.step_in_epoch = 3;
  meta.seed = 42;
  meta.timeline.add_revisions()->set_version(1);
  for (int64_t step : {5, 6, 7}) {
    meta.step = step;
    ASSERT_TRUE(SaveCheckpoint(dir, meta, *model, opt, 2).ok());
  }
  std::vector<std::string> all = ListCheckpoints(dir);
  ASSERT_EQ(all.size(), 2u);  // keep = 2
  EXPECT_EQ(fs::path(all.back()).filename(), "ckpt-000000000007.pt");
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().extension(), ".pt") << "left behind: " << e.path();
  }

  torch::nn::Linear other(4, 3);
  torch::optim::SGD other_opt(other->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  auto loaded = LoadCheckpoint(*NewestCheckpoint(dir), *other, other_opt);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->step, 7);
  EXPECT_EQ(loaded->epoch, 1);
  EXPECT_EQ(loaded->step_in_epoch, 3);
  EXPECT_EQ(loaded->seed, 42u);
  EXPECT_EQ(loaded->timeline.revisions(0).version(), 1);
  EXPECT_TRUE(torch::equal(model->weight, other->weight));
  // The momentum buffers came back: one more identical step keeps both models identical.
  for (auto* o : {&opt, &other_opt}) o->zero_grad();
  model->forward(torch::ones({2, 4})).sum().backward();
  other->forward(torch::ones({2, 4})).sum().backward();
  opt.step();
  other_opt.step();
  EXPECT_TRUE(torch::equal(model->weight, other->weight));

  // An interrupted write (a .tmp file) and garbage are never taken for a checkpoint.
  std::ofstream(dir + "/ckpt-000000000009.pt.tmp") << "partial";
  EXPECT_EQ(*NewestCheckpoint(dir), all.back());
  std::ofstream(dir + "/ckpt-000000000008.pt") << "garbage";
  auto bad = LoadCheckpoint(dir + "/ckpt-000000000008.pt", *other, other_opt);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewestCheckpoint(testing::TempDir("empty")).status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

// Found by tests/fuzz/checkpoint_fuzzer: a checkpoint whose TorchScript header names a type that
// does not exist made LibTorch throw torch::jit::ErrorReport, which is not a c10::Error, so it
// escaped LoadCheckpoint and terminated the worker. A damaged file is INVALID_ARGUMENT.
// Issue 14's attacks on a shared checkpoint folder: a symlink planted where a checkpoint or its
// temporary file goes is replaced, never written through; pruning never deletes through a link;
// what the worker creates is private (folders 0700, files 0600).
TEST(CheckpointTest, PlantedSymlinksAreNeverFollowed) {
  const std::string root = testing::TempDir("ckpt-links");
  const std::string dir = root + "/shared/ckpt", victim = root + "/victim";
  { std::ofstream(victim) << "root-only secret"; }
  ASSERT_TRUE(fs::create_directories(dir));
  fs::permissions(dir, fs::perms::owner_all);  // the planter's folder exists already
  fs::create_symlink(victim, dir + "/ckpt-000000000005.pt");
  fs::create_symlink(victim, dir + "/ckpt-000000000005.pt.tmp");
  fs::create_symlink(victim, dir + "/ckpt-000000000001.pt");  // an old "checkpoint" to prune
  torch::nn::Linear model(4, 3);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
  CheckpointMeta meta;
  meta.seed = 1;
  meta.timeline.add_revisions()->set_version(1);
  for (int64_t step : {5, 6}) {
    meta.step = step;
    ASSERT_TRUE(SaveCheckpoint(dir, meta, *model, opt, 1).ok());
  }
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "root-only secret");
  EXPECT_TRUE(fs::is_symlink(dir + "/ckpt-000000000001.pt"));  // not ours: left alone
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir + "/ckpt-000000000005.pt")));  // pruned file
  EXPECT_EQ(fs::status(dir + "/ckpt-000000000006.pt").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const std::string fresh = root + "/new/deeper";
  meta.step = 7;
  ASSERT_TRUE(SaveCheckpoint(fresh, meta, *model, opt, 1).ok());
  EXPECT_EQ(fs::status(root + "/new").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(fresh).permissions() & fs::perms::all, fs::perms::owner_all);
}

// Two jobs sharing a checkpoint folder each keep their own newest `keep`: pruning deletes only
// what the job itself recorded (issue 14: --checkpoint-keep 1 deleted another job's checkpoints).
TEST(CheckpointTest, JobsSharingAFolderNeverPruneEachOther) {
  const std::string dir = testing::TempDir("ckpt-shared");
  torch::nn::Linear model(4, 3);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
  CheckpointMeta meta;
  meta.seed = 1;
  meta.timeline.add_revisions()->set_version(1);
  for (auto [owner, step] : std::vector<std::pair<std::string, int64_t>>{
           {"job-a", 1}, {"job-b", 10}, {"job-a", 2}, {"job-b", 11}, {"job-a", 3}}) {
    meta.step = step;
    ASSERT_TRUE(SaveCheckpoint(dir, meta, *model, opt, 1, owner).ok());
  }
  std::vector<std::string> names;
  for (const std::string& p : ListCheckpoints(dir)) names.push_back(fs::path(p).filename());
  EXPECT_EQ(names, (std::vector<std::string>{"ckpt-000000000003.pt", "ckpt-000000000011.pt"}));
  // A restarted worker resumes from its own job's newest, not the other job's newer one; a job
  // that wrote none there (a first start, resume --as) takes the newest.
  EXPECT_EQ(fs::path(NewestCheckpointOf(dir, "job-a").value()).filename(), "ckpt-000000000003.pt");
  EXPECT_EQ(fs::path(NewestCheckpointOf(dir, "job-b").value()).filename(), "ckpt-000000000011.pt");
  EXPECT_EQ(fs::path(NewestCheckpointOf(dir, "job-c").value()).filename(), "ckpt-000000000011.pt");
}

TEST(CheckpointTest, ADamagedHeaderIsAnErrorNotACrash) {
  const char* source = std::getenv("CYCLR_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  const std::string path =
      std::string(source) + "/tests/worker/train/testdata/checkpoint-jit-error-report.pt";
  ASSERT_TRUE(fs::exists(path));
  torch::nn::Linear model(4, 3);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  StatusOr<CheckpointMeta> meta = LoadCheckpoint(path, *model, opt);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(meta.status().message().find("not a readable checkpoint"), std::string::npos)
      << meta.status().message();
}

// Found by tests/fuzz/checkpoint_fuzzer: a checkpoint's step, epoch and step in epoch were
// trusted (a negative step reaches Timeline::At's CHECK), and a model saved with other shapes was
// loaded over the worker's, whose Reducer had sized its buckets from the old ones.
TEST(CheckpointTest, StepsAndShapesAreChecked) {
  const std::string dir = testing::TempDir("ckpt-checked");
  torch::nn::Linear model(4, 3);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  const std::vector<std::tuple<int64_t, int64_t, int64_t, std::string>> cases = {
      {-5, 0, 0, "step (-5)"},
      {1, -1, 0, "epoch (-1)"},
      {1, 0, int64_t{1} << 50, "step_in_epoch (1125899906842624)"},
      {1, 2000000, 0, "epoch (2000000)"}};
  for (const auto& [step, epoch, in_epoch, what] : cases) {
    CheckpointMeta meta;
    meta.step = step;
    meta.epoch = epoch;
    meta.step_in_epoch = in_epoch;
    StatusOr<std::string> path = SaveCheckpoint(dir, meta, *model, opt, 10);
    ASSERT_TRUE(path.ok()) << path.status().message();
    StatusOr<CheckpointMeta> loaded = LoadCheckpoint(*path, *model, opt);
    ASSERT_FALSE(loaded.ok()) << what;
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(loaded.status().message().find(what + " must be between 0 and"), std::string::npos)
        << loaded.status().message();
  }
  torch::nn::Linear other(5, 2);
  torch::optim::SGD other_opt(other->parameters(), torch::optim::SGDOptions(0.1));
  CheckpointMeta meta;
  meta.step = 3;
  StatusOr<std::string> path = SaveCheckpoint(dir, meta, *other, other_opt, 10);
  ASSERT_TRUE(path.ok());
  StatusOr<CheckpointMeta> loaded = LoadCheckpoint(*path, *model, opt);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("other shapes"), std::string::npos)
      << loaded.status().message();
  fs::remove_all(dir);
}

// Runs 2 ranks; returns rank 0's status.
Status RunJob(const v1::JobSpec& spec, const Timeline& timeline, const std::string& log_dir,
              int64_t crash_after) {
  return testing::RunRanks(2, spec, timeline,
                           [&](int, TrainerOptions* o, ScheduleAgreement*) {
                             o->log_dir = log_dir;
                             o->crash_after_steps = crash_after;
                           })[0]
      .status();
}

TEST(CheckpointTest, CrashedAndResumedRunEndsWithTheUninterruptedParameters) {
  v1::JobSpec spec = testing::SmallJob(1280, 2);  // 20 steps per epoch and rank
  spec.set_checkpoint_every(15);
  Timeline timeline;
  Revision r1, r2;
  r1.version = 1;
  r1.spec = *SpecFromOptions(
      {{"policy", "triangular"}, {"base_lr", "0.01"}, {"max_lr", "0.1"}, {"step_size_up", "5"}});
  r2.version = 2;
  r2.effective_step = 22;
  r2.phase = PhaseMode::kRestart;
  r2.spec = *SpecFromOptions(
      {{"policy", "sine"}, {"base_lr", "0.005"}, {"max_lr", "0.05"}, {"step_size_up", "4"}});
  ASSERT_TRUE(timeline.Append(r1).ok());
  ASSERT_TRUE(timeline.Append(r2).ok());

  const std::string a = testing::TempDir("resume-a"), b = testing::TempDir("resume-b");
  spec.set_checkpoint_dir(a + "/ckpt");
  ASSERT_TRUE(RunJob(spec, timeline, a, 0).ok());
  spec.set_checkpoint_dir(b + "/ckpt");
  // Crash at step 37 (mid second epoch, 7 steps after the checkpoint at step 30), then resume.
  Status crashed = RunJob(spec, timeline, b, 37);
  EXPECT_EQ(crashed.code(), StatusCode::kAborted) << crashed.ToString();
  EXPECT_EQ(fs::path(*NewestCheckpoint(b + "/ckpt")).filename(), "ckpt-000000000030.pt");
  ASSERT_TRUE(RunJob(spec, timeline, b, 0).ok());

  const std::string pa = testing::ReadFile(a + "/params-rank-0.bin");
  const std::string pb = testing::ReadFile(b + "/params-rank-0.bin");
  ASSERT_EQ(pa.size(), pb.size());
  const float* x = reinterpret_cast<const float*>(pa.data());
  const float* y = reinterpret_cast<const float*>(pb.data());
  float max_diff = 0;
  for (size_t i = 0; i < pa.size() / sizeof(float); ++i) {
    max_diff = std::max(max_diff, std::abs(x[i] - y[i]));
  }
  EXPECT_LE(max_diff, 1e-6f);
  // The applied-LR logs agree row for row (one row per step, none duplicated by the redo).
  const std::string la = testing::ReadFile(a + "/lr-rank-1.csv");
  const std::string lb = testing::ReadFile(b + "/lr-rank-1.csv");
  EXPECT_EQ(la, lb);
  EXPECT_EQ(std::count(la.begin(), la.end(), '\n'), 41);
  EXPECT_EQ(std::count(lb.begin(), lb.end(), '\n'), 41);
  fs::remove_all(a);
  fs::remove_all(b);
}

}  // namespace
}  // namespace cyclr
