#include "worker/train/progress_reporter.h"

#include <algorithm>

#include "core/limits.h"

namespace cyclr {

ProgressReporter::ProgressReporter(std::shared_ptr<grpc::Channel> channel, std::string job,
                                   int rank, ProgressReporterOptions options)
    : stub_(v1::WorkerService::NewStub(channel)),
      job_(std::move(job)),
      rank_(rank),
      options_(options) {}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressReporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ProgressReporter::SetTotalSteps(int64_t total_steps) {
  std::lock_guard<std::mutex> lock(mu_);
  total_steps_ = total_steps;
}

void ProgressReporter::AddStep(const v1::StepReport& report) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.push_back(report);
  while (steps_.size() > options_.max_buffered_steps) steps_.pop_front();
}

void ProgressReporter::AddEpoch(const v1::EpochReport& report) {
  std::lock_guard<std::mutex> lock(mu_);
  epochs_.push_back(report);
}

void ProgressReporter::AddApplied(int64_t version, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::AppliedRevision a;
  a.set_version(version);
  a.set_step(step);
  applied_.push_back(a);
}

void ProgressReporter::AddCurvePoint(int64_t step, double lr, double loss) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::CurvePoint p;
  p.set_step(step);
  p.set_lr(lr);
  p.set_loss(loss);
  curve_.push_back(p);
  // A range test has at most kMaxCurvePoints steps; the bound only guards against a misuse.
  while (curve_.size() > static_cast<size_t>(limits::kMaxCurvePoints)) curve_.pop_front();
}

void ProgressReporter::SetTrainExamples(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  train_examples_ = n;
}

void ProgressReporter::SetRuntime(const std::string& blas, int threads) {
  std::lock_guard<std::mutex> lock(mu_);
  blas_ = blas;
  threads_ = threads;
}

bool ProgressReporter::SendOnce(bool finished, const std::string& error, const std::string& note) {
  std::lock_guard<std::mutex> send_lock(send_mu_);
  v1::ReportProgressRequest req;
  req.set_job(job_);
  req.set_rank(rank_);
  req.set_finished(finished);
  req.set_error(std::string(limits::CutUtf8(error, limits::kMaxErrorBytes)));  // fits the limit
  req.set_note(std::string(limits::CutUtf8(note, limits::kMaxTextBytes)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    // At most one request's worth of curve points; the rest go with the next sends.
    while (!curve_.empty() && req.curve_size() < limits::kMaxReportsPerRequest) {
      *req.add_curve() = std::move(curve_.front());
      curve_.pop_front();
    }
    if (finished && !curve_.empty()) req.set_finished(false);  // Finish() sends again
    req.set_train_examples(train_examples_);
    for (auto& s : steps_) *req.add_steps() = std::move(s);
    for (auto& e : epochs_) *req.add_epochs() = std::move(e);
    for (auto& a : applied_) *req.add_applied() = std::move(a);
    steps_.clear();
    epochs_.clear();
    applied_.clear();
    req.set_total_steps(total_steps_);
    req.set_blas(blas_);
    req.set_threads(threads_);
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.rpc_deadline);
  v1::ReportProgressResponse resp;
  grpc::Status st = stub_->ReportProgress(&ctx, req, &resp);
  if (st.ok()) {
    if (resp.stop()) stop_requested_ = true;
    return true;
  }
  // Not delivered: put it back in front of whatever arrived meanwhile, within the bound.
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = req.steps_size() - 1; i >= 0; --i) steps_.push_front(req.steps(i));
  while (steps_.size() > options_.max_buffered_steps) steps_.pop_front();
  epochs_.insert(epochs_.begin(), req.epochs().begin(), req.epochs().end());
  applied_.insert(applied_.begin(), req.applied().begin(), req.applied().end());
  for (int i = req.curve_size() - 1; i >= 0; --i) curve_.push_front(req.curve(i));
  return false;
}

void ProgressReporter::Run() {
  auto wait = options_.period;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return shutdown_; })) return;
    }
    bool ok = SendOnce(false, "");
    wait = ok ? options_.period : std::min(options_.max_backoff, wait * 2);
  }
}

bool ProgressReporter::Finish(const std::string& error, std::chrono::milliseconds deadline,
                              const std::string& note) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  auto until = std::chrono::steady_clock::now() + deadline;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    if (SendOnce(true, error, note)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (curve_.empty()) return true;  // the request that went out said finished
      continue;
    }
    if (std::chrono::steady_clock::now() + backoff > until) return false;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(options_.max_backoff, backoff * 2);
  }
}

}  // namespace cyclr
