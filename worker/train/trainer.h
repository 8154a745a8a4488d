// Trainer: the data-parallel training loop of one rank.
//
// Each step: take this rank's next batch; start the step's agreement collective (MIN over ranks
// of [newest schedule version held, keep-going flag]); forward and backward while the Reducer
// all-reduces gradient buckets as they become ready; wait for both; resolve the schedule point
// for this step from the agreed version (ScheduleAgreement) and apply it to the optimizer; step.
// Everything the control plane needs goes to the ProgressReporter's buffer; nothing on this path
// waits for an RPC. At each epoch's end the ranks evaluate disjoint shards of the test set and
// sum the counts in one collective, so every rank knows the same accuracy.
//
// With spec.checkpoint_dir set, rank 0 writes a checkpoint every spec.checkpoint_every steps and
// at the end, and Run() first resumes from the newest one there (or from spec.resume_from).
//
// A range-test job (schedule policy range-test) is an LR range test: each step also sums the ranks'
// losses in a collective issued with the agreement one, rank 0 reports (step, LR, mean loss) as
// the job's loss curve, and RangeTestMonitor's stop rule on the mean loss of step s becomes the
// "healthy" verdict of step s+1's agreement — so every rank ends on the same step because the
// collective said so. The probe then ends without error (TrainResult::note says why).
// spec.max_steps > 0 ends any job after that many steps (evaluated and checkpointed as an end).
//
// On a diverged loss (agreed by all ranks) the job fails, or with divergence_policy "rollback" the
// ranks reload the newest checkpoint and go on with a lowered peak LR (rollback.h), at most
// kMaxRollbacks times.
//
// At the end, unless quiet, it prints `rank R steady: K steps after W warm-up, T s, S samples/s`
// (ThroughputMeter), the line the benchmarks under tests/bench read.
//
// Outputs in `log_dir` (when set): lr-rank-<r>.csv (step,lr,momentum,version,loss: the values
// this rank applied) and, at the end, params-rank-<r>.bin (all parameters as raw float32) and
// buffers-rank-<r>.bin (all buffers, raw bytes; only for models that have buffers), to
// check that ranks agree).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "cyclr/v1/job.pb.h"
#include "core/loss_curve.h"
#include "worker/comm/communicator.h"
#include "worker/ddp/reducer.h"
#include "worker/train/batch_prefetcher.h"
#include "worker/train/dataset.h"
#include "worker/train/divergence_guard.h"
#include "worker/train/progress_reporter.h"
#include "worker/train/rollback.h"
#include "worker/train/schedule_agreement.h"
#include "worker/train/throughput_meter.h"
#include "worker/train/trainable_model.h"

namespace cyclr {

inline constexpr int kMaxRollbacks = 3;
// Steps excluded from the steady-state throughput line (ThroughputMeter).
inline constexpr int64_t kSteadyWarmupSteps = 10;

struct TrainerOptions {
  v1::JobSpec spec;
  int rank = 0;
  int world_size = 1;
  std::string log_dir;  // empty: no files
  std::chrono::milliseconds collective_timeout{300000};
  bool quiet = false;  // no progress lines on stdout
  // Fault injection for tests: fail with ABORTED after this many steps of this run (0 = never),
  // as a crash would, without writing a final checkpoint.
  int64_t crash_after_steps = 0;
  // The `rollback` divergence policy: how rank 0 appends the lowered revision (the coordinator's
  // UpdateSchedule in production), and how long all ranks wait to hold it.
  RevisionRequester request_revision;
  std::chrono::milliseconds rollback_timeout{60000};
};

struct TrainResult {
  int64_t steps = 0;
  double final_loss = 0;
  double test_accuracy = 0;
  double samples_per_second = 0;  // this rank, whole run
  bool stopped = false;           // ended early: a stop request or the range test's stop rule
  std::string note;               // why a range test ended early ("" otherwise)
};

class Trainer {
 public:
  // None of the pointers is owned; all must outlive the Trainer. `reporter` may be null
  // (standalone runs, tests).
  Trainer(TrainerOptions options, Communicator* comm, ScheduleAgreement* agreement,
          ProgressReporter* reporter);

  // Loads data, builds the model, broadcasts rank 0's parameters and trains every epoch.
  StatusOr<TrainResult> Run();

 private:
  StatusOr<TrainResult> RunUnchecked();
  Status Setup();
  Status TrainEpoch(int64_t epoch, TrainResult* result);
  // One training step on the examples `idx`; sets result->stopped when the ranks agreed to stop.
  Status Step(int64_t epoch, const Batch& batch, TrainResult* result);
  void Report(int64_t epoch, const TimelinePoint& point, double loss, double step_seconds,
              const std::vector<AppliedVersion>& newly);
  // Returns (accuracy, mean loss) over the whole test set, identical on every rank.
  StatusOr<std::pair<double, double>> Evaluate();
  Status WriteParameters() const;
  // Resumes from spec.resume_from, else from the newest checkpoint in spec.checkpoint_dir.
  Status MaybeResume();
  // Epoch end: evaluation, report, progress line.
  Status EndEpoch(int64_t epoch, TrainResult* result);
  // The rollback divergence policy (see rollback.h).
  Status Rollback();
  // Rank 0 writes a checkpoint of the state after `step_` steps.
  Status Checkpoint(int64_t epoch, int64_t step_in_epoch);
  void LogStep(int64_t step, const TimelinePoint& point, double loss);
  // A range test's step after its collectives: records the curve point, feeds the stop rule, and
  // ends the probe when the ranks agreed to stop (`healthy` false).
  void RangeTestStep(const TimelinePoint& point, double mean_loss, bool healthy,
                     TrainResult* result);
  void PrintSteady() const;
  // The job's loss, defaulted once (Step() reads it every step).
  const std::string& Loss() const { return loss_; }
  // Loads the data split by the job's dataset (built-in, synthetic or npy).
  StatusOr<Dataset> LoadSplit(Split split) const;
  // Every rank must train the same model file: compares the digests of all ranks (MIN and MAX).
  Status AgreeOnModelFile();
  // Rank 0 writes the trained TorchScript module to `dir`/model.pt (model_file jobs only).
  Status ExportModel(const std::string& dir) const;
  void OpenLrLog();

  TrainerOptions options_;
  const std::string loss_;  // spec.loss, "cross-entropy" when empty
  Communicator* comm_;
  ScheduleAgreement* agreement_;
  ProgressReporter* reporter_;

  Dataset train_;
  Dataset test_;
  TrainableModel model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<Reducer> reducer_;
  int64_t step_ = 0;
  int64_t steps_per_epoch_ = 0;
  int64_t start_epoch_ = 0;  // where a resumed run starts
  int64_t start_step_in_epoch_ = 0;
  int64_t steps_this_run_ = 0;
  DivergenceGuard guard_;
  const bool range_test_;           // the job is an LR range test (see above)
  RangeTestMonitor range_monitor_;  // fed the mean loss of every step
  std::string range_stop_;          // the monitor's reason, once it said stop
  bool reached_max_steps_ = false;
  bool rollback_pending_ = false;  // the ranks agreed the loss diverged (policy rollback)
  std::string divergence_reason_;
  int rollbacks_ = 0;
  int64_t best_step_ = 0;  // steps completed when the loss average was lowest (rollback target)
  std::chrono::steady_clock::time_point report_start_;
  int64_t report_samples_ = 0;
  ThroughputMeter steady_{kSteadyWarmupSteps};
  std::ofstream lr_log_;
};

}  // namespace cyclr
