// Recovery from a state file corrupted by hand (real SQLite, the real Coordinator over gRPC): the
// bad job is quarantined (FAILED, "quarantined at recovery: ..."), served by GetJob, ListJobs,
// GetTimeline, PreviewSchedule and /metrics without crashing, and the good job runs on.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "server/coordinator.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

struct Corruption {
  const char* name;
  const char* sql;     // run on the state file while no coordinator has it open
  const char* reason;  // a part of the quarantined job's reason
};

class QuarantineTest : public ::testing::TestWithParam<Corruption> {
 protected:
  void Start() {
    CoordinatorOptions o = testing::LoopbackOptions(dir_);
    o.persist_interval = milliseconds(0);
    auto c = Coordinator::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    coordinator_ = std::move(*c);
    stubs_ = testing::ConnectStubs(coordinator_->address());
  }
  void Stop() {
    stubs_ = testing::ServiceStubs();
    coordinator_.reset();
  }
  void Corrupt(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.File("state.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    EXPECT_EQ(sqlite3_changes(db), 1) << sql;
    sqlite3_close(db);
  }
  grpc::Status GetJob(const std::string& name, v1::Job* job) {
    grpc::ClientContext ctx;
    v1::GetJobRequest req;
    req.set_name(name);
    return stubs_.jobs->GetJob(&ctx, req, job);
  }
  // Every read RPC answers, about the bad job too.
  void ExpectServed() {
    grpc::ClientContext list_ctx;
    v1::ListJobsResponse list;
    ASSERT_TRUE(stubs_.jobs->ListJobs(&list_ctx, v1::ListJobsRequest(), &list).ok());
    EXPECT_EQ(list.jobs_size(), 2);
    v1::Job bad;
    ASSERT_TRUE(GetJob("bad", &bad).ok());
    EXPECT_EQ(bad.state(), v1::FAILED);
    EXPECT_NE(bad.reason().find("quarantined at recovery: "), std::string::npos) << bad.reason();
    EXPECT_NE(bad.reason().find(GetParam().reason), std::string::npos) << bad.reason();
    grpc::ClientContext tl_ctx;
    v1::GetTimelineRequest tl_req;
    tl_req.set_job("bad");
    v1::Timeline timeline;
    EXPECT_TRUE(stubs_.schedules->GetTimeline(&tl_ctx, tl_req, &timeline).ok());
    grpc::ClientContext pv_ctx;
    v1::PreviewScheduleRequest pv;
    pv.set_job("bad");
    pv.set_steps(3);
    v1::PreviewScheduleResponse points;
    grpc::Status preview = stubs_.schedules->PreviewSchedule(&pv_ctx, pv, &points);
    EXPECT_TRUE(preview.ok() || preview.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
        << preview.error_message();
    std::string metrics = coordinator_->metrics()->Render();
    EXPECT_NE(metrics.find("cyclr_job_state{job=\"bad\",state=\"FAILED\"} 1"), std::string::npos);
  }

  testing::TempDir dir_;
  std::unique_ptr<Coordinator> coordinator_;
  testing::ServiceStubs stubs_;
};

TEST_P(QuarantineTest, TheBadJobIsFailedAndTheGoodOneRuns) {
  Start();
  for (const char* name : {"good", "bad"}) {
    grpc::ClientContext ctx;
    v1::LaunchJobRequest req;
    *req.mutable_spec() = testing::ValidJobSpec(name, 1);
    v1::Job job;
    ASSERT_TRUE(stubs_.jobs->LaunchJob(&ctx, req, &job).ok());
  }
  Stop();
  Corrupt(GetParam().sql);

  Start();  // starts despite the bad row
  ExpectServed();
  v1::ReportProgressRequest report;
  report.set_job("good");
  report.set_rank(0);
  report.add_steps()->set_step(4);
  grpc::ClientContext ctx;
  v1::ReportProgressResponse resp;
  ASSERT_TRUE(stubs_.workers->ReportProgress(&ctx, report, &resp).ok());
  EXPECT_FALSE(resp.stop());
  // The bad job's workers (if any) hear that they must stop, whatever is left of its spec.
  report.set_job("bad");
  grpc::ClientContext bad_ctx;
  ASSERT_TRUE(stubs_.workers->ReportProgress(&bad_ctx, report, &resp).ok());
  EXPECT_TRUE(resp.stop());
  v1::Job good;
  ASSERT_TRUE(GetJob("good", &good).ok());
  EXPECT_EQ(good.state(), v1::RUNNING);
  EXPECT_EQ(good.global_step(), 5);

  Stop();  // the quarantine was persisted: the next start serves the same
  Start();
  ExpectServed();
}

INSTANTIATE_TEST_SUITE_P(
    HandEdited, QuarantineTest,
    ::testing::Values(
        Corruption{"bad_revision_blob",
                   "UPDATE revisions SET revision = x'ffff0102' WHERE job = 'bad'",
                   "revision 1: revision is not a serialized cyclr.v1.Revision"},
        Corruption{"negative_global_step", "UPDATE jobs SET global_step = -5 WHERE name = 'bad'",
                   "global_step (-5) must be between 0 and 1099511627776"},
        Corruption{"unknown_state", "UPDATE jobs SET state = 99 WHERE name = 'bad'", "state (99)"},
        Corruption{"garbage_spec", "UPDATE jobs SET spec = x'67617262616765' WHERE name = 'bad'",
                   "spec is not a serialized cyclr.v1.JobSpec"},
        Corruption{"invalid_spec_rule", "UPDATE jobs SET spec = x'' WHERE name = 'bad'",
                   "spec: name (\"\")"},
        Corruption{"overflowing_applied_step",
                   "UPDATE revisions SET applied_step = 9223372036854775807 WHERE job = 'bad'",
                   "applied_step (9223372036854775807)"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace cyclr
