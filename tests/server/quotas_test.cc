// Quotas (RESOURCE_EXHAUSTED naming the limit): revisions per job, jobs and local workers per
// coordinator, rendezvous-store sizes and bytes per job, concurrent StoreGet waiters; and
// StoreGet waits that end promptly when their caller cancels (registry and real gRPC).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "core/limits.h"
#include "proto/proto_convert.h"
#include "server/coordinator.h"
#include "server/job_manager.h"
#include "server/worker_registry.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

void ExpectExhausted(const Status& s, const std::string& part) {
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

TEST(QuotasTest, RevisionsPerJob) {
  ScheduleManager schedules(nullptr);
  Timeline t;
  Revision first;
  first.version = 1;
  first.spec = *FromProto(testing::TriangularSpec());
  ASSERT_TRUE(t.Append(first).ok());
  ASSERT_TRUE(schedules.AddJob("job", t, 0, false).ok());
  EXPECT_EQ(schedules.AddJob("job", t, 0, false).code(), StatusCode::kAlreadyExists);
  ScheduleUpdate u;
  u.job = "job";
  u.spec = first.spec;
  for (int64_t v = 2; v <= limits::kMaxRevisionsPerJob; ++v) {
    ASSERT_TRUE(schedules.Update(u).ok()) << v;
  }
  ExpectExhausted(schedules.Update(u).status(), "kMaxRevisionsPerJob = 1000");
  EXPECT_EQ(schedules.Snapshot("job")->timeline.latest_version(), limits::kMaxRevisionsPerJob);
}

class JobQuotasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    JobManager::Options o;
    o.max_jobs = 3;
    o.max_local_workers = 3;
    testing::OpenManagers(dir_, o, &store_, &schedules_, &jobs_);
  }
  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(JobQuotasTest, LocalWorkersOfUnfinishedJobsAndJobsHeld) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("l1", 2, "local")).ok());
  ExpectExhausted(jobs_->Launch(testing::ValidJobSpec("l2", 2, "local")).status(),
                  "needs 2 local workers but unfinished local jobs use 2 of the 3 that "
                  "--max-local-workers allows");
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("e1", 8, "external")).ok());  // not counted
  ASSERT_TRUE(jobs_->Stop("l1", "").ok());  // a finished job frees its workers...
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("l2", 3, "local")).ok());
  // ...but still counts as a job held.
  ExpectExhausted(jobs_->Launch(testing::ValidJobSpec("e2")).status(),
                  "the coordinator holds 3 jobs, the most --max-jobs (3) allows");
  EXPECT_EQ(jobs_->List().size(), 3u);
}

TEST_F(JobQuotasTest, ANonFiniteLossDoesNotPoisonTheJobsMean) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("a", 2)).ok());
  for (int rank = 0; rank < 2; ++rank) {
    v1::ReportProgressRequest r;
    r.set_job("a");
    r.set_rank(rank);
    v1::StepReport* s = r.add_steps();
    s->set_step(3);
    s->set_loss(rank == 0 ? std::nan("") : 2.0);
    ASSERT_TRUE(jobs_->Report(r).ok());
  }
  v1::Job job = jobs_->Get("a").value();
  EXPECT_DOUBLE_EQ(job.loss(), 2.0);
  ASSERT_EQ(job.ranks_size(), 2);
  EXPECT_TRUE(std::isnan(job.ranks(0).loss()));  // the rank's own value is kept
}

WorkerRegistry::JobLookup OneJob() {
  return [](const std::string& job) -> StatusOr<v1::JobSpec> {
    if (job != "job") return Status::NotFound("job \"" + job + "\" not found");
    return testing::ValidJobSpec("job", 2);
  };
}

TEST(StoreQuotasTest, SizesAndBytesPerJob) {
  WorkerRegistry reg(OneJob(), milliseconds(1000));
  EXPECT_EQ(reg.StoreSet("job", std::string(limits::kMaxStoreKeyBytes + 1, 'k'), "v").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.StoreSet("job", "k", std::string(limits::kMaxStoreValueBytes + 1, 'v')).code(),
            StatusCode::kInvalidArgument);
  const std::string value(limits::kMaxStoreValueBytes, 'v');
  // Overwriting a key replaces its bytes: any number of rewrites fit.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(reg.StoreSet("job", "same", value).ok());
  EXPECT_EQ(reg.store_bytes("job"), 4 + value.size());
  int stored = 1;
  Status s;
  while ((s = reg.StoreSet("job", "job/0/k" + std::to_string(stored), value)).ok()) ++stored;
  ExpectExhausted(s, "the limit is kMaxStoreBytesPerJob (1048576 bytes)");
  EXPECT_EQ(stored, 15);  // 15 values of 64 KiB and their keys fit; a 16th passes 1 MiB
  EXPECT_LE(reg.store_bytes("job"), limits::kMaxStoreBytesPerJob);
  // One key asked for 20 times would make a 1.3 MB reply.
  ExpectExhausted(
      reg.StoreGet("job", std::vector<std::string>(20, "same"), milliseconds(1)).status(),
      "more than kMaxStoreBytesPerJob (1048576 bytes) in one reply");
  // A new incarnation drops the previous one's keys ("job/0/..."), keeps the others.
  reg.NewIncarnation("job");
  EXPECT_EQ(reg.store_bytes("job"), 4 + value.size());
  EXPECT_TRUE(reg.StoreSet("job", "job/1/k", value).ok());
}

TEST(StoreQuotasTest, WaitersAreBoundedAndEndWhenCancelled) {
  WorkerRegistry reg(OneJob(), milliseconds(1000));
  std::atomic<bool> cancel{false};
  std::atomic<int> cancelled{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < limits::kMaxStoreWaiters; ++i) {
    waiters.emplace_back([&] {
      auto r = reg.StoreGet("job", {"never"}, milliseconds(600000), [&] { return cancel.load(); });
      if (r.status().code() == StatusCode::kCancelled) ++cancelled;
    });
  }
  ASSERT_TRUE(testing::WaitFor([&] { return reg.store_waiters() == limits::kMaxStoreWaiters; },
                               std::chrono::seconds(20)));
  ExpectExhausted(reg.StoreGet("job", {"never"}, milliseconds(10)).status(),
                  "the most kMaxStoreWaiters (256) allows");
  ASSERT_TRUE(reg.StoreSet("job", "there", "v").ok());
  EXPECT_TRUE(reg.StoreGet("job", {"there"}, milliseconds(10)).ok());  // no wait: not counted
  auto t0 = Clock::now();
  cancel = true;
  for (auto& w : waiters) w.join();
  EXPECT_LT(Clock::now() - t0, milliseconds(2000));
  EXPECT_EQ(cancelled.load(), limits::kMaxStoreWaiters);
  EXPECT_EQ(reg.store_waiters(), 0);
}

TEST(StoreQuotasTest, OneCancelledWaitEndsWithinASlice) {
  WorkerRegistry reg(OneJob(), milliseconds(1000));
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(100));
    cancel = true;
  });
  auto t0 = Clock::now();
  auto r = reg.StoreGet("job", {"never"}, milliseconds(600000), [&] { return cancel.load(); });
  auto took = Clock::now() - t0;
  canceller.join();
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_LT(took, milliseconds(100) + WorkerRegistry::kStoreWaitSlice + milliseconds(100));
}

// Over real gRPC: a StoreGet asking for 10 minutes ends with its client's deadline, and one the
// client cancels frees its waiter slot at once.
TEST(StoreQuotasTest, RpcWaitsFollowTheClientsDeadlineAndCancel) {
  testing::TempDir dir;
  auto c = Coordinator::Start(testing::LoopbackOptions(dir));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  testing::ServiceStubs stubs = testing::ConnectStubs((*c)->address());
  {
    grpc::ClientContext ctx;
    v1::LaunchJobRequest req;
    *req.mutable_spec() = testing::ValidJobSpec("job", 2);
    v1::Job job;
    ASSERT_TRUE(stubs.jobs->LaunchJob(&ctx, req, &job).ok());
  }
  v1::StoreGetRequest get;
  get.set_job("job");
  get.add_keys("never");
  get.set_timeout_ms(600000);
  auto t0 = Clock::now();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(300));
    v1::StoreGetResponse resp;
    EXPECT_EQ(stubs.workers->StoreGet(&ctx, get, &resp).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  EXPECT_TRUE(
      testing::WaitFor([&] { return (*c)->registry().store_waiters() == 0; }, milliseconds(300)));
  EXPECT_LT(Clock::now() - t0, milliseconds(1000));

  grpc::ClientContext ctx;
  v1::StoreGetResponse resp;
  std::thread call([&] { stubs.workers->StoreGet(&ctx, get, &resp); });
  ASSERT_TRUE(testing::WaitFor([&] { return (*c)->registry().store_waiters() == 1; }));
  t0 = Clock::now();
  ctx.TryCancel();
  EXPECT_TRUE(
      testing::WaitFor([&] { return (*c)->registry().store_waiters() == 0; }, milliseconds(300)));
  EXPECT_LT(Clock::now() - t0, milliseconds(300));
  call.join();
}

}  // namespace
}  // namespace cyclr
