// Every collective on every backend and world size (gloo: 1-4 ranks as threads on 127.0.0.1;
// shm: 1-4 ranks over shared memory; shm+gloo: 3-4 ranks on two pretend hosts; nccl: skipped
// unless built with NCCL and enough CUDA devices are present). See comm_setup.h.
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "tests/worker/comm/comm_setup.h"
#include "tests/worker/comm/spawn.h"
#include "tests/worker/comm/test_buffer.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;
using testing::Spawn;
using testing::TestBuffer;

constexpr milliseconds kWait{20000};

class CollectivesTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override {
    if (backend() == "nccl") {
      if (!NcclCompiledIn()) GTEST_SKIP() << "built without NCCL";
      if (CudaDeviceCount() < size()) GTEST_SKIP() << "needs " << size() << " CUDA devices";
    }
    store_ = std::make_shared<InMemoryStore>();
  }
  std::string backend() const { return std::get<0>(GetParam()); }
  int size() const { return std::get<1>(GetParam()); }

  CommunicatorOptions Options(int rank) const {
    CommunicatorOptions o;
    o.backend = backend();
    o.rank = rank;
    o.world_size = size();
    o.cuda_device = rank;
    o.rendezvous_timeout = milliseconds(10000);
    o.op_timeout = milliseconds(10000);
    testing::ApplyCommSetup(backend(), rank, &o);
    return o;
  }
  // Runs fn(rank, communicator) on every rank.
  void RunRanks(const std::function<void(int, Communicator&)>& fn) {
    Spawn(size(), [&](int rank) {
      auto comm = MakeCommunicator(Options(rank), store_);
      ASSERT_TRUE(comm.ok()) << comm.status().ToString();
      EXPECT_EQ((*comm)->rank(), rank);
      EXPECT_EQ((*comm)->world_size(), size());
      EXPECT_EQ((*comm)->backend(), backend());
      fn(rank, **comm);
    });
  }

  std::shared_ptr<InMemoryStore> store_;
};

// Each rank's input, chosen so that min, max and sum differ per element and per rank.
float FloatInput(int rank, size_t i) { return static_cast<float>((rank * 7 + i) % 11) - 3.5f; }
int64_t IntInput(int rank, size_t i) {
  return (int64_t{1} << 40) * (rank + 1) - static_cast<int64_t>((i * 13 + rank) % 17);
}

template <typename T>
std::vector<T> Expected(int size, size_t count, ReduceOp op, T (*input)(int, size_t)) {
  std::vector<T> out(count);
  for (size_t i = 0; i < count; ++i) {
    T acc = input(0, i);
    for (int r = 1; r < size; ++r) {
      T v = input(r, i);
      acc = op == ReduceOp::kSum ? acc + v : op == ReduceOp::kMin ? std::min(acc, v)
                                                                  : std::max(acc, v);
    }
    out[i] = acc;
  }
  return out;
}

template <typename T>
void CheckAllReduce(Communicator& comm, const std::string& backend, int rank, size_t count,
                    DataType type, ReduceOp op, T (*input)(int, size_t)) {
  TestBuffer<T> buf(backend, count);
  for (size_t i = 0; i < count; ++i) buf.host()[i] = input(rank, i);
  buf.Upload();
  Status s = comm.AllReduce(buf.data(), count, type, op)->Wait(kWait);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(buf.Download(), Expected<T>(comm.world_size(), count, op, input))
      << "rank " << rank << " count " << count << " op " << ReduceOpName(op);
}

TEST_P(CollectivesTest, AllReduceFloat32AllOpsAndSizes) {
  RunRanks([&](int rank, Communicator& comm) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMin, ReduceOp::kMax}) {
      for (size_t count : {size_t{1}, size_t{7}, size_t{1000}, size_t{300000}}) {
        CheckAllReduce<float>(comm, backend(), rank, count, DataType::kFloat32, op, FloatInput);
      }
    }
  });
}

TEST_P(CollectivesTest, AllReduceInt64AllOpsAndSizes) {
  RunRanks([&](int rank, Communicator& comm) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMin, ReduceOp::kMax}) {
      for (size_t count : {size_t{1}, size_t{5}, size_t{4099}}) {
        CheckAllReduce<int64_t>(comm, backend(), rank, count, DataType::kInt64, op, IntInput);
      }
    }
  });
}

TEST_P(CollectivesTest, BroadcastFromEveryRoot) {
  RunRanks([&](int rank, Communicator& comm) {
    for (int root = 0; root < size(); ++root) {
      TestBuffer<float> f(backend(), 513);
      TestBuffer<int64_t> n(backend(), 3);
      for (size_t i = 0; i < f.size(); ++i) f.host()[i] = FloatInput(rank, i);
      for (size_t i = 0; i < n.size(); ++i) n.host()[i] = IntInput(rank, i);
      f.Upload();
      n.Upload();
      auto wf = comm.Broadcast(f.data(), f.size(), DataType::kFloat32, root);
      auto wn = comm.Broadcast(n.data(), n.size(), DataType::kInt64, root);
      ASSERT_TRUE(wf->Wait(kWait).ok());
      ASSERT_TRUE(wn->Wait(kWait).ok());
      for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f.Download()[i], FloatInput(root, i));
      for (size_t i = 0; i < n.size(); ++i) ASSERT_EQ(n.Download()[i], IntInput(root, i));
    }
  });
}

TEST_P(CollectivesTest, BarrierHoldsEveryRankUntilAllArrive) {
  std::atomic<int> arrived{0};
  RunRanks([&](int rank, Communicator& comm) {
    std::this_thread::sleep_for(milliseconds(15 * rank));
    arrived.fetch_add(1);
    Status s = comm.Barrier(kWait);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(arrived.load(), size()) << "rank " << rank << " left the barrier early";
  });
}

TEST_P(CollectivesTest, ManyCollectivesInFlightCompleteInIssueOrder) {
  constexpr int kOps = 40;
  RunRanks([&](int rank, Communicator& comm) {
    std::vector<std::unique_ptr<TestBuffer<float>>> bufs;
    std::vector<std::unique_ptr<Work>> works;
    for (int k = 0; k < kOps; ++k) {
      bufs.push_back(std::make_unique<TestBuffer<float>>(backend(), 16 + k));
      for (auto& v : bufs.back()->host()) v = static_cast<float>(rank + k);
      bufs.back()->Upload();
      works.push_back(k % 5 == 4
                          ? comm.Broadcast(bufs.back()->data(), 16 + k, DataType::kFloat32, k % size())
                          : comm.AllReduce(bufs.back()->data(), 16 + k, DataType::kFloat32,
                                           ReduceOp::kMax));
    }
    for (int k = 0; k < kOps; ++k) {
      ASSERT_TRUE(works[k]->Wait(kWait).ok()) << "op " << k;
      const float want = k % 5 == 4 ? static_cast<float>(k % size() + k)
                                    : static_cast<float>(size() - 1 + k);
      for (float v : bufs[k]->Download()) ASSERT_EQ(v, want) << "op " << k;
    }
  });
}

TEST_P(CollectivesTest, EveryRankGetsTheSameBitsForInexactSums) {
  constexpr size_t kCount = 70001;  // several chunks of the test workspace, odd tail
  std::vector<std::vector<float>> results(size());
  RunRanks([&](int rank, Communicator& comm) {
    std::mt19937 rng(1234 + rank);
    std::uniform_real_distribution<float> dist(-1e3f, 1e3f);
    TestBuffer<float> buf(backend(), kCount);
    for (auto& v : buf.host()) v = dist(rng) * 1e-3f + dist(rng);
    buf.Upload();
    Status s = comm.AllReduce(buf.data(), kCount, DataType::kFloat32, ReduceOp::kSum)->Wait(kWait);
    ASSERT_TRUE(s.ok()) << s.ToString();
    results[rank] = buf.Download();
  });
  for (int r = 1; r < size(); ++r) {
    ASSERT_EQ(results[r].size(), kCount);
    EXPECT_EQ(std::memcmp(results[r].data(), results[0].data(), kCount * sizeof(float)), 0)
        << "rank " << r << " differs from rank 0";
  }
}

INSTANTIATE_TEST_SUITE_P(Gloo, CollectivesTest,
                         ::testing::Combine(::testing::Values("gloo"),
                                            ::testing::Values(1, 2, 3, 4)));
INSTANTIATE_TEST_SUITE_P(Shm, CollectivesTest,
                         ::testing::Combine(::testing::Values("shm"),
                                            ::testing::Values(1, 2, 3, 4)));
INSTANTIATE_TEST_SUITE_P(ShmGloo, CollectivesTest,
                         ::testing::Combine(::testing::Values("shm+gloo"),
                                            ::testing::Values(3, 4)));
INSTANTIATE_TEST_SUITE_P(Nccl, CollectivesTest,
                         ::testing::Combine(::testing::Values("nccl"), ::testing::Values(1, 2)));

}  // namespace
}  // namespace cyclr
