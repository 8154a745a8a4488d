// All-reduce of float32 (sum) between 2 ranks that are threads of this process: Gloo over
// loopback TCP (shm off) against shared memory (ShmCommunicator), for 4 KB to 32 MB; and memcpy
// at the same sizes for this machine's memory bandwidth (docs/performance.md, "All-reduce: Gloo
// vs shared memory").
//   ninja -C build-shm allreduce_bench && build-shm/bench/allreduce_bench
// Rank 0 is the benchmark thread; rank 1 runs the same number of all-reduces on a helper thread.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

constexpr std::chrono::milliseconds kWait{60000};

struct RankPair {
  std::unique_ptr<Communicator> comm[2];
};

// One pair of communicators per (mode, workspace), made on first use and kept for the run.
RankPair& PairFor(ShmMode mode, size_t workspace) {
  static std::map<std::pair<ShmMode, size_t>, RankPair> pairs;
  RankPair& pair = pairs[{mode, workspace}];
  if (pair.comm[0] != nullptr) return pair;
  auto store = std::make_shared<InMemoryStore>();
  std::thread ranks[2];
  for (int r = 0; r < 2; ++r) {
    ranks[r] = std::thread([&, r] {
      CommunicatorOptions o;
      o.rank = r;
      o.world_size = 2;
      o.shm = mode;
      if (workspace != 0) o.shm_workspace_bytes = workspace;
      auto made = MakeCommunicator(o, store);
      CYCLR_CHECK_MSG(made.ok(), made.status().ToString());
      pair.comm[r] = std::move(made).value();
    });
  }
  for (auto& t : ranks) t.join();
  return pair;
}

void AllReduceOrDie(Communicator& comm, std::vector<float>& buf) {
  Status s =
      comm.AllReduce(buf.data(), buf.size(), DataType::kFloat32, ReduceOp::kSum)->Wait(kWait);
  CYCLR_CHECK_MSG(s.ok(), s.ToString());
}

// `workspace`: shm_workspace_bytes (0: the default).
void BM_AllReduce(benchmark::State& state, ShmMode mode, size_t workspace) {
  RankPair& pair = PairFor(mode, workspace);
  const size_t count = static_cast<size_t>(state.range(0)) / sizeof(float);
  std::vector<float> mine(count, 1.0f), peers(count, 2.0f);
  const int64_t iterations = static_cast<int64_t>(state.max_iterations);
  std::thread peer([&] {
    for (int64_t i = 0; i < iterations; ++i) AllReduceOrDie(*pair.comm[1], peers);
  });
  for (auto _ : state) AllReduceOrDie(*pair.comm[0], mine);
  peer.join();
  state.SetBytesProcessed(iterations * state.range(0));
  state.SetLabel(pair.comm[0]->backend());
}

void BM_Memcpy(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t bytes : {int64_t{4} << 10, int64_t{64} << 10, int64_t{1} << 20, int64_t{4} << 20,
                        int64_t{32} << 20}) {
    b->Arg(bytes);
  }
}

BENCHMARK_CAPTURE(BM_AllReduce, gloo, ShmMode::kOff, 0)->Apply(Sizes)->UseRealTime();
BENCHMARK_CAPTURE(BM_AllReduce, shm, ShmMode::kAuto, 0)->Apply(Sizes)->UseRealTime();
// Workspace (chunk) size against the default 1 MiB, for large buffers.
BENCHMARK_CAPTURE(BM_AllReduce, shm_ws256k, ShmMode::kAuto, 256 << 10)
    ->Arg(4 << 20)
    ->Arg(32 << 20)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_AllReduce, shm_ws4m, ShmMode::kAuto, 4 << 20)
    ->Arg(4 << 20)
    ->Arg(32 << 20)
    ->UseRealTime();
BENCHMARK(BM_Memcpy)->Apply(Sizes);

}  // namespace
}  // namespace cyclr

BENCHMARK_MAIN();
