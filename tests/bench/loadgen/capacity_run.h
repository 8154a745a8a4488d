// CapacityRun: one bounded load test of a running coordinator. It launches `jobs` jobs of
// `workers_per_job` external workers, registers every worker, opens `watchers` WatchTimeline
// streams (spread over the first `watch_jobs` jobs), then has every worker report at `rate_hz`
// for `duration`, issuing `updates` UpdateSchedule calls evenly spaced in that window and timing
// how long each revision takes to reach every watcher of its job. The coordinator's CPU time and
// memory come from /proc/<coordinator_pid> (0 = not measured).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "core/status.h"
#include "cyclr/v1/service.grpc.pb.h"
#include "tests/bench/loadgen/latency_recorder.h"
#include "tests/bench/loadgen/proc_stats.h"

namespace cyclr::bench {

class ReportDriver;
class WatchFleet;

struct CapacityOptions {
  std::string coordinator = "127.0.0.1:50051";
  int coordinator_pid = 0;
  int jobs = 20;
  int workers_per_job = 50;
  double rate_hz = 10;
  int watchers = 100;
  int watch_jobs = 1;
  int updates = 5;
  int channels = 16;        // client connections (real workers each have their own)
  int sender_threads = 2;
  std::chrono::milliseconds warmup{2000};
  std::chrono::milliseconds duration{20000};
  std::string name_prefix = "load";
  std::string token_file;  // the coordinator's admin token ("" = it runs --insecure)
};

struct UpdateTiming {
  double rpc_ms = 0;        // UpdateSchedule round trip (includes the durable write)
  double all_seen_ms = 0;   // from issuing the RPC until the last watcher had the revision
  double first_seen_ms = 0;
  std::string error;        // non-empty: the update failed or did not reach every watcher
};

struct CapacityResult {
  LatencySummary reports;        // ReportProgress, measured window only
  double offered_rps = 0;        // sends per second in the window
  double completed_rps = 0;      // successful replies per second
  int64_t late_sends = 0;        // sends issued > 1 period after their due time
  std::vector<UpdateTiming> updates;
  double window_s = 0;
  double coordinator_cpu_pct = 0;  // % of one core over the window
  ProcSample coordinator_end;
  double loadgen_cpu_pct = 0;
  int failed_streams = 0;
  int64_t watch_messages = 0;
};

class CapacityRun {
 public:
  explicit CapacityRun(CapacityOptions options);
  // Runs the whole test; an error for a failed setup step (launch, register, watch).
  StatusOr<CapacityResult> Run();

 private:
  Status LaunchJobs();
  Status RegisterWorkers();
  // Never fails the run: a failed or slow update is recorded in UpdateTiming::error.
  UpdateTiming UpdateOnce(const std::string& job, int index, WatchFleet* fleet);
  // The measured part: after warm-up, with reports flowing and watchers connected.
  StatusOr<CapacityResult> MeasureWindow(ReportDriver* driver, LatencyRecorder* recorder,
                                         WatchFleet* fleet, const std::vector<std::string>& watched);
  std::string JobName(int j) const;

  const CapacityOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::WorkerService::Stub>> workers_;
  std::vector<std::unique_ptr<v1::ScheduleService::Stub>> schedules_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::string admin_token_;                          // from options_.token_file
  std::map<std::string, std::string> worker_tokens_;  // job -> its worker credential
};

}  // namespace cyclr::bench
