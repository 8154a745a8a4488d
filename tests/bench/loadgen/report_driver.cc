#include "tests/bench/loadgen/report_driver.h"

#include <grpcpp/grpcpp.h>

#include "proto/proto_convert.h"

namespace cyclr::bench {
namespace {

// One call's state; deleted by its completion callback.
struct Call {
  grpc::ClientContext ctx;
  v1::ReportProgressRequest req;
  v1::ReportProgressResponse resp;
  std::chrono::steady_clock::time_point issued;
};

}  // namespace

ReportDriver::ReportDriver(std::vector<v1::WorkerService::Stub*> stubs,
                           std::vector<SimulatedWorker> workers, ReportDriverOptions options,
                           LatencyRecorder* recorder)
    : stubs_(std::move(stubs)),
      workers_(std::move(workers)),
      options_(options),
      recorder_(recorder) {}

ReportDriver::~ReportDriver() { Stop(); }

void ReportDriver::Start() {
  start_ = Clock::now();
  const size_t n = static_cast<size_t>(std::max(1, options_.sender_threads));
  for (size_t t = 0; t < n; ++t) threads_.emplace_back([this, t, n] { SenderLoop(t, n); });
}

void ReportDriver::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  const auto until = Clock::now() + options_.deadline + std::chrono::seconds(1);
  while (in_flight_.load() > 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Worker i sends its k-th report at start + (k + i/N) * period; this thread owns workers
// first, first + stride, ... and sends them in due-time order.
void ReportDriver::SenderLoop(size_t first, size_t stride) {
  const double period_s = 1.0 / options_.rate_hz;
  const size_t n = workers_.size();
  for (int64_t k = 0; !stop_; ++k) {
    for (size_t i = first; i < n && !stop_; i += stride) {
      const double due_s = period_s * (static_cast<double>(k) + static_cast<double>(i) / n);
      const auto due = start_ + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(due_s));
      std::this_thread::sleep_until(due);
      if (Clock::now() - due > std::chrono::duration<double>(period_s)) ++late_;
      Send(i, k);
    }
  }
}

void ReportDriver::Send(size_t worker, int64_t step) {
  auto* call = new Call;
  const SimulatedWorker& w = workers_[worker];
  call->req.set_job(w.job);
  call->req.set_rank(w.rank);
  v1::StepReport* s = call->req.add_steps();
  s->set_step(step);
  s->set_epoch(0);
  s->set_loss(2.3 / (1.0 + 0.01 * static_cast<double>(step)));
  s->set_lr(0.01);
  s->set_momentum(0.9);
  s->set_samples_per_second(1000);
  s->set_schedule_version(1);
  s->set_step_seconds(0.1);
  s->set_allreduce_seconds(0.01);
  call->ctx.set_deadline(std::chrono::system_clock::now() + options_.deadline);
  if (!w.token.empty()) call->ctx.AddMetadata("authorization", "Bearer " + w.token);
  call->issued = Clock::now();
  ++in_flight_;
  ++sent_;
  stubs_[worker % stubs_.size()]->async()->ReportProgress(
      &call->ctx, &call->req, &call->resp, [this, call](grpc::Status st) {
        if (st.ok()) {
          recorder_->Record(
              std::chrono::duration<double, std::milli>(Clock::now() - call->issued).count());
        } else {
          recorder_->RecordError(StatusCodeName(FromGrpc(st).code()));
        }
        delete call;
        --in_flight_;
      });
}

}  // namespace cyclr::bench
