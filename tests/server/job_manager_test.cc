// JobManager: the JobSpec rules (one row per rule), state transitions, progress aggregation,
// exits reported by a fake launcher, and recovery from the state file.
#include "server/job_manager.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/limits.h"
#include "server/job_spec_rules.h"
#include "tests/server/fake_launcher.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

using testing::FakeLauncher;

struct Rule {
  const char* field;
  std::function<void(v1::JobSpec*)> mutate;
  const char* message;  // a part of the expected error
};

class JobSpecRulesTest : public ::testing::TestWithParam<Rule> {};

TEST_P(JobSpecRulesTest, RejectsWithTheFieldAndRule) {
  v1::JobSpec spec = testing::ValidJobSpec("ok");
  GetParam().mutate(&spec);
  Status s = NormalizeJobSpec(&spec);
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument) << GetParam().field;
  EXPECT_NE(s.message().find(GetParam().message), std::string::npos) << s.message();
}

INSTANTIATE_TEST_SUITE_P(
    AllRules, JobSpecRulesTest,
    ::testing::Values(
        Rule{"name", [](v1::JobSpec* s) { s->set_name("Bad_Name"); },
             "name (\"Bad_Name\") must match [a-z0-9][a-z0-9-]{0,62}"},
        Rule{"name_dash", [](v1::JobSpec* s) { s->set_name("-x"); }, "name (\"-x\")"},
        Rule{"name_long", [](v1::JobSpec* s) { s->set_name(std::string(64, 'a')); }, "name ("},
        Rule{"workers", [](v1::JobSpec* s) { s->set_workers(0); },
             "workers (0) must be between 1 and 64"},
        Rule{"workers_max", [](v1::JobSpec* s) { s->set_workers(65); }, "workers (65)"},
        Rule{"model", [](v1::JobSpec* s) { s->set_model("rnn"); },
             "model (\"rnn\") must be one of: mlp, cnn"},
        Rule{"dataset", [](v1::JobSpec* s) { s->set_dataset("cifar"); }, "dataset (\"cifar\")"},
        Rule{"model_and_file",
             [](v1::JobSpec* s) { s->set_model_file("/m.pt"); },
             "model (\"mlp\") and model_file are exclusive: give one"},
        Rule{"model_sha256", [](v1::JobSpec* s) { s->set_model_sha256("abc"); },
             "model_sha256 (\"abc\") must be 64 lowercase hex digits"},
        Rule{"loss", [](v1::JobSpec* s) { s->set_loss("hinge"); }, "loss (\"hinge\") must be one of"},
        Rule{"loss_mse_builtin", [](v1::JobSpec* s) { s->set_loss("mse"); },
             "loss (\"mse\") needs dataset npy with float targets and a model_file"},
        Rule{"normalize_not_npy", [](v1::JobSpec* s) { s->set_normalize("0.5,0.5"); },
             "normalize applies to dataset npy only"},
        Rule{"normalize_std",
             [](v1::JobSpec* s) {
               s->set_dataset("npy");
               s->set_data_dir("/d");
               s->set_normalize("0.5,0");
             },
             "normalize (\"0.5,0\") must be MEAN,STD: two finite numbers with STD > 0"},
        Rule{"model_file_long",
             [](v1::JobSpec* s) {
               s->clear_model();
               s->set_model_file(std::string(5000, 'm'));
             },
             "model_file (\"mmm"},
        Rule{"epochs", [](v1::JobSpec* s) { s->set_epochs(0); }, "epochs (0) must be >= 1"},
        Rule{"batch_size", [](v1::JobSpec* s) { s->set_batch_size(-1); }, "batch_size (-1)"},
        Rule{"optimizer", [](v1::JobSpec* s) { s->set_optimizer("adam"); }, "optimizer (\"adam\")"},
        Rule{"momentum", [](v1::JobSpec* s) { s->set_momentum(1.0); },
             "momentum (1) must be in [0, 1)"},
        Rule{"weight_decay", [](v1::JobSpec* s) { s->set_weight_decay(-0.1); }, "weight_decay"},
        Rule{"backend", [](v1::JobSpec* s) { s->set_backend("mpi"); }, "backend (\"mpi\")"},
        Rule{"launcher", [](v1::JobSpec* s) { s->set_launcher("k8s"); }, "launcher (\"k8s\")"},
        Rule{"bucket_mb", [](v1::JobSpec* s) { s->set_bucket_mb(-2); }, "bucket_mb (-2)"},
        Rule{"threads", [](v1::JobSpec* s) { s->set_threads(-1); }, "threads (-1)"},
        Rule{"checkpoint_every", [](v1::JobSpec* s) { s->set_checkpoint_every(-1); },
             "checkpoint_every (-1) must be >= 0"},
        Rule{"checkpoint_keep", [](v1::JobSpec* s) { s->set_checkpoint_keep(-1); },
             "checkpoint_keep (-1)"},
        Rule{"max_restarts", [](v1::JobSpec* s) { s->set_max_restarts(-2); }, "max_restarts (-2)"},
        Rule{"divergence_policy", [](v1::JobSpec* s) { s->set_divergence_policy("retry"); },
             "divergence_policy (\"retry\") must be one of: fail, rollback"},
        Rule{"divergence_factor", [](v1::JobSpec* s) { s->set_divergence_factor(0.5); },
             "divergence_factor (0.5) must be > 1"},
        Rule{"divergence_factor_inf", [](v1::JobSpec* s) { s->set_divergence_factor(HUGE_VAL); },
             "divergence_factor (inf) must be > 1 and finite"},
        Rule{"weight_decay_inf", [](v1::JobSpec* s) { s->set_weight_decay(HUGE_VAL); },
             "weight_decay (inf) must be finite and >= 0"},
        Rule{"epochs_max", [](v1::JobSpec* s) { s->set_epochs(limits::kMaxEpochs + 1); },
             "epochs (1000001) must be <= 1000000"},
        Rule{"batch_size_max", [](v1::JobSpec* s) { s->set_batch_size(limits::kMaxBatchSize + 1); },
             "batch_size (1048577) must be <= 1048576"},
        Rule{"threads_max", [](v1::JobSpec* s) { s->set_threads(1025); },
             "threads (1025) must be <= 1024"},
        Rule{"train_limit_max", [](v1::JobSpec* s) { s->set_train_limit(INT64_MAX); },
             "train_limit (9223372036854775807) must be <= 1099511627776"},
        Rule{"test_limit_max", [](v1::JobSpec* s) { s->set_test_limit(limits::kMaxStep + 1); },
             "test_limit (1099511627777)"},
        Rule{"checkpoint_every_max",
             [](v1::JobSpec* s) { s->set_checkpoint_every(limits::kMaxStep + 1); },
             "checkpoint_every (1099511627777)"},
        Rule{"checkpoint_keep_max", [](v1::JobSpec* s) { s->set_checkpoint_keep(1001); },
             "checkpoint_keep (1001) must be <= 1000"},
        Rule{"max_restarts_max", [](v1::JobSpec* s) { s->set_max_restarts(1001); },
             "max_restarts (1001) must be <= 1000"},
        Rule{"data_dir_long", [](v1::JobSpec* s) { s->set_data_dir(std::string(5000, 'd')); },
             "(5000 bytes)) must be at most 4096 bytes"},
        Rule{"checkpoint_dir_long",
             [](v1::JobSpec* s) { s->set_checkpoint_dir(std::string(4097, 'c')); },
             "checkpoint_dir (\"ccc"},
        Rule{"resume_from_long", [](v1::JobSpec* s) { s->set_resume_from(std::string(4097, 'r')); },
             "resume_from ("},
        Rule{"model_long", [](v1::JobSpec* s) { s->set_model(std::string(10240, 'm')); },
             "model (\"mmm"},
        Rule{"name_huge", [](v1::JobSpec* s) { s->set_name(std::string(10240, 'a')); },
             "(10240 bytes)) must match"},
        Rule{
            "divergence_rollback", [](v1::JobSpec* s) { s->set_divergence_policy("rollback"); },
            "divergence_policy (\"rollback\") needs checkpoint_dir: it rolls back to a checkpoint"},
        Rule{"rollback_lr_factor", [](v1::JobSpec* s) { s->set_rollback_lr_factor(2); },
             "rollback_lr_factor (2) must be in (0, 1)"},
        Rule{"schedule_missing", [](v1::JobSpec* s) { s->clear_schedule(); },
             "schedule is required"},
        Rule{"schedule_invalid", [](v1::JobSpec* s) { s->mutable_schedule()->set_max_lr(0.0001); },
             "schedule: max_lr"}),
    [](const ::testing::TestParamInfo<Rule>& info) { return std::string(info.param.field); });

TEST(JobSpecRulesDefaults, FillsDefaults) {
  v1::JobSpec spec = testing::ValidJobSpec("ok");
  spec.clear_launcher();
  ASSERT_TRUE(NormalizeJobSpec(&spec).ok());
  EXPECT_EQ(spec.optimizer(), "sgd");
  EXPECT_EQ(spec.launcher(), "local");
  EXPECT_EQ(spec.data_dir(), "/usr/share/datasets/fashion-mnist");
  EXPECT_DOUBLE_EQ(spec.momentum(), 0.9);
  EXPECT_DOUBLE_EQ(spec.bucket_mb(), 25);
  EXPECT_EQ(spec.seed(), 1u);
  EXPECT_EQ(spec.divergence_policy(), "fail");
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    JobManager::Options o;
    o.persist_interval = milliseconds(0);
    testing::OpenManagers(dir_, o, &store_, &schedules_, &jobs_,
                          [](const std::string&, int rank) { return rank == 0; });
    jobs_->SetLauncher(&launcher_);
  }
  static v1::ReportProgressRequest Step(const std::string& job, int rank, int64_t step, double loss,
                                        double sps = 100) {
    v1::ReportProgressRequest r;
    r.set_job(job);
    r.set_rank(rank);
    v1::StepReport* s = r.add_steps();
    s->set_step(step);
    s->set_loss(loss);
    s->set_samples_per_second(sps);
    s->set_epoch(0);
    return r;
  }

  testing::TempDir dir_;
  FakeLauncher launcher_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(JobManagerTest, LaunchValidatesAndRejectsDuplicates) {
  auto job = jobs_->Launch(testing::ValidJobSpec("a"));
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->state(), v1::PENDING);
  EXPECT_EQ(job->schedule_version(), 1);
  EXPECT_NEAR(job->lr(), 0.001, 1e-12);
  EXPECT_EQ(jobs_->Launch(testing::ValidJobSpec("a")).status().code(), StatusCode::kAlreadyExists);
  v1::JobSpec bad = testing::ValidJobSpec("b");
  bad.set_workers(0);
  EXPECT_EQ(jobs_->Launch(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs_->List().size(), 1u);      // nothing changed
  EXPECT_TRUE(launcher_.launched.empty());  // external jobs start nothing
}

TEST_F(JobManagerTest, AggregatesProgress) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a")).ok());
  ASSERT_EQ(*jobs_->Report(Step("a", 0, 10, 1.0, 100)), false);
  auto job = jobs_->Get("a");
  EXPECT_EQ(job->state(), v1::RUNNING);
  EXPECT_EQ(job->global_step(), 0);  // rank 1 has not reported yet
  ASSERT_TRUE(jobs_->Report(Step("a", 1, 8, 3.0, 50)).ok());
  job = jobs_->Get("a");
  EXPECT_EQ(job->global_step(), 9);  // steps 0..8 done by both ranks
  EXPECT_DOUBLE_EQ(job->loss(), 2.0);
  EXPECT_DOUBLE_EQ(job->samples_per_second(), 150);
  ASSERT_EQ(job->ranks_size(), 2);
  EXPECT_TRUE(job->ranks(0).alive());
  EXPECT_FALSE(job->ranks(1).alive());
  EXPECT_NEAR(job->lr(), 0.001 + (0.1 - 0.001) * 9 / 100.0, 1e-12);

  v1::ReportProgressRequest epoch;
  epoch.set_job("a");
  epoch.set_rank(0);
  epoch.set_total_steps(400);
  v1::EpochReport* e = epoch.add_epochs();
  e->set_epoch(1);
  e->set_test_accuracy(0.83);
  ASSERT_TRUE(jobs_->Report(epoch).ok());
  job = jobs_->Get("a");
  EXPECT_DOUBLE_EQ(job->test_accuracy(), 0.83);
  EXPECT_EQ(job->epoch(), 1);
  EXPECT_EQ(job->total_steps(), 400);

  EXPECT_EQ(jobs_->Report(Step("a", 2, 1, 1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs_->Report(Step("zz", 0, 1, 1)).status().code(), StatusCode::kNotFound);
}

TEST_F(JobManagerTest, AppliedRevisionsReachTheTimeline) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a")).ok());
  ScheduleUpdate u;
  u.job = "a";
  u.spec = schedules_->Snapshot("a")->timeline.revision(1).spec;
  u.spec->max_lr = 0.2;
  u.effective_step = 5;
  ASSERT_TRUE(schedules_->Update(u).ok());
  v1::ReportProgressRequest r = Step("a", 0, 6, 1);
  v1::AppliedRevision* a = r.add_applied();
  a->set_version(2);
  a->set_step(6);
  ASSERT_TRUE(jobs_->Report(r).ok());
  EXPECT_EQ(schedules_->Snapshot("a")->timeline.revision(2).applied_step, 6);
  EXPECT_EQ((*store_->LoadRevisions("a"))[1].applied_step, 6);
}

TEST_F(JobManagerTest, SucceedsWhenEveryRankFinished) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a")).ok());
  v1::ReportProgressRequest r0 = Step("a", 0, 99, 0.5);
  r0.set_finished(true);
  ASSERT_TRUE(jobs_->Report(r0).ok());
  EXPECT_EQ(jobs_->Get("a")->state(), v1::RUNNING);
  v1::ReportProgressRequest r1 = Step("a", 1, 99, 0.5);
  r1.set_finished(true);
  ASSERT_TRUE(jobs_->Report(r1).ok());
  EXPECT_EQ(jobs_->Get("a")->state(), v1::SUCCEEDED);
  EXPECT_TRUE(schedules_->Snapshot("a")->ended);
  EXPECT_TRUE(launcher_.stopped.empty());
}

TEST_F(JobManagerTest, ReportedErrorFailsTheJobAndStopsWorkers) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a", 2, "local")).ok());
  EXPECT_EQ(launcher_.launched, std::vector<std::string>{"a"});
  v1::ReportProgressRequest r = Step("a", 1, 3, 1);
  r.set_error("loss diverged at step 3 (loss is NaN)");
  EXPECT_EQ(*jobs_->Report(r), true);
  auto job = jobs_->Get("a");
  EXPECT_EQ(job->state(), v1::FAILED);
  EXPECT_EQ(job->reason(), "rank 1 reported an error: loss diverged at step 3 (loss is NaN)");
  EXPECT_EQ(launcher_.stopped, std::vector<std::string>{"a"});
  EXPECT_EQ(*jobs_->Report(Step("a", 0, 4, 1)), true);  // the others are told to stop
}

TEST_F(JobManagerTest, LocalJobsNeedCleanExits) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a", 1, "local")).ok());
  v1::ReportProgressRequest r = Step("a", 0, 9, 1);
  r.set_finished(true);
  ASSERT_TRUE(jobs_->Report(r).ok());
  EXPECT_EQ(jobs_->Get("a")->state(), v1::RUNNING);  // not exited yet
  jobs_->OnWorkerExit(WorkerExit{"a", 0, 0, 0, ""});
  EXPECT_EQ(jobs_->Get("a")->state(), v1::SUCCEEDED);

  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("b", 2, "local")).ok());
  jobs_->OnWorkerExit(WorkerExit{"b", 1, 3, 0, "RuntimeError: boom"});
  auto job = jobs_->Get("b");
  EXPECT_EQ(job->state(), v1::FAILED);
  EXPECT_EQ(job->reason(), "worker rank 1 exited with code 3: RuntimeError: boom");
  EXPECT_EQ(launcher_.stopped, std::vector<std::string>{"b"});
}

TEST_F(JobManagerTest, FailedLaunchFailsTheJob) {
  launcher_.fail_launch = true;
  auto job = jobs_->Launch(testing::ValidJobSpec("a", 1, "local"));
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::FAILED);
  EXPECT_NE(job->reason().find("no such binary"), std::string::npos);
}

TEST_F(JobManagerTest, StopIsFinal) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a")).ok());
  auto stopped = jobs_->Stop("a", "");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state(), v1::STOPPED);
  EXPECT_EQ(stopped->reason(), "stopped by user");
  EXPECT_EQ(jobs_->Stop("a", "").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(jobs_->Stop("zz", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*jobs_->Report(Step("a", 0, 4, 1)), true);
  EXPECT_EQ(jobs_->SpecForWorkers("a").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(JobManagerTest, SubscribersSeeChanges) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a")).ok());
  testing::SnapshotRecorder<JobSnapshot> seen;
  auto sub = jobs_->Subscribe("a", seen.Listener());
  ASSERT_TRUE(sub.ok());
  const int64_t gen = sub->current->generation;
  EXPECT_EQ(sub->current->job.state(), v1::PENDING);
  EXPECT_EQ(jobs_->Subscribe("zz", [](const auto&) {}).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(jobs_->Report(Step("a", 0, 1, 1)).ok());
  auto changed =
      seen.WaitFor([&](const JobSnapshot& s) { return s.generation > gen; }, milliseconds(2000));
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->job.state(), v1::RUNNING);
  jobs_->Unsubscribe("a", sub->id);
}

TEST_F(JobManagerTest, RecoversJobsStatesAndSteps) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a")).ok());
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("b")).ok());
  ASSERT_TRUE(jobs_->Report(Step("a", 0, 12, 1)).ok());
  ASSERT_TRUE(jobs_->Report(Step("a", 1, 11, 1)).ok());
  ASSERT_TRUE(jobs_->Stop("b", "enough").ok());
  Open();
  ASSERT_TRUE(jobs_->Recover().ok());
  auto list = jobs_->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].state(), v1::RUNNING);
  EXPECT_EQ(list[0].global_step(), 12);
  EXPECT_EQ(list[1].state(), v1::STOPPED);
  EXPECT_EQ(list[1].reason(), "enough");
  EXPECT_TRUE(schedules_->Snapshot("b")->ended);
  // The recovered job keeps its current step for schedule updates.
  ScheduleUpdate u;
  u.job = "a";
  u.spec = schedules_->Snapshot("a")->timeline.revision(1).spec;
  u.effective_step = 3;
  EXPECT_EQ(schedules_->Update(u).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cyclr
