// The LR range test's curve in the coordinator: JobManager::Report stores rank 0's points
// durably (StateStore::AppendCurve), LossCurve serves them, recovery keeps them, deletion drops
// them; and every refusal (another rank, a job that is no probe, bad points, bad probe specs).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "server/job_manager.h"
#include "server/job_spec_rules.h"
#include "server/request_limits.h"
#include "tests/server/fake_launcher.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

v1::JobSpec ProbeSpec(const std::string& name) {
  v1::JobSpec j = testing::ValidJobSpec(name);
  v1::ScheduleSpec* s = j.mutable_schedule();
  s->Clear();
  s->set_policy("range-test");
  s->set_base_lr(1e-5);
  s->set_max_lr(1);
  s->set_total_steps(100);
  j.set_max_steps(100);
  return j;
}

v1::ReportProgressRequest Curve(const std::string& job, int rank,
                                std::vector<std::pair<int64_t, double>> points) {
  v1::ReportProgressRequest r;
  r.set_job(job);
  r.set_rank(rank);
  for (auto [step, loss] : points) {
    v1::CurvePoint* p = r.add_curve();
    p->set_step(step);
    p->set_lr(1e-5 * std::pow(10.0, step / 20.0));
    p->set_loss(loss);
  }
  return r;
}

class LossCurveTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    JobManager::Options o;
    o.persist_interval = milliseconds(0);
    testing::OpenManagers(dir_, o, &store_, &schedules_, &jobs_);
    jobs_->SetLauncher(&launcher_);
  }

  testing::TempDir dir_;
  testing::FakeLauncher launcher_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(LossCurveTest, StoredInStepOrderAndKeptAcrossARestart) {
  ASSERT_TRUE(jobs_->Launch(ProbeSpec("p")).ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  v1::ReportProgressRequest first = Curve("p", 0, {{0, 2.3}, {1, 2.2}});
  first.set_train_examples(60000);
  ASSERT_TRUE(jobs_->Report(first).ok());
  // A report sent again after a lost reply replaces the same steps; NaN survives SQLite.
  v1::ReportProgressRequest last = Curve("p", 0, {{1, 2.2}, {2, 9.5}, {3, nan}});
  last.set_finished(true);
  last.set_note("range test ended at step 3: a rank's loss was not finite");
  ASSERT_TRUE(jobs_->Report(last).ok());
  v1::ReportProgressRequest r1;
  r1.set_job("p");
  r1.set_rank(1);
  r1.set_finished(true);
  r1.set_note("range test ended at step 3 (rank 1's words)");  // every rank says it; rank 0's count
  ASSERT_TRUE(jobs_->Report(r1).ok());
  v1::Job job = *jobs_->Get("p");
  EXPECT_EQ(job.state(), v1::SUCCEEDED);
  EXPECT_EQ(job.reason(), "range test ended at step 3: a rank's loss was not finite");

  Open();
  ASSERT_TRUE(jobs_->Recover().ok());
  StatusOr<v1::LossCurve> curve = jobs_->LossCurve("p");
  ASSERT_TRUE(curve.ok()) << curve.status().ToString();
  EXPECT_EQ(curve->train_examples(), 60000);
  ASSERT_EQ(curve->points_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(curve->points(i).step(), i);
  EXPECT_DOUBLE_EQ(curve->points(1).loss(), 2.2);
  EXPECT_DOUBLE_EQ(curve->points(2).lr(), 1e-5 * std::pow(10.0, 0.1));
  EXPECT_TRUE(std::isnan(curve->points(3).loss()));
  EXPECT_EQ(jobs_->Get("p")->reason(), job.reason());

  ASSERT_TRUE(jobs_->Delete("p").ok());
  EXPECT_TRUE(store_->LoadCurve("p")->empty());
}

TEST_F(LossCurveTest, OnlyRankZeroOfAProbeReportsACurve) {
  ASSERT_TRUE(jobs_->Launch(ProbeSpec("p")).ok());
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("plain")).ok());
  Status other = jobs_->Report(Curve("p", 1, {{0, 2.3}})).status();
  EXPECT_EQ(other.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.message().find("are rank 0's to report (rank 1"), std::string::npos);
  Status plain = jobs_->Report(Curve("plain", 0, {{0, 2.3}})).status();
  EXPECT_EQ(plain.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->LoadCurve("p")->empty());
  EXPECT_TRUE(store_->LoadCurve("plain")->empty());
  EXPECT_EQ(jobs_->LossCurve("plain").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(jobs_->LossCurve("nosuch").status().code(), StatusCode::kNotFound);
}

TEST(LossCurveLimits, PointsAreRangeChecked) {
  struct Case {
    int64_t step;
    double lr;
    const char* message;
  };
  for (const Case& c : {Case{-1, 0.1, "curve[0].step (-1)"}, Case{50000, 0.1, "curve[0].step"},
                        Case{3, 0, "curve[0].lr (0) must be > 0"},
                        Case{3, INFINITY, "curve[0].lr"}}) {
    v1::ReportProgressRequest r = Curve("p", 0, {});
    v1::CurvePoint* p = r.add_curve();
    p->set_step(c.step);
    p->set_lr(c.lr);
    Status s = CheckRequest(r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
  }
  v1::ReportProgressRequest ok = Curve("p", 0, {{49999, std::numeric_limits<double>::infinity()}});
  ok.mutable_curve(0)->set_lr(3.5);
  EXPECT_TRUE(CheckRequest(ok).ok()) << CheckRequest(ok).ToString();  // the step that diverged
}

TEST(LossCurveLimits, ProbeSpecsLeaveNothingBehindAndStayBounded) {
  v1::JobSpec spec = ProbeSpec("p");
  EXPECT_TRUE(NormalizeJobSpec(&spec).ok());
  for (auto mutate : std::vector<std::function<void(v1::JobSpec*)>>{
           [](v1::JobSpec* s) { s->set_checkpoint_dir("/tmp/ck"); },
           [](v1::JobSpec* s) { s->set_resume_from("/tmp/ck/ckpt-1.pt"); },
           [](v1::JobSpec* s) { s->set_output_dir("/tmp/out"); }}) {
    v1::JobSpec bad = ProbeSpec("p");
    mutate(&bad);
    Status s = NormalizeJobSpec(&bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("must be empty for a range-test job"), std::string::npos)
        << s.message();
  }
  v1::JobSpec long_probe = ProbeSpec("p");
  long_probe.mutable_schedule()->set_total_steps(50001);
  EXPECT_NE(NormalizeJobSpec(&long_probe).message().find("at most 50000"), std::string::npos);
  v1::JobSpec negative = ProbeSpec("p");
  negative.set_max_steps(-1);
  EXPECT_NE(NormalizeJobSpec(&negative).message().find("max_steps (-1)"), std::string::npos);
}

}  // namespace
}  // namespace cyclr
