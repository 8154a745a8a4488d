// The load generator's parts, and one short run against an in-process coordinator (real gRPC on
// loopback, real SQLite file), so the numbers in docs/performance.md come from code that is
// checked: every report answered, every revision seen by every watcher, CPU/RSS read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "server/coordinator.h"
#include "tests/bench/loadgen/capacity_run.h"
#include "tests/bench/loadgen/latency_recorder.h"
#include "tests/bench/loadgen/proc_stats.h"

namespace cyclr::bench {
namespace {

TEST(QuantileTest, NearestRank) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Quantile(v, 0.5), 50);
  EXPECT_EQ(Quantile(v, 0.99), 99);
  EXPECT_EQ(Quantile(v, 1.0), 100);
  EXPECT_EQ(Quantile(v, 0.0), 1);
  EXPECT_EQ(Quantile({}, 0.5), 0);
}

TEST(LatencyRecorderTest, SummarizesAndResets) {
  LatencyRecorder r;
  for (int i = 0; i < 1000; ++i) r.Record(i % 10 == 9 ? 100.0 : 1.0);
  r.RecordError("UNAVAILABLE");
  LatencySummary s = r.Summarize();
  EXPECT_EQ(s.count, 1000);
  EXPECT_EQ(s.errors, 1);
  EXPECT_EQ(s.p50_ms, 1.0);
  EXPECT_EQ(s.p99_ms, 100.0);
  EXPECT_NEAR(s.mean_ms, 10.9, 1e-9);
  r.Reset();
  EXPECT_EQ(r.Summarize().count, 0);
  EXPECT_EQ(r.Summarize().errors, 0);
}

TEST(ProcStatsTest, ReadsOwnProcessAndRejectsMissingPid) {
  volatile double x = 0;
  for (int i = 0; i < 20000000; ++i) x = x + i;  // burn a little CPU
  StatusOr<ProcSample> s = ReadProcSample(getpid());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->cpu_seconds, 0.0);
  EXPECT_GT(s->rss_kb, 1000);
  EXPECT_GE(s->peak_rss_kb, s->rss_kb);
  EXPECT_GE(s->threads, 1);
  EXPECT_EQ(ReadProcSample(0x3fffffff).status().code(), StatusCode::kNotFound);
}

TEST(CapacityRunTest, ShortRunAgainstInProcessCoordinator) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cyclr-loadgen-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  CoordinatorOptions co;
  co.listen = "127.0.0.1:0";
  co.metrics = "";
  co.state_path = (dir / "state.db").string();
  co.work_dir = (dir / "work").string();
  auto coordinator = Coordinator::Start(co);
  ASSERT_TRUE(coordinator.ok()) << coordinator.status().ToString();

  CapacityOptions o;
  o.coordinator = (*coordinator)->address();
  o.token_file = (dir / "cyclr-admin.token").string();  // authentication on, as in production
  o.coordinator_pid = getpid();
  o.jobs = 3;
  o.workers_per_job = 4;
  o.rate_hz = 20;
  o.watchers = 6;
  o.watch_jobs = 2;
  o.updates = 2;
  o.channels = 2;
  o.warmup = std::chrono::milliseconds(200);
  o.duration = std::chrono::milliseconds(1000);
  StatusOr<CapacityResult> r = CapacityRun(o).Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 12 workers x 20 Hz x 1 s = 240 reports offered; allow for scheduling jitter.
  EXPECT_GT(r->reports.count, 150);
  EXPECT_EQ(r->reports.errors, 0);
  EXPECT_GT(r->reports.p50_ms, 0.0);
  EXPECT_LE(r->reports.p50_ms, r->reports.p99_ms);
  ASSERT_EQ(r->updates.size(), 2u);
  for (const auto& u : r->updates) {
    EXPECT_EQ(u.error, "");
    EXPECT_GT(u.rpc_ms, 0.0);
    EXPECT_GE(u.all_seen_ms, u.first_seen_ms);
  }
  EXPECT_EQ(r->failed_streams, 0);
  EXPECT_GT(r->coordinator_end.rss_kb, 0);
  // The coordinator saw the reports: every rank of every job reported.
  StatusOr<v1::Job> job = (*coordinator)->jobs().Get("load-0");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->ranks_size(), 4);
  EXPECT_GT(job->global_step(), 0);
  // Reusing the job names is refused by the coordinator, with the name in the error.
  StatusOr<CapacityResult> again = CapacityRun(o).Run();
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("load-0"), std::string::npos);
  (*coordinator)->Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cyclr::bench
