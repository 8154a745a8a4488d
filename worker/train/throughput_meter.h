// ThroughputMeter: a rank's steady-state training throughput, the number benchmarks compare.
//
// The whole-run samples/s of TrainResult includes the first steps (allocator and oneDNN warm-up,
// the first collectives) and the epoch-end evaluations; this meter counts only training steps
// after the first `warmup_steps`, and only the time spent inside training epochs (the trainer
// pauses it around evaluation and checkpoints at epoch ends). Single-threaded (the training loop).
#pragma once

#include <chrono>
#include <cstdint>

namespace cyclr {

class ThroughputMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ThroughputMeter(int64_t warmup_steps) : warmup_(warmup_steps) {}

  // Call as an epoch's training starts and ends.
  void Resume() { since_ = Clock::now(); }
  void Pause() {
    if (active_) elapsed_ += Clock::now() - since_;
  }
  // Call after each completed step with the number of steps this run has completed; the clock
  // starts once `warmup_steps` are done.
  void Step(int64_t steps_done) {
    if (steps_done == warmup_) {
      active_ = true;
      since_ = Clock::now();
    } else if (steps_done > warmup_) {
      ++counted_;
    }
  }

  // Call inside a step, before Step(): how long the training thread blocked on the gradient
  // all-reduce and on the step's agreement collective (counted for measured steps only).
  void AddWaits(double gradient_ms, double agreement_ms) {
    if (!active_) return;
    gradient_wait_ms_ += gradient_ms;
    agreement_wait_ms_ += agreement_ms;
  }

  int64_t warmup_steps() const { return warmup_; }
  double gradient_wait_ms_per_step() const { return PerStep(gradient_wait_ms_); }
  double agreement_wait_ms_per_step() const { return PerStep(agreement_wait_ms_); }
  int64_t counted_steps() const { return counted_; }
  double seconds() const { return std::chrono::duration<double>(elapsed_).count(); }

 private:
  double PerStep(double total) const { return counted_ > 0 ? total / counted_ : 0.0; }

  const int64_t warmup_;
  bool active_ = false;
  int64_t counted_ = 0;
  Clock::time_point since_;
  Clock::duration elapsed_{0};
  double gradient_wait_ms_ = 0;
  double agreement_wait_ms_ = 0;
};

}  // namespace cyclr
