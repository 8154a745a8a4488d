// `cyclrctl resume` against a real in-process coordinator (gRPC on loopback, SQLite file): a
// STOPPED job continues as a new job with the same spec and the same timeline; jobs that cannot
// be resumed get one clear error and nothing is launched.
#include <gtest/gtest.h>

#include <sstream>

#include "client/cli.h"
#include "server/coordinator.h"
#include "tests/client/test_util.h"

namespace cyclr::client {
namespace {

CliEnvironment TesterEnvironment() {
  CliEnvironment env;
  env.default_token_files.clear();  // only the --token-file each call names
  return env;
}

struct CliResult {
  int exit_code;
  std::string out, err;
};

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions o;
    o.listen = "127.0.0.1:0";
    o.metrics = "";
    o.state_path = dir_.Path("state.db");
    o.work_dir = dir_.Path("work");
    o.persist_interval = std::chrono::milliseconds(0);
    o.allow_path_prefixes = {dir_.Path("")};  // the test's checkpoint folders
    auto c = Coordinator::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    coordinator_ = std::move(*c);
  }
  CliResult Run(std::vector<std::string> args) {
    // Authentication is on (the default): the CLI sends the admin token the coordinator wrote.
    args.insert(args.begin(), {"cyclrctl", "--coordinator", coordinator_->address(),
                               "--token-file", dir_.Path("cyclr-admin.token")});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    int code = RunCli(static_cast<int>(argv.size()), argv.data(), TesterEnvironment(),
                      out, err);
    return {code, out.str(), err.str()};
  }
  // An external job (no processes) with two schedule changes, then stopped.
  void MakeStoppedJob(const std::string& name, const std::string& checkpoint_dir) {
    std::vector<std::string> launch = {"launch", "--name", name, "--workers", "2", "--model",
                                       "mlp", "--dataset", "synthetic", "--epochs", "1",
                                       "--batch-size", "8", "--launcher", "external",
                                       "--policy", "triangular", "--base-lr", "0.01",
                                       "--max-lr", "0.1", "--step-size-up", "20",
                                       "--max-restarts", "2"};
    if (!checkpoint_dir.empty()) {
      launch.insert(launch.end(), {"--checkpoint-dir", checkpoint_dir});
    }
    ASSERT_EQ(Run(launch).exit_code, 0);
    ASSERT_EQ(Run({"schedule", "set", name, "--policy", "triangular", "--base-lr", "0.01",
                   "--max-lr", "0.05", "--step-size-up", "10", "--at-step", "30",
                   "--reason", "calmer"}).exit_code, 0);
    ASSERT_EQ(Run({"schedule", "set", name, "--policy", "constant", "--base-lr", "0.002",
                   "--at-step", "60", "--phase", "restart"}).exit_code, 0);
    ASSERT_EQ(Run({"stop", name}).exit_code, 0);
  }

  testing::TempDir dir_;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(ResumeTest, StoppedJobContinuesAsANewJobWithItsTimeline) {
  MakeStoppedJob("fm", dir_.Path("ckpt"));
  CliResult r = Run({"resume", "fm"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "fm-r1\n");
  v1::Job old = *coordinator_->jobs().Get("fm");
  v1::Job resumed = *coordinator_->jobs().Get("fm-r1");
  EXPECT_EQ(resumed.state(), v1::PENDING);
  v1::JobSpec expected = old.spec();
  expected.set_name("fm-r1");
  EXPECT_EQ(resumed.spec().SerializeAsString(), expected.SerializeAsString());
  auto a = coordinator_->schedules().Snapshot("fm")->timeline;
  auto b = coordinator_->schedules().Snapshot("fm-r1")->timeline;
  ASSERT_EQ(b.revisions().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b.revisions()[i].version, a.revisions()[i].version);
    EXPECT_EQ(b.revisions()[i].spec, a.revisions()[i].spec);
    EXPECT_EQ(b.revisions()[i].effective_step, a.revisions()[i].effective_step);
    EXPECT_EQ(b.revisions()[i].phase, a.revisions()[i].phase);
  }
  EXPECT_EQ(b.revisions()[1].reason, "resumed from fm: calmer");
  // Again: the next free name; or the one asked for.
  EXPECT_EQ(Run({"resume", "fm"}).out, "fm-r2\n");
  EXPECT_EQ(Run({"resume", "fm", "--as", "again"}).out, "again\n");
}

TEST_F(ResumeTest, RefusesWhatCannotBeResumed) {
  MakeStoppedJob("nockpt", "");
  CliResult r = Run({"resume", "nockpt"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "cyclrctl: job nockpt has no checkpoint_dir: there is nothing to resume from\n");

  ASSERT_EQ(Run({"launch", "--name", "live", "--workers", "1", "--model", "mlp", "--dataset",
                 "synthetic", "--epochs", "1", "--batch-size", "8", "--launcher", "external",
                 "--checkpoint-dir", dir_.Path("c2"), "--policy", "constant", "--base-lr",
                 "0.01"}).exit_code, 0);
  r = Run({"resume", "live"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "cyclrctl: job live is PENDING: only a FAILED or STOPPED job can be resumed\n");

  r = Run({"resume", "ghost"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("job \"ghost\" not found"), std::string::npos) << r.err;
  EXPECT_EQ(coordinator_->jobs().List().size(), 2u);  // nothing was launched
}

}  // namespace
}  // namespace cyclr::client
