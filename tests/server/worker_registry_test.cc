// WorkerRegistry: registration and rank assignment, the rendezvous store's wait and timeout,
// heartbeats with a tiny timeout.
#include "server/worker_registry.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

WorkerRegistry::JobLookup FakeJobs() {
  return [](const std::string& job) -> StatusOr<v1::JobSpec> {
    if (job == "done") return Status::FailedPrecondition("job \"done\" already ended");
    if (job != "job") return Status::NotFound("job \"" + job + "\" not found");
    return testing::ValidJobSpec("job", 3);
  };
}

TEST(WorkerRegistryTest, AssignsRanksInOrder) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  auto r1 = reg.Register("job", 1, 3, "h", 10);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->rank, 1);
  EXPECT_EQ(r1->store_prefix, "job/0/");
  EXPECT_EQ(r1->spec.workers(), 3);
  EXPECT_EQ(reg.Register("job", -1, 3, "h", 11)->rank, 0);
  EXPECT_EQ(reg.Register("job", -1, 3, "h", 12)->rank, 2);
  auto full = reg.Register("job", -1, 3, "h", 13);
  EXPECT_EQ(full.status().code(), StatusCode::kFailedPrecondition);
}

TEST(WorkerRegistryTest, RejectsBadRegistrations) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  EXPECT_EQ(reg.Register("ghost", 0, 3, "h", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg.Register("done", 0, 3, "h", 1).status().code(), StatusCode::kFailedPrecondition);
  auto ws = reg.Register("job", 0, 2, "h", 1);
  EXPECT_EQ(ws.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ws.status().message().find("world_size (2)"), std::string::npos);
  auto rank = reg.Register("job", 3, 3, "h", 1);
  EXPECT_EQ(rank.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rank.status().message().find("rank (3)"), std::string::npos);
}

TEST(WorkerRegistryTest, ReRegistrationStartsANewIncarnation) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  ASSERT_TRUE(reg.Register("job", 0, 3, "h", 1).ok());
  auto again = reg.Register("job", 0, 3, "h", 2);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->restart);
  EXPECT_EQ(again->store_prefix, "job/1/");
  EXPECT_EQ(reg.Restarts("job"), 1);
}

// The coordinator restarts a whole group: the new workers register afresh under a new prefix.
// A progress report alone (a worker registered with another coordinator) never makes a later
// registration a restart.
TEST(WorkerRegistryTest, NewIncarnationForAGroupRestart) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  ASSERT_TRUE(reg.Register("job", 1, 3, "h", 1).ok());
  reg.NewIncarnation("job");
  reg.Heartbeat("job", 0);  // the old group's last report
  for (int r = 0; r < 3; ++r) {
    auto reg_r = reg.Register("job", r, 3, "h", 10 + r);
    ASSERT_TRUE(reg_r.ok());
    EXPECT_FALSE(reg_r->restart) << r;
    EXPECT_EQ(reg_r->store_prefix, "job/1/") << r;
  }
  EXPECT_EQ(reg.Restarts("job"), 0);
}

TEST(WorkerRegistryTest, StoreGetWaitsForKeys) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(20));
    ASSERT_TRUE(reg.StoreSet("job", "a", "1").ok());
    ASSERT_TRUE(reg.StoreSet("job", "b", std::string("\0x", 2)).ok());
  });
  auto values = reg.StoreGet("job", {"b", "a"}, milliseconds(5000));
  setter.join();
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ((*values)[0], std::string("\0x", 2));
  EXPECT_EQ((*values)[1], "1");
}

TEST(WorkerRegistryTest, StoreGetTimesOutNamingMissingKeys) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  ASSERT_TRUE(reg.StoreSet("job", "present", "x").ok());
  auto start = std::chrono::steady_clock::now();
  auto values = reg.StoreGet("job", {"present", "missing1", "missing2"}, milliseconds(30));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(30));
  ASSERT_EQ(values.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(values.status().message().find("missing1, missing2"), std::string::npos);
  EXPECT_EQ(values.status().message().find("present"), std::string::npos);
  EXPECT_EQ(reg.StoreGet("ghost", {"k"}, milliseconds(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg.StoreSet("job", "", "v").code(), StatusCode::kInvalidArgument);
}

TEST(WorkerRegistryTest, KeysArePerJob) {
  auto lookup = [](const std::string& job) -> StatusOr<v1::JobSpec> {
    return testing::ValidJobSpec(job, 1);
  };
  WorkerRegistry reg(lookup, milliseconds(1000));
  ASSERT_TRUE(reg.StoreSet("one", "k", "1").ok());
  EXPECT_EQ(reg.StoreGet("two", {"k"}, milliseconds(5)).status().code(),
            StatusCode::kDeadlineExceeded);
}

TEST(WorkerRegistryTest, HeartbeatsExpire) {
  WorkerRegistry reg(FakeJobs(), milliseconds(40));
  ASSERT_TRUE(reg.Register("job", 0, 3, "h", 1).ok());
  ASSERT_TRUE(reg.Register("job", 1, 3, "h", 2).ok());
  EXPECT_TRUE(reg.Alive("job", 0));
  EXPECT_EQ(reg.AliveCount("job"), 2);
  std::this_thread::sleep_for(milliseconds(60));
  EXPECT_FALSE(reg.Alive("job", 0));
  reg.Heartbeat("job", 1);
  EXPECT_TRUE(reg.Alive("job", 1));
  EXPECT_EQ(reg.AliveCount("job"), 1);
  EXPECT_FALSE(reg.Alive("job", 2));  // never registered
}

TEST(WorkerRegistryTest, ShutdownWakesWaiters) {
  WorkerRegistry reg(FakeJobs(), milliseconds(1000));
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(20));
    reg.Shutdown();
  });
  auto values = reg.StoreGet("job", {"never"}, milliseconds(10000));
  stopper.join();
  EXPECT_EQ(values.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cyclr
