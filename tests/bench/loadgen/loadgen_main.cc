// cyclr_loadgen: coordinator capacity test (docs/performance.md). Simulates workers reporting
// progress and clients watching timelines against a running cyclr-coordinator and prints one
// `key value` line per result (for tests/bench/run_all.sh) after a readable summary.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "tests/bench/loadgen/capacity_run.h"

namespace {

using cyclr::bench::CapacityResult;
using cyclr::bench::Quantile;

void PrintResult(const cyclr::bench::CapacityOptions& o, const CapacityResult& r) {
  const auto& l = r.reports;
  std::printf("workers %d (%d jobs x %d) at %.0f Hz, %d watchers, window %.1f s\n",
              o.jobs * o.workers_per_job, o.jobs, o.workers_per_job, o.rate_hz, o.watchers,
              r.window_s);
  std::printf("ReportProgress: offered %.0f/s, completed %.0f/s, errors %lld, late sends %lld\n",
              r.offered_rps, r.completed_rps, static_cast<long long>(l.errors),
              static_cast<long long>(r.late_sends));
  for (const auto& [code, n] : l.errors_by_code) {
    std::printf("  error %s: %lld\n", code.c_str(), static_cast<long long>(n));
  }
  std::printf("latency ms: p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f mean %.3f\n", l.p50_ms,
              l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.mean_ms);
  std::vector<double> rpc, seen;
  int failed = 0;
  for (const auto& u : r.updates) {
    if (!u.error.empty()) {
      ++failed;
      std::printf("update: FAILED after %.2f ms: %s\n", u.rpc_ms, u.error.c_str());
      continue;
    }
    rpc.push_back(u.rpc_ms);
    seen.push_back(u.all_seen_ms);
    std::printf("update: rpc %.2f ms, first watcher %.2f ms, all watchers %.2f ms\n", u.rpc_ms,
                u.first_seen_ms, u.all_seen_ms);
  }
  std::sort(rpc.begin(), rpc.end());
  std::sort(seen.begin(), seen.end());
  std::printf("coordinator: cpu %.1f%% of one core, rss %.1f MiB (peak %.1f), %d threads; "
              "loadgen cpu %.1f%%; watch messages %lld, failed streams %d\n",
              r.coordinator_cpu_pct, r.coordinator_end.rss_kb / 1024.0,
              r.coordinator_end.peak_rss_kb / 1024.0, r.coordinator_end.threads,
              r.loadgen_cpu_pct, static_cast<long long>(r.watch_messages), r.failed_streams);
  std::printf("RESULT report_rps %.1f\nRESULT report_errors %lld\nRESULT report_p50_ms %.3f\n"
              "RESULT report_p99_ms %.3f\nRESULT report_max_ms %.3f\n",
              r.completed_rps, static_cast<long long>(l.errors), l.p50_ms, l.p99_ms, l.max_ms);
  std::printf("RESULT update_rpc_median_ms %.2f\nRESULT update_all_seen_median_ms %.2f\n"
              "RESULT update_all_seen_max_ms %.2f\nRESULT coordinator_cpu_pct %.1f\n"
              "RESULT coordinator_rss_mib %.1f\nRESULT loadgen_cpu_pct %.1f\n"
              "RESULT update_failures %d\n",
              Quantile(rpc, 0.5), Quantile(seen, 0.5), seen.empty() ? 0 : seen.back(),
              r.coordinator_cpu_pct, r.coordinator_end.rss_kb / 1024.0, r.loadgen_cpu_pct, failed);
}

}  // namespace

int main(int argc, char** argv) {
  cyclr::bench::CapacityOptions o;
  double warmup_s = 2, duration_s = 20;
  CLI::App app{"cyclr_loadgen: load test of a running cyclr-coordinator"};
  app.add_option("--coordinator", o.coordinator, "HOST:PORT")->capture_default_str();
  app.add_option("--coordinator-pid", o.coordinator_pid, "measure this process's CPU and RSS");
  app.add_option("--jobs", o.jobs, "jobs launched (launcher external)")->capture_default_str();
  app.add_option("--workers-per-job", o.workers_per_job, "simulated workers per job")
      ->capture_default_str();
  app.add_option("--rate-hz", o.rate_hz, "reports per worker per second")->capture_default_str();
  app.add_option("--watchers", o.watchers, "WatchTimeline streams")->capture_default_str();
  app.add_option("--watch-jobs", o.watch_jobs, "jobs the watchers spread over")
      ->capture_default_str();
  app.add_option("--updates", o.updates, "UpdateSchedule calls in the window")
      ->capture_default_str();
  app.add_option("--channels", o.channels, "client connections")->capture_default_str();
  app.add_option("--sender-threads", o.sender_threads, "pacing threads")->capture_default_str();
  app.add_option("--warmup-s", warmup_s, "seconds before measuring")->capture_default_str();
  app.add_option("--duration-s", duration_s, "measured seconds")->capture_default_str();
  app.add_option("--name-prefix", o.name_prefix, "job name prefix")->capture_default_str();
  app.add_option("--token-file", o.token_file,
                 "the coordinator's admin token (jobs are launched with it; each job's worker "
                 "credential is used for its simulated workers)");
  CLI11_PARSE(app, argc, argv);
  if (o.jobs < 1 || o.workers_per_job < 1 || o.rate_hz <= 0 || o.watchers < 0 ||
      o.watch_jobs < 1 || o.updates < 0 || duration_s <= 0) {
    std::fprintf(stderr, "cyclr_loadgen: --jobs, --workers-per-job, --watch-jobs must be >= 1, "
                         "--rate-hz and --duration-s > 0, --watchers and --updates >= 0\n");
    return 2;
  }
  if (o.updates > 0 && o.watchers < 1) o.updates = 0;  // nobody to time the revision against
  o.warmup = std::chrono::milliseconds(static_cast<int64_t>(warmup_s * 1000));
  o.duration = std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
  auto result = cyclr::bench::CapacityRun(o).Run();
  if (!result.ok()) {
    std::fprintf(stderr, "cyclr_loadgen: %s\n", result.status().ToString().c_str());
    return 1;
  }
  PrintResult(o, *result);
  return 0;
}
