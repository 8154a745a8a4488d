// Cost of Timeline::At on a timeline of 1,000 revisions with random effective steps, random
// policies and phase modes, queried at random steps; and Schedule::At per policy for context.
//   cmake --build build-core --target timeline_bench && build-core/bench/timeline_bench
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/timeline.h"

namespace cyclr {
namespace {

constexpr int kRevisions = 1000;
constexpr size_t kQueries = 4096;  // a power of two: the loop masks the index

ScheduleSpec RandomSpec(std::mt19937_64& rng) {
  ScheduleSpec s;
  const double base = 0.001 * static_cast<double>(1 + rng() % 100);
  switch (rng() % 4) {
    case 0:
      s.policy = Policy::kTriangular2;
      s.base_lr = base;
      s.max_lr = base * 10;
      s.step_size_up = static_cast<int64_t>(1 + rng() % 2000);
      break;
    case 1:
      s.policy = Policy::kExpRange;
      s.base_lr = base;
      s.max_lr = base * 10;
      s.gamma = 0.9999;
      s.base_momentum = 0.85;
      s.max_momentum = 0.95;
      break;
    case 2:
      s.policy = Policy::kOneCycle;
      s.max_lr = base;
      s.total_steps = static_cast<int64_t>(100 + rng() % 100000);
      break;
    default:
      s.policy = Policy::kCosineRestarts;
      s.max_lr = base;
      s.t0 = static_cast<int64_t>(1 + rng() % 100);
      s.t_mult = 2;
      break;
  }
  return s;
}

struct Fixture {
  Timeline timeline;
  std::vector<int64_t> queries;
};

const Fixture& BuildFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    std::mt19937_64 rng(7);
    int64_t effective = 0;
    for (int v = 1; v <= kRevisions; ++v) {
      Revision r;
      r.version = v;
      r.effective_step = effective;
      r.spec = RandomSpec(rng);
      r.phase = rng() % 2 ? PhaseMode::kRestart : PhaseMode::kContinue;
      CYCLR_CHECK(f->timeline.Append(r).ok());
      effective += static_cast<int64_t>(rng() % 2000);
    }
    for (size_t i = 0; i < kQueries; ++i) {
      f->queries.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(effective + 1000)));
    }
    return f;
  }();
  return *fixture;
}

void BM_TimelineAt(benchmark::State& state) {
  const Fixture& f = BuildFixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.timeline.At(f.queries[i++ & (kQueries - 1)]));
  }
  state.SetLabel("1000 revisions, random steps");
}
BENCHMARK(BM_TimelineAt);

void BM_TimelineAtMaxVersion(benchmark::State& state) {
  const Fixture& f = BuildFixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.timeline.At(f.queries[i & (kQueries - 1)], 500));
    ++i;
  }
}
BENCHMARK(BM_TimelineAtMaxVersion);

// Schedule::At alone, per policy (arg = Policy), at random steps.
void BM_ScheduleAt(benchmark::State& state) {
  const Fixture& f = BuildFixture();
  const Policy policy = static_cast<Policy>(state.range(0));
  const Revision* rev = nullptr;
  for (const Revision& r : f.timeline.revisions()) {
    if (r.spec.policy == policy) rev = &r;
  }
  CYCLR_CHECK(rev != nullptr);
  const Schedule schedule = *Schedule::Create(rev->spec);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(schedule.At(f.queries[i++ & (kQueries - 1)]));
  }
  state.SetLabel(PolicyName(policy));
}
BENCHMARK(BM_ScheduleAt)
    ->Arg(static_cast<int>(Policy::kTriangular2))
    ->Arg(static_cast<int>(Policy::kExpRange))
    ->Arg(static_cast<int>(Policy::kOneCycle))
    ->Arg(static_cast<int>(Policy::kCosineRestarts));

}  // namespace
}  // namespace cyclr

BENCHMARK_MAIN();
