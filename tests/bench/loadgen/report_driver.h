// ReportDriver: simulates many workers, each sending one ReportProgress (one StepReport, as a
// real worker's batched report carries at 10 Hz) every 1/rate_hz seconds, through the gRPC
// callback API so a slow reply never delays the next send. Sends are spread evenly over the
// period (worker i starts at phase i/N of it) and paced by `sender_threads` threads; each call's
// latency (issue to completion) goes to the LatencyRecorder.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cyclr/v1/service.grpc.pb.h"
#include "tests/bench/loadgen/latency_recorder.h"

namespace cyclr::bench {

struct SimulatedWorker {
  std::string job;
  int rank = 0;
  std::string token;  // its job's worker credential ("" when the coordinator runs --insecure)
};

struct ReportDriverOptions {
  double rate_hz = 10;
  int sender_threads = 2;
  std::chrono::milliseconds deadline{5000};  // per call
};

class ReportDriver {
 public:
  // `stubs` are used round-robin by worker index (one connection each); they must outlive this.
  ReportDriver(std::vector<v1::WorkerService::Stub*> stubs, std::vector<SimulatedWorker> workers,
               ReportDriverOptions options, LatencyRecorder* recorder);
  ~ReportDriver();  // Stop()s
  ReportDriver(const ReportDriver&) = delete;
  ReportDriver& operator=(const ReportDriver&) = delete;

  void Start();
  // Stops sending and waits (up to the call deadline) for calls in flight.
  void Stop();

  int64_t sent() const { return sent_.load(); }
  // Sends that were issued more than one period after their due time (the generator fell behind).
  int64_t late() const { return late_.load(); }
  int64_t in_flight() const { return in_flight_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  void SenderLoop(size_t first, size_t stride);
  void Send(size_t worker, int64_t step);

  const std::vector<v1::WorkerService::Stub*> stubs_;
  const std::vector<SimulatedWorker> workers_;
  const ReportDriverOptions options_;
  LatencyRecorder* const recorder_;
  Clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> late_{0};
  std::atomic<int64_t> in_flight_{0};
  std::vector<std::thread> threads_;
};

}  // namespace cyclr::bench
