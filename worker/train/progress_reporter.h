// ProgressReporter: sends a rank's step and epoch reports to the coordinator in the background.
//
// The training thread only appends to a bounded in-memory buffer (Add*, never blocks on the
// network); a reporter thread sends the buffer every `period` as one ReportProgress RPC with a
// short deadline. While the coordinator is unreachable the buffer keeps the newest
// `max_buffered_steps` step reports (older ones are dropped: they are statistics, the job's state
// lives in the workers and checkpoints) and every applied-revision record (few, and needed by the
// coordinator's timeline) and every range-test curve point (at most kMaxCurvePoints: the curve is
// the probe's result), and sending is retried with exponential backoff up to `max_backoff`.
// The coordinator's reply may ask the job to stop: stop_requested() turns true.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cyclr/v1/service.grpc.pb.h"

namespace cyclr {

struct ProgressReporterOptions {
  std::chrono::milliseconds period{200};
  std::chrono::milliseconds rpc_deadline{2000};
  std::chrono::milliseconds max_backoff{1000};
  size_t max_buffered_steps = 10000;
};

class ProgressReporter {
 public:
  ProgressReporter(std::shared_ptr<grpc::Channel> channel, std::string job, int rank,
                   ProgressReporterOptions options);
  ~ProgressReporter();  // Stops the thread without a final flush (use Finish for that).

  void Start();
  void SetTotalSteps(int64_t total_steps);
  // What every report says the rank runs on (ReportProgressRequest.blas/threads).
  void SetRuntime(const std::string& blas, int threads);
  void AddStep(const v1::StepReport& report);
  void AddEpoch(const v1::EpochReport& report);
  void AddApplied(int64_t version, int64_t step);
  // Rank 0 of a range test: one point of the loss curve (mean loss over the ranks).
  void AddCurvePoint(int64_t step, double lr, double loss);
  void SetTrainExamples(int64_t n);

  // Sends everything left with finished = true, `error` and `note` (why a rank ended early
  // without an error), retrying until `deadline` passes. Returns whether the coordinator
  // acknowledged it.
  bool Finish(const std::string& error, std::chrono::milliseconds deadline,
              const std::string& note = "");

  bool stop_requested() const { return stop_requested_.load(); }

 private:
  void Run();
  // Takes the buffer, sends it; on failure puts it back. Returns whether it was delivered.
  bool SendOnce(bool finished, const std::string& error, const std::string& note = "");

  std::unique_ptr<v1::WorkerService::Stub> stub_;
  const std::string job_;
  const int rank_;
  const ProgressReporterOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::StepReport> steps_;          // GUARDED_BY(mu_)
  std::vector<v1::EpochReport> epochs_;       // GUARDED_BY(mu_)
  std::vector<v1::AppliedRevision> applied_;  // GUARDED_BY(mu_)
  std::deque<v1::CurvePoint> curve_;          // GUARDED_BY(mu_)
  int64_t train_examples_ = 0;                // GUARDED_BY(mu_)
  int64_t total_steps_ = 0;                   // GUARDED_BY(mu_)
  std::string blas_;                          // GUARDED_BY(mu_)
  int threads_ = 0;                           // GUARDED_BY(mu_)
  bool shutdown_ = false;                     // GUARDED_BY(mu_)
  std::mutex send_mu_;                        // one RPC at a time
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
};

}  // namespace cyclr
