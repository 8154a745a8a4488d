// The worker's checks of its flags, its environment and the job spec it is given.
#include "worker/train/worker_options.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace cyclr {
namespace {

constexpr int kCores = 2;

WorkerRunnerOptions Valid() {
  WorkerRunnerOptions o;
  o.job = "fm";
  return o;
}

// Sets an environment variable for one test, restoring the old state after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string FlagError(WorkerRunnerOptions o) { return CheckWorkerOptions(o, kCores).message(); }

TEST(WorkerOptionsTest, ThreadsAreBoundedByTheCores) {
  EXPECT_TRUE(CheckWorkerOptions(Valid(), kCores).ok());
  WorkerRunnerOptions o = Valid();
  o.threads = 8;
  EXPECT_TRUE(CheckWorkerOptions(o, kCores).ok());
  o.threads = 2147483647;
  EXPECT_EQ(FlagError(o),
            "--threads (2147483647) must be between 0 and 8 (2 cores \u00d7 4; 0 = automatic)");
  o.threads = 1000;
  EXPECT_EQ(CheckWorkerOptions(o, kCores).code(), StatusCode::kInvalidArgument);
  o.threads = -1;
  EXPECT_EQ(FlagError(o),
            "--threads (-1) must be between 0 and 8 (2 cores \u00d7 4; 0 = automatic)");
  o.threads = 1000;
  EXPECT_TRUE(CheckWorkerOptions(o, 250).ok());  // a bigger host allows more
}

TEST(WorkerOptionsTest, FlagsNameTheirRule) {
  WorkerRunnerOptions o = Valid();
  o.coordinator = "127.0.0.1:83607";
  EXPECT_EQ(FlagError(o),
            "--coordinator (\"127.0.0.1:83607\"): port 83607 must be between 1 and 65535");
  o = Valid();
  o.job = "";
  EXPECT_EQ(FlagError(o), "--job is required");
  o.job = std::string(10240, 'a');
  EXPECT_EQ(FlagError(o), "--job (\"" + std::string(80, 'a') +
                              "...\" (10240 bytes)) must match [a-z0-9][a-z0-9-]{0,62}");
  o = Valid();
  o.rank = 64;
  EXPECT_EQ(FlagError(o),
            "--rank (64) must be between -1 and 63 (or -1: from the environment "
            "or the coordinator)");
  o = Valid();
  o.world_size = 0;
  EXPECT_EQ(FlagError(o), "--world-size (0) must be between 1 and 64");
  o.world_size = 2;
  o.rank = 2;
  EXPECT_EQ(FlagError(o), "--rank (2) must be less than --world-size (2)");
  o = Valid();
  o.log_dir = std::string(5000, 'd');
  EXPECT_EQ(FlagError(o).rfind("--log-dir (\"ddd", 0), 0u);
  EXPECT_NE(FlagError(o).find("must be at most 4096 bytes"), std::string::npos);
}

TEST(WorkerOptionsTest, StandaloneNeedsNoCoordinatorOrJob) {
  WorkerRunnerOptions o;
  o.standalone_spec = "spec.json";
  o.coordinator = "not an address";
  EXPECT_TRUE(CheckWorkerOptions(o, kCores).ok());
}

TEST(WorkerOptionsTest, RankFromEnvironmentRefusesGarbage) {
  ScopedEnv rank("RANK", "99999999999"), slurm("SLURM_PROCID", nullptr);
  ScopedEnv world("WORLD_SIZE", nullptr), ntasks("SLURM_NTASKS", nullptr);
  WorkerRunnerOptions o = Valid();
  Status st = RankFromEnvironment(&o);
  EXPECT_EQ(st.message(), "$RANK (\"99999999999\") must be an integer between 0 and 63");
  o = Valid();
  o.rank = 1;  // the flag wins: the variable is not read
  EXPECT_TRUE(RankFromEnvironment(&o).ok());
  EXPECT_EQ(o.rank, 1);
}

TEST(WorkerOptionsTest, RankFromEnvironmentReadsSlurm) {
  ScopedEnv rank("RANK", nullptr), slurm("SLURM_PROCID", "1");
  ScopedEnv world("WORLD_SIZE", nullptr), ntasks("SLURM_NTASKS", "2");
  WorkerRunnerOptions o = Valid();
  ASSERT_TRUE(RankFromEnvironment(&o).ok());
  EXPECT_EQ(o.rank, 1);
  EXPECT_EQ(o.world_size, 2);
}

v1::JobSpec ValidSpec() {
  v1::JobSpec spec;
  spec.set_name("fm");
  spec.set_epochs(2);
  spec.set_batch_size(32);
  return spec;
}

TEST(WorkerOptionsTest, JobSpecFieldsNameTheirRule) {
  EXPECT_TRUE(CheckJobSpecForWorker(ValidSpec(), kCores).ok());
  struct Case {
    void (*edit)(v1::JobSpec*);
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::JobSpec* s) { s->set_threads(1000); },
       "threads (1000) must be between 0 and 8 (2 cores \u00d7 4; 0 = automatic)"},
      {[](v1::JobSpec* s) { s->set_epochs(1000000000); },
       "epochs (1000000000) must be between 1 and 1000000"},
      {[](v1::JobSpec* s) { s->set_epochs(0); }, "epochs (0) must be between 1 and 1000000"},
      {[](v1::JobSpec* s) { s->set_batch_size(-5); },
       "batch_size (-5) must be between 1 and 2147483647"},
      {[](v1::JobSpec* s) { s->set_train_limit(-1); },
       "train_limit (-1) must be between 0 and 9223372036854775807"},
      {[](v1::JobSpec* s) {
         s->set_dataset("synthetic");
         s->set_train_limit(int64_t{1} << 40);
       },
       "train_limit (1099511627776) must be between 0 and 1048576 for the synthetic dataset"},
      {[](v1::JobSpec* s) { s->set_momentum(1.5); }, "momentum (1.5) must be in [0, 1)"},
      {[](v1::JobSpec* s) { s->set_bucket_mb(1e300); },
       "bucket_mb (1e+300) must be in (0, 1024] (or 0 for the default)"},
      {[](v1::JobSpec* s) { s->set_checkpoint_every(-1); },
       "checkpoint_every (-1) must be between 0 and 1099511627776"},
      {[](v1::JobSpec* s) { s->set_data_dir(std::string(4097, 'p')); },
       "data_dir (\"" + std::string(80, 'p') + "...\" (4097 bytes)) must be at most 4096 bytes"},
  };
  for (const Case& c : cases) {
    v1::JobSpec spec = ValidSpec();
    c.edit(&spec);
    Status st = CheckJobSpecForWorker(spec, kCores);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(st.message(), c.message);
  }
}

TEST(WorkerOptionsTest, TotalStepsStayUnderTheStepLimit) {
  EXPECT_TRUE(CheckTotalSteps(1000000, 1000000).ok());  // 10^12 < 2^40
  EXPECT_EQ(CheckTotalSteps(1000000, 1100000).message(),
            "epochs (1000000) \u00d7 steps per epoch (1100000) must be at most 1099511627776 "
            "steps (2^40)");
  EXPECT_FALSE(CheckTotalSteps(int64_t{1} << 40, int64_t{1} << 40).ok());  // no overflow
}

TEST(WorkerOptionsTest, ThreadsComeFromTheFlagTheSpecOrTheCores) {
  ScopedEnv local("LOCAL_WORLD_SIZE", nullptr), slurm("SLURM_NTASKS_PER_NODE", nullptr);
  v1::JobSpec spec = ValidSpec();
  EXPECT_EQ(WorkerThreads(3, spec, 2, 8), 3);
  spec.set_threads(5);
  EXPECT_EQ(WorkerThreads(0, spec, 2, 8), 5);
  spec.set_threads(0);
  EXPECT_EQ(WorkerThreads(0, spec, 2, 8), 4);
  ScopedEnv bad("LOCAL_WORLD_SIZE", "lots");  // ignored: only a hint
  EXPECT_EQ(WorkerThreads(0, spec, 2, 8), 4);
}

}  // namespace
}  // namespace cyclr
