#include "worker/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "proto/proto_convert.h"
#include "worker/train/batch_prefetcher.h"
#include "worker/train/checkpoint.h"
#include "worker/train/optimizer_factory.h"
#include "worker/train/shard_sampler.h"
#include "worker/train/worker_options.h"

namespace cyclr {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Zeroes gradients in place. Optimizer::zero_grad() would detach_() them, which LibTorch refuses
// for views — and the Reducer makes every gradient a view into its bucket.
void ZeroGradInPlace(torch::nn::Module& module) {
  for (torch::Tensor& p : module.parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

}  // namespace

Trainer::Trainer(TrainerOptions options, Communicator* comm, ScheduleAgreement* agreement,
                 ProgressReporter* reporter)
    : options_(std::move(options)),
      loss_(options_.spec.loss().empty() ? "cross-entropy" : options_.spec.loss()),
      comm_(comm),
      agreement_(agreement),
      reporter_(reporter),
      guard_(options_.spec.divergence_factor()),
      range_test_(options_.spec.schedule().policy() == "range-test") {}

Status Trainer::Setup() {
  const v1::JobSpec& spec = options_.spec;
  const auto load_start = Clock::now();
  CYCLR_ASSIGN_OR_RETURN(train_, LoadSplit(Split::kTrain));
  CYCLR_ASSIGN_OR_RETURN(test_, LoadSplit(Split::kTest));
  if (!options_.quiet) {
    std::printf("rank %d data: %lld training and %lld test examples (%s) ready in %.1f ms\n",
                options_.rank, static_cast<long long>(train_.size()),
                static_cast<long long>(test_.size()), spec.dataset().c_str(),
                1e3 * Seconds(Clock::now() - load_start));
    std::fflush(stdout);
  }
  ShardSampler sampler(train_.size(), options_.rank, options_.world_size, spec.seed());
  steps_per_epoch_ = sampler.StepsPerEpoch(spec.batch_size());
  if (steps_per_epoch_ < 1) {
    return Status::InvalidArgument("batch_size (" + std::to_string(spec.batch_size()) +
                                   ") is larger than each rank's shard (" +
                                   std::to_string(sampler.shard_size()) + " examples)");
  }
  CYCLR_RETURN_IF_ERROR(CheckTotalSteps(spec.epochs(), steps_per_epoch_));
  {
    // Rank 0's initial parameters are broadcast to all ranks; they come from the job's seed. The
    // default generator is process-wide, so ranks that share a process (tests) take turns.
    static std::mutex init_mu;
    std::lock_guard<std::mutex> lock(init_mu);
    torch::manual_seed(spec.seed());
    CYCLR_ASSIGN_OR_RETURN(model_, BuildTrainableModel(spec));
  }
  if (!spec.init_from().empty()) {
    // Before the optimizer and the Reducer see the parameters; rank 0's are broadcast below.
    CYCLR_RETURN_IF_ERROR(
        LoadModelWeights(spec.init_from(), *model_.module).WithContext("init_from"));
  }
  CYCLR_RETURN_IF_ERROR(AgreeOnModelFile());
  CYCLR_RETURN_IF_ERROR(CheckModelFitsData(model_, Loss(), train_, test_));
  CYCLR_ASSIGN_OR_RETURN(optimizer_, MakeOptimizer(spec, model_.module->parameters()));
  ReducerOptions ropts;
  if (spec.bucket_mb() > 0) ropts.bucket_cap_bytes = static_cast<size_t>(spec.bucket_mb() * 1e6);
  ropts.timeout = options_.collective_timeout;
  CYCLR_ASSIGN_OR_RETURN(reducer_, Reducer::ForModule(*model_.module, comm_, ropts));
  CYCLR_RETURN_IF_ERROR(reducer_->BroadcastParameters(0));
  CYCLR_RETURN_IF_ERROR(MaybeResume());
  if (!options_.log_dir.empty()) OpenLrLog();
  if (reporter_) {
    int64_t total = steps_per_epoch_ * spec.epochs();
    if (spec.max_steps() > 0) total = std::min(total, spec.max_steps());
    reporter_->SetTotalSteps(total);
    if (options_.rank == 0) reporter_->SetTrainExamples(train_.size());
  }
  return Status::Ok();
}

Status Trainer::MaybeResume() {
  const v1::JobSpec& spec = options_.spec;
  std::string path = spec.resume_from();
  if (path.empty() && !spec.checkpoint_dir().empty()) {
    StatusOr<std::string> newest = NewestCheckpointOf(spec.checkpoint_dir(), spec.name());
    if (!newest.ok()) return Status::Ok();  // nothing to resume: a fresh start
    path = *newest;
  }
  if (path.empty()) return Status::Ok();
  CYCLR_ASSIGN_OR_RETURN(CheckpointMeta meta, LoadCheckpoint(path, *model_.module, *optimizer_));
  if (meta.seed != spec.seed()) {
    return Status::FailedPrecondition(path + " was written with seed " + std::to_string(meta.seed) +
                                      ", the job has seed " + std::to_string(spec.seed()));
  }
  CYCLR_ASSIGN_OR_RETURN(Timeline recorded, FromProto(meta.timeline));
  CYCLR_RETURN_IF_ERROR(agreement_->AdoptApplied(recorded));
  step_ = meta.step;
  start_epoch_ = meta.epoch;
  start_step_in_epoch_ = meta.step_in_epoch;
  if (!options_.quiet) {
    std::printf("rank %d resumed from %s at step %lld\n", options_.rank, path.c_str(),
                static_cast<long long>(step_));
  }
  return Status::Ok();
}

Status Trainer::Checkpoint(int64_t epoch, int64_t step_in_epoch) {
  const v1::JobSpec& spec = options_.spec;
  // Each rank's log reaches the disk with each checkpoint, so a killed rank keeps the rows that
  // the checkpoint it resumes from covers.
  lr_log_.flush();
  if (spec.checkpoint_dir().empty()) return Status::Ok();
  // Buffers (batch-norm statistics) follow rank 0's, as DDP's broadcast_buffers: a resumed job
  // starts every rank from the same state. A collective, so every rank comes here.
  CYCLR_RETURN_IF_ERROR(reducer_->BroadcastBuffers(0));
  if (options_.rank != 0) return Status::Ok();
  CYCLR_RETURN_IF_ERROR(ExportModel(spec.checkpoint_dir()));
  CheckpointMeta meta;
  meta.step = step_;
  meta.epoch = epoch;
  meta.step_in_epoch = step_in_epoch;
  meta.seed = spec.seed();
  meta.timeline = ToProto(agreement_->applied());
  int keep = spec.checkpoint_keep() > 0 ? spec.checkpoint_keep() : 3;
  return SaveCheckpoint(spec.checkpoint_dir(), meta, *model_.module, *optimizer_, keep, spec.name())
      .status();
}

Status Trainer::Step(int64_t epoch, const Batch& batch, TrainResult* result) {
  const v1::JobSpec& spec = options_.spec;
  auto t0 = Clock::now();
  ZeroGradInPlace(*model_.module);
  torch::Tensor loss =
      ComputeLoss(Loss(), model_.forward(batch.images), batch.labels, torch::Reduction::Mean);
  const double loss_value = loss.item<double>();
  // The step's agreement: MIN over ranks of [newest schedule version held, keep going, loss
  // healthy]. Issued before backward so it runs while this rank computes; collectives run in
  // issue order on every rank, so it never crosses the gradient buckets. A range test's verdict
  // is its stop rule on the previous step's mean loss (and this step's loss being finite).
  const bool healthy =
      range_test_ ? std::isfinite(loss_value) && range_stop_.empty() : guard_.Observe(loss_value);
  int64_t agreed[3] = {agreement_->held_version(), reporter_ && reporter_->stop_requested() ? 0 : 1,
                       healthy ? 1 : 0};
  if (!range_test_ && guard_.at_best()) best_step_ = step_;
  auto agree_work = comm_->AllReduce(agreed, 3, DataType::kInt64, ReduceOp::kMin);
  float loss_sum = static_cast<float>(loss_value);
  auto loss_work =
      range_test_ ? comm_->AllReduce(&loss_sum, 1, DataType::kFloat32, ReduceOp::kSum) : nullptr;
  loss.backward();
  CYCLR_RETURN_IF_ERROR(reducer_->FinishBackward());
  const auto agree_wait_start = Clock::now();
  CYCLR_RETURN_IF_ERROR(agree_work->Wait(options_.collective_timeout));
  if (loss_work) CYCLR_RETURN_IF_ERROR(loss_work->Wait(options_.collective_timeout));
  steady_.AddWaits(reducer_->last_step_stats().wait_ms,
                   1e3 * Seconds(Clock::now() - agree_wait_start));
  if (agreed[1] == 0) {
    result->stopped = true;
    return Status::Ok();
  }
  if (agreed[2] == 0 && !range_test_) {
    // Every rank stops here, before the optimizer applies a diverged gradient.
    divergence_reason_ = "loss diverged at step " + std::to_string(step_) + " (" +
                         (guard_.Explain().empty()
                              ? "on another rank"
                              : "rank " + std::to_string(options_.rank) + ": " + guard_.Explain()) +
                         ")";
    if (spec.divergence_policy() != "rollback") return Status::Aborted(divergence_reason_);
    rollback_pending_ = true;
    return Status::Ok();
  }
  std::vector<AppliedVersion> newly;
  TimelinePoint point = agreement_->Resolve(step_, agreed[0], &newly);
  if (range_test_) {
    RangeTestStep(point, loss_sum / options_.world_size, agreed[2] != 0, result);
    if (result->stopped) {
      if (reporter_) Report(epoch, point, loss_value, Seconds(Clock::now() - t0), newly);
      return Status::Ok();
    }
  }
  ApplySchedulePoint(spec, point, optimizer_.get());
  optimizer_->step();
  LogStep(step_, point, loss_value);
  result->final_loss = loss_value;
  if (reporter_) Report(epoch, point, loss_value, Seconds(Clock::now() - t0), newly);
  return Status::Ok();
}

void Trainer::RangeTestStep(const TimelinePoint& point, double mean_loss, bool healthy,
                            TrainResult* result) {
  if (options_.rank == 0 && reporter_) reporter_->AddCurvePoint(step_, point.lr, mean_loss);
  if (!healthy) {
    // The ranks agreed in this step's collective; the optimizer does not apply this step.
    result->stopped = true;
    result->note = "range test ended at step " + std::to_string(step_) + ": " +
                   (range_stop_.empty() ? "a rank's loss was not finite" : range_stop_);
    return;
  }
  if (!range_monitor_.Observe(step_, mean_loss)) range_stop_ = range_monitor_.Explain();
}

void Trainer::Report(int64_t epoch, const TimelinePoint& point, double loss, double step_seconds,
                     const std::vector<AppliedVersion>& newly) {
  const v1::JobSpec& spec = options_.spec;
  for (const AppliedVersion& a : newly) reporter_->AddApplied(a.version, a.step);
  report_samples_ += spec.batch_size();
  v1::StepReport r;
  r.set_step(step_);
  r.set_epoch(static_cast<int32_t>(epoch));
  r.set_loss(loss);
  r.set_lr(point.lr);
  r.set_momentum(point.momentum ? *point.momentum : spec.momentum());
  r.set_schedule_version(point.version);
  r.set_step_seconds(step_seconds);
  r.set_allreduce_seconds(reducer_->last_step_stats().allreduce_ms / 1e3);
  r.set_samples_per_second(report_samples_ / std::max(1e-9, Seconds(Clock::now() - report_start_)));
  reporter_->AddStep(r);
}

Status Trainer::TrainEpoch(int64_t epoch, TrainResult* result) {
  const v1::JobSpec& spec = options_.spec;
  ShardSampler sampler(train_.size(), options_.rank, options_.world_size, spec.seed());
  model_.module->train();
  const int64_t first = epoch == start_epoch_ ? start_step_in_epoch_ : 0;
  steady_.Resume();
  BatchPrefetcher batches(&train_, sampler.Indices(epoch), spec.batch_size(), first,
                          steps_per_epoch_);
  while (!result->stopped) {
    std::optional<Batch> batch = batches.Next();
    if (!batch) break;
    if (spec.max_steps() > 0 && step_ >= spec.max_steps()) {
      reached_max_steps_ = true;
      break;
    }
    if (options_.crash_after_steps > 0 && steps_this_run_ == options_.crash_after_steps) {
      return Status::Aborted("injected crash after " + std::to_string(steps_this_run_) + " steps");
    }
    CYCLR_RETURN_IF_ERROR(Step(epoch, *batch, result));
    if (result->stopped || rollback_pending_) break;
    ++step_;
    ++steps_this_run_;
    steady_.Step(steps_this_run_);
    if (spec.checkpoint_every() > 0 && step_ % spec.checkpoint_every() == 0) {
      CYCLR_RETURN_IF_ERROR(Checkpoint(epoch, batch->index + 1));
    }
  }
  steady_.Pause();
  return Status::Ok();
}

StatusOr<std::pair<double, double>> Trainer::Evaluate() {
  // Every rank evaluates with rank 0's buffers, so the ranks' shards add up to one model's result.
  CYCLR_RETURN_IF_ERROR(reducer_->BroadcastBuffers(0));
  torch::NoGradGuard no_grad;
  model_.module->eval();
  // Rank r takes test examples r, r + W, ...: disjoint, covering all of them.
  const int64_t n = test_.size();
  const bool mse = Loss() == "mse";
  torch::Tensor idx = torch::arange(options_.rank, n, options_.world_size, torch::kInt64);
  // Summed over ranks: correct predictions, loss sum, count (examples; target elements for mse).
  // float32 counts are exact up to 2^24 examples.
  float sums[3] = {0, 0, 0};
  for (int64_t start = 0; start < idx.size(0); start += 1000) {
    torch::Tensor part = idx.slice(0, start, std::min<int64_t>(start + 1000, idx.size(0)));
    torch::Tensor out = model_.forward(test_.Inputs(part));
    torch::Tensor target = test_.Targets(part);
    if (!mse) sums[0] += out.argmax(1).eq(target).sum().item<float>();
    sums[1] += ComputeLoss(Loss(), out, target, torch::Reduction::Sum).item<float>();
    sums[2] += static_cast<float>(mse ? target.numel() : part.size(0));
  }
  auto work = comm_->AllReduce(sums, 3, DataType::kFloat32, ReduceOp::kSum);
  CYCLR_RETURN_IF_ERROR(work->Wait(options_.collective_timeout));
  model_.module->train();
  if (sums[2] == 0) return std::make_pair(0.0, 0.0);
  return std::make_pair(double{sums[0]} / sums[2], double{sums[1]} / sums[2]);
}

Status Trainer::EndEpoch(int64_t epoch, TrainResult* result) {
  CYCLR_ASSIGN_OR_RETURN(auto eval, Evaluate());
  result->test_accuracy = eval.first;
  if (reporter_) {
    v1::EpochReport r;
    r.set_epoch(static_cast<int32_t>(epoch));
    r.set_step(step_);
    r.set_test_accuracy(eval.first);
    r.set_test_loss(eval.second);
    reporter_->AddEpoch(r);
  }
  if (!options_.quiet) {
    // For mse the test metric is the mean squared error per target element.
    char metric[64];
    if (test_.size() == 0) {
      std::snprintf(metric, sizeof metric, "no test set");
    } else if (Loss() == "mse") {
      std::snprintf(metric, sizeof metric, "test mse %.6g", eval.second);
    } else {
      std::snprintf(metric, sizeof metric, "test accuracy %.4f", eval.first);
    }
    std::printf("rank %d epoch %lld/%d step %lld loss %.4f %s\n", options_.rank,
                static_cast<long long>(epoch + 1), options_.spec.epochs(),
                static_cast<long long>(step_), result->final_loss, metric);
    std::fflush(stdout);
  }
  return Status::Ok();
}

Status Trainer::Rollback() {
  const v1::JobSpec& spec = options_.spec;
  rollback_pending_ = false;
  if (++rollbacks_ > kMaxRollbacks) {
    return Status::Aborted(divergence_reason_ + "; still diverging after " +
                           std::to_string(kMaxRollbacks) + " rollbacks");
  }
  // The newest checkpoint from before the loss started to rise: later ones may hold a model
  // already damaged by the steps that led to the divergence. (Each rank judged its own loss, so
  // best_step_ may differ; the MIN makes the choice common.)
  int64_t before = best_step_;
  CYCLR_RETURN_IF_ERROR(comm_->AllReduce(&before, 1, DataType::kInt64, ReduceOp::kMin)
                            ->Wait(options_.collective_timeout));
  StatusOr<std::string> path = spec.checkpoint_dir().empty()
                                   ? StatusOr<std::string>(Status::NotFound("no checkpoint_dir"))
                                   : CheckpointAtOrBefore(spec.checkpoint_dir(), before);
  if (!path.ok()) return Status::Aborted(divergence_reason_ + "; no checkpoint to roll back to");
  CYCLR_ASSIGN_OR_RETURN(CheckpointMeta meta, LoadCheckpoint(*path, *model_.module, *optimizer_));
  const double factor = spec.rollback_lr_factor() > 0 ? spec.rollback_lr_factor() : 0.5;
  const Timeline& applied = agreement_->applied();
  ScheduleSpec lowered = LoweredSpec(applied.revision(applied.At(step_).version).spec, factor);
  char why[96];
  std::snprintf(why, sizeof why, "; rolled back to the checkpoint of step %lld, peak LR x%g",
                static_cast<long long>(meta.step), factor);
  int64_t mine = 0;
  if (options_.rank == 0 && options_.request_revision) {
    StatusOr<int64_t> v = options_.request_revision(lowered, step_, divergence_reason_ + why);
    if (v.ok()) mine = *v;
    if (!v.ok()) std::fprintf(stderr, "rollback revision: %s\n", v.status().ToString().c_str());
  }
  StatusOr<int64_t> version = ShareVersion(comm_, mine, options_.collective_timeout);
  if (!version.ok()) return Status::Aborted(divergence_reason_ + "; " + version.status().message());
  CYCLR_RETURN_IF_ERROR(WaitUntilAllHold(comm_, *agreement_, *version, options_.rollback_timeout)
                            .WithContext(divergence_reason_));
  start_epoch_ = meta.epoch;
  start_step_in_epoch_ = meta.step_in_epoch;
  guard_ = DivergenceGuard(spec.divergence_factor());
  best_step_ = meta.step;
  if (!options_.quiet) {
    std::printf("rank %d %s%s; revision %lld from step %lld\n", options_.rank,
                divergence_reason_.c_str(), why, static_cast<long long>(*version),
                static_cast<long long>(step_));
  }
  return Status::Ok();
}

void Trainer::PrintSteady() const {
  if (options_.quiet || steady_.counted_steps() == 0) return;
  const double samples = static_cast<double>(steady_.counted_steps()) * options_.spec.batch_size();
  // The waits say how much communication was not hidden behind compute (the benchmarks' "what
  // bounds it"): the gradient all-reduce left after backward, and the agreement collective.
  std::printf(
      "rank %d steady: %lld steps after %lld warm-up, %.3f s, %.0f samples/s; blocked per step: "
      "gradients %.3f ms, agreement %.3f ms\n",
      options_.rank, static_cast<long long>(steady_.counted_steps()),
      static_cast<long long>(steady_.warmup_steps()), steady_.seconds(),
      samples / std::max(1e-9, steady_.seconds()), steady_.gradient_wait_ms_per_step(),
      steady_.agreement_wait_ms_per_step());
  std::fflush(stdout);
}

StatusOr<TrainResult> Trainer::Run() {
  // A user's model can raise from its forward at any step (a shape that only the last, shorter
  // batch has; an assert in their code): one error for the job's reason, not an abort.
  try {
    return RunUnchecked();
  } catch (const c10::Error& e) {
    return Status::Internal("step " + std::to_string(step_) + ": " +
                            std::string(e.what_without_backtrace()).substr(0, 500));
  } catch (const std::exception& e) {
    return Status::Internal("step " + std::to_string(step_) + ": " +
                            std::string(e.what()).substr(0, 500));
  }
}

StatusOr<TrainResult> Trainer::RunUnchecked() {
  CYCLR_RETURN_IF_ERROR(Setup());
  TrainResult result;
  const v1::JobSpec& spec = options_.spec;
  auto start = Clock::now();
  report_start_ = start;
  int64_t epoch = start_epoch_;
  while (epoch < spec.epochs() && !result.stopped) {
    if (spec.max_steps() > 0 && step_ >= spec.max_steps()) break;  // a resumed or exact end
    CYCLR_RETURN_IF_ERROR(TrainEpoch(epoch, &result));
    if (rollback_pending_) {
      CYCLR_RETURN_IF_ERROR(Rollback());
      epoch = start_epoch_;
      continue;
    }
    if (result.stopped) break;
    CYCLR_RETURN_IF_ERROR(EndEpoch(epoch, &result));
    if (reached_max_steps_) break;
    ++epoch;
  }
  result.steps = step_;
  result.samples_per_second =
      steps_this_run_ * spec.batch_size() / std::max(1e-9, Seconds(Clock::now() - start));
  lr_log_.flush();
  PrintSteady();
  if (!result.stopped) CYCLR_RETURN_IF_ERROR(Checkpoint(spec.epochs(), 0));
  if (!spec.output_dir().empty()) {
    CYCLR_RETURN_IF_ERROR(reducer_->BroadcastBuffers(0));
    if (options_.rank == 0) CYCLR_RETURN_IF_ERROR(ExportModel(spec.output_dir()));
  }
  CYCLR_RETURN_IF_ERROR(WriteParameters());
  return result;
}

}  // namespace cyclr
