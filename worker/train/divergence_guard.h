// DivergenceGuard: tells whether a rank's loss has diverged — non-finite, or its moving average
// above `factor` times the lowest moving average seen so far (after a warm-up, so the first noisy
// steps set no baseline). Each rank judges its own loss; the verdicts are combined in the step's
// agreement collective (MIN), so all ranks stop at the same step. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace cyclr {

class DivergenceGuard {
 public:
  // factor <= 0 means the default (10). `warmup_steps` steps only feed the moving average.
  explicit DivergenceGuard(double factor, int64_t warmup_steps = 20, double ema_beta = 0.9);

  // Feeds one step's loss; returns false when it diverged. Explain() then says why.
  bool Observe(double loss);
  const std::string& Explain() const { return why_; }
  // Whether the last Observe() set a new lowest moving average (the model was at its best).
  bool at_best() const { return at_best_; }

 private:
  double factor_;  // not const: a rollback replaces the guard with a fresh one
  int64_t warmup_steps_;
  double beta_;
  int64_t seen_ = 0;
  double ema_ = 0;
  double min_ema_ = 0;
  std::string why_;
  bool at_best_ = false;
};

}  // namespace cyclr
