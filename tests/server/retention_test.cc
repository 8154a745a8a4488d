// Life cycle of stored jobs: ListJobs in pages, DeleteJob (only ended jobs; the state file, the
// timeline, the metric series and the rendezvous values all go), and --retain expiry. Manager
// level with a real SQLite file, then a real coordinator over gRPC.
#include <gtest/gtest.h>

#include "server/coordinator.h"
#include "server/job_manager.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    JobManager::Options o;
    o.persist_interval = milliseconds(0);
    o.on_deleted = [this](const std::string& job) { deleted_.push_back(job); };
    testing::OpenManagers(dir_, o, &store_, &schedules_, &jobs_);
    ASSERT_TRUE(jobs_->Recover().ok());
  }
  std::vector<std::string> Names(const v1::ListJobsResponse& page) {
    std::vector<std::string> out;
    for (const auto& j : page.jobs()) out.push_back(j.name());
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<JobManager> jobs_;
  std::vector<std::string> deleted_;
};

TEST_F(RetentionTest, ListPagesInCreationOrderAcrossDeletionsAndRestarts) {
  for (const char* n : {"e", "d", "c", "b", "a"})
    ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec(n)).ok());
  auto first = jobs_->ListPage(2, "").value();
  EXPECT_EQ(Names(first), (std::vector<std::string>{"e", "d"}));
  ASSERT_FALSE(first.next_page_token().empty());
  // Deleting a job already listed does not shift the next page.
  ASSERT_TRUE(jobs_->Stop("d", "").ok());
  ASSERT_TRUE(jobs_->Delete("d").ok());
  auto second = jobs_->ListPage(2, first.next_page_token()).value();
  EXPECT_EQ(Names(second), (std::vector<std::string>{"c", "b"}));
  auto last = jobs_->ListPage(2, second.next_page_token()).value();
  EXPECT_EQ(Names(last), std::vector<std::string>{"a"});
  EXPECT_EQ(last.next_page_token(), "");
  EXPECT_EQ(Names(jobs_->ListPage(0, "").value()), (std::vector<std::string>{"e", "c", "b", "a"}));
  Open();  // recovered in creation order
  EXPECT_EQ(Names(jobs_->ListPage(3, "").value()), (std::vector<std::string>{"e", "c", "b"}));
  for (const char* bad : {"x", "-1", "0", "99999999999999999999"}) {
    Status s = jobs_->ListPage(2, bad).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("must be a next_page_token from ListJobs"), std::string::npos);
  }
  EXPECT_EQ(jobs_->ListPage(101, "").status().message(),
            "page_size (101) must be between 0 and 100");
}

TEST_F(RetentionTest, DeleteOnlyEndedJobsAndForgetThemDurably) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("run")).ok());
  Status running = jobs_->Delete("run");
  EXPECT_EQ(running.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(running.message(),
            "job \"run\" is PENDING: only an ended job can be deleted (stop it first)");
  EXPECT_EQ(jobs_->Delete("nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(jobs_->Stop("run", "").ok());
  ASSERT_TRUE(jobs_->Delete("run").ok());
  EXPECT_EQ(deleted_, std::vector<std::string>{"run"});
  EXPECT_EQ(jobs_->Get("run").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(schedules_->Snapshot("run").status().code(), StatusCode::kNotFound);
  Open();
  EXPECT_TRUE(jobs_->List().empty());
  EXPECT_TRUE(store_->LoadRevisionRows("run").value().empty());
  // The name is free again, with a fresh timeline.
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("run")).ok());
  EXPECT_EQ(schedules_->Snapshot("run")->timeline.latest_version(), 1);
}

TEST_F(RetentionTest, ExpireEndedDeletesOnlyOldEndedJobs) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("old")).ok());
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("young")).ok());
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("running")).ok());
  ASSERT_TRUE(jobs_->Stop("old", "").ok());
  ASSERT_TRUE(jobs_->Stop("young", "").ok());
  int64_t old_end = jobs_->Get("old")->updated_unix_ms();
  int64_t young_end = jobs_->Get("young")->updated_unix_ms();
  milliseconds retain(60000);
  EXPECT_TRUE(jobs_->ExpireEnded(old_end + 59999, retain).empty());
  // "young" ended at most a few ms later; move the clock so only "old" is past.
  int64_t now = old_end + 60000;
  std::vector<std::string> expired = jobs_->ExpireEnded(now, retain);
  if (young_end == old_end) {
    EXPECT_EQ(expired, (std::vector<std::string>{"old", "young"}));
  } else {
    EXPECT_EQ(expired, std::vector<std::string>{"old"});
  }
  EXPECT_EQ(jobs_->ExpireEnded(now + 3600000, retain).size(), young_end == old_end ? 0u : 1u);
  ASSERT_EQ(jobs_->List().size(), 1u);
  EXPECT_EQ(jobs_->List()[0].name(), "running");  // never expired while it runs
}

// The real coordinator: DeleteJob over gRPC removes the job's metric series and rendezvous values;
// ListJobs pages; a bad page token or page size is INVALID_ARGUMENT.
TEST(RetentionCoordinatorTest, DeleteOverGrpcRemovesSeriesAndStoreValues) {
  testing::TempDir dir;
  CoordinatorOptions o = testing::LoopbackOptions(dir);
  o.metrics = "127.0.0.1:0";
  auto c = Coordinator::Start(o).value();
  testing::ServiceStubs stubs = testing::ConnectStubs(c->address());
  auto call = [&](auto method, const auto& req, auto* resp) {
    grpc::ClientContext ctx;
    return ((*stubs.jobs).*method)(&ctx, req, resp);
  };
  v1::LaunchJobRequest launch;
  *launch.mutable_spec() = testing::ValidJobSpec("gone");
  v1::Job job;
  ASSERT_TRUE(call(&v1::JobService::Stub::LaunchJob, launch, &job).ok());
  ASSERT_TRUE(c->registry().StoreSet("gone", "gone/0/addr", "127.0.0.1:1").ok());
  EXPECT_NE(c->metrics()->Render().find("cyclr_learning_rate{job=\"gone\"}"), std::string::npos);

  v1::DeleteJobRequest del;
  del.set_name("gone");
  v1::DeleteJobResponse deleted;
  grpc::Status running = call(&v1::JobService::Stub::DeleteJob, del, &deleted);
  EXPECT_EQ(running.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::StopJobRequest stop;
  stop.set_name("gone");
  ASSERT_TRUE(call(&v1::JobService::Stub::StopJob, stop, &job).ok());
  ASSERT_TRUE(call(&v1::JobService::Stub::DeleteJob, del, &deleted).ok());
  EXPECT_EQ(c->metrics()->Render().find("job=\"gone\""), std::string::npos)
      << c->metrics()->Render();
  EXPECT_EQ(c->registry().store_bytes("gone"), 0u);
  v1::GetJobRequest get;
  get.set_name("gone");
  EXPECT_EQ(call(&v1::JobService::Stub::GetJob, get, &job).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::ListJobsRequest list;
  list.set_page_token("bogus");
  v1::ListJobsResponse page;
  grpc::Status bad = call(&v1::JobService::Stub::ListJobs, list, &page);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  list.set_page_token("");
  list.set_page_size(-1);
  EXPECT_EQ(call(&v1::JobService::Stub::ListJobs, list, &page).error_message(),
            "page_size (-1) must be between 0 and 100");
}

}  // namespace
}  // namespace cyclr
