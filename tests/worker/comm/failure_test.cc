// Failures become one clear Status instead of a hang: bad options, a rank that never joins, a
// rank that skips a collective, a bad broadcast root.
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/worker/comm/spawn.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;
using testing::Spawn;

CommunicatorOptions GlooOptions(int rank, int size) {
  CommunicatorOptions o;
  o.rank = rank;
  o.world_size = size;
  o.rendezvous_timeout = milliseconds(5000);
  o.op_timeout = milliseconds(5000);
  o.shm = ShmMode::kOff;  // these tests are about Gloo; shm_failure_test.cc covers shared memory
  return o;
}

bool Contains(const Status& s, const std::string& part) {
  return s.message().find(part) != std::string::npos;
}

TEST(CommunicatorFactoryTest, RejectsBadOptionsNamingTheField) {
  auto store = std::make_shared<InMemoryStore>();
  auto o = GlooOptions(2, 2);
  auto bad_rank = MakeCommunicator(o, store);
  ASSERT_FALSE(bad_rank.ok());
  EXPECT_EQ(bad_rank.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad_rank.status(), "rank (2) must be in [0, 2)")) << bad_rank.status().ToString();

  o = GlooOptions(0, 1);
  o.backend = "mpi";
  auto bad_backend = MakeCommunicator(o, store);
  ASSERT_FALSE(bad_backend.ok());
  EXPECT_TRUE(Contains(bad_backend.status(), "backend")) << bad_backend.status().ToString();

  o = GlooOptions(0, 1);
  o.op_timeout = milliseconds(0);
  auto bad_timeout = MakeCommunicator(o, store);
  ASSERT_FALSE(bad_timeout.ok());
  EXPECT_TRUE(Contains(bad_timeout.status(), "op_timeout")) << bad_timeout.status().ToString();
  EXPECT_EQ(store->size(), 0u) << "a rejected call must not touch the store";
}

TEST(CommunicatorFactoryTest, NcclWithoutBuildOrDeviceIsFailedPrecondition) {
  if (NcclCompiledIn() && CudaDeviceCount() > 0) GTEST_SKIP() << "NCCL is usable here";
  auto o = GlooOptions(0, 1);
  o.backend = "nccl";
  auto comm = MakeCommunicator(o, std::make_shared<InMemoryStore>());
  ASSERT_FALSE(comm.ok());
  EXPECT_EQ(comm.status().code(), StatusCode::kFailedPrecondition) << comm.status().ToString();
  EXPECT_TRUE(Contains(comm.status(), "nccl")) << comm.status().ToString();
}

TEST(CommunicatorFactoryTest, UnknownInterfaceIsInvalidArgument) {
  auto o = GlooOptions(0, 1);
  o.iface = "no-such-iface0";
  auto comm = MakeCommunicator(o, std::make_shared<InMemoryStore>());
  ASSERT_FALSE(comm.ok());
  EXPECT_EQ(comm.status().code(), StatusCode::kInvalidArgument) << comm.status().ToString();
  EXPECT_TRUE(Contains(comm.status(), "no-such-iface0")) << comm.status().ToString();
}

TEST(GlooFailureTest, RendezvousTimesOutWhenARankNeverJoins) {
  auto store = std::make_shared<InMemoryStore>();
  const auto start = std::chrono::steady_clock::now();
  Spawn(2, [&](int rank) {  // world_size 3, rank 2 never comes
    auto o = GlooOptions(rank, 3);
    o.rendezvous_timeout = milliseconds(300);
    auto comm = MakeCommunicator(o, store);
    ASSERT_FALSE(comm.ok());
    EXPECT_EQ(comm.status().code(), StatusCode::kDeadlineExceeded) << comm.status().ToString();
    EXPECT_TRUE(Contains(comm.status(), "rendezvous")) << comm.status().ToString();
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
}

TEST(GlooFailureTest, CollectiveTimesOutWhenAPeerSkipsItAndPoisonsTheCommunicator) {
  auto store = std::make_shared<InMemoryStore>();
  std::atomic<bool> rank0_done{false};
  Spawn(2, [&](int rank) {
    auto o = GlooOptions(rank, 2);
    o.op_timeout = milliseconds(200);
    auto comm = MakeCommunicator(o, store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    if (rank == 1) {  // stays connected but never joins the all-reduce
      while (!rank0_done.load()) std::this_thread::sleep_for(milliseconds(5));
      return;
    }
    std::vector<float> data(8, 1.0f);
    Status s = (*comm)->AllReduce(data.data(), data.size(), DataType::kFloat32, ReduceOp::kSum)
                   ->Wait(milliseconds(5000));
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
    EXPECT_TRUE(Contains(s, "allreduce #0")) << s.ToString();
    Status next = (*comm)->AllReduce(data.data(), 1, DataType::kFloat32, ReduceOp::kSum)
                      ->Wait(milliseconds(1000));
    EXPECT_EQ(next.code(), StatusCode::kFailedPrecondition) << next.ToString();
    rank0_done = true;
  });
}

TEST(GlooFailureTest, WaitTimeoutShorterThanTheCollectiveReturnsDeadlineExceeded) {
  auto store = std::make_shared<InMemoryStore>();
  std::atomic<bool> rank0_done{false};
  Spawn(2, [&](int rank) {
    auto o = GlooOptions(rank, 2);
    o.op_timeout = milliseconds(300);
    auto comm = MakeCommunicator(o, store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    if (rank == 1) {
      while (!rank0_done.load()) std::this_thread::sleep_for(milliseconds(5));
      return;
    }
    int64_t v = 1;
    Status s = (*comm)->AllReduce(&v, 1, DataType::kInt64, ReduceOp::kMin)->Wait(milliseconds(20));
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
    EXPECT_TRUE(Contains(s, "did not finish within 20 ms")) << s.ToString();
    rank0_done = true;  // the communicator's destructor waits out Gloo's own 300 ms bound
  });
}

TEST(GlooFailureTest, BadBroadcastRootIsRejectedAndChangesNothing) {
  auto store = std::make_shared<InMemoryStore>();
  Spawn(2, [&](int rank) {
    auto comm = MakeCommunicator(GlooOptions(rank, 2), store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    float x = static_cast<float>(rank);
    if (rank == 0) {
      Status bad = (*comm)->Broadcast(&x, 1, DataType::kFloat32, 5)->Wait(milliseconds(100));
      EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(Contains(bad, "root (5)")) << bad.ToString();
      EXPECT_EQ(x, 0.0f);
    }
    // The communicator still works and tags still line up across ranks.
    Status s = (*comm)->AllReduce(&x, 1, DataType::kFloat32, ReduceOp::kSum)->Wait(milliseconds(5000));
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(x, 1.0f);
  });
}

}  // namespace
}  // namespace cyclr
