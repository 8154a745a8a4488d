// LossCurve: the LR range test's measured curve — one point per step, the loss averaged over the
// ranks and the LR that step applied — and the two ways it is smoothed.
//
// Smoothing is an exponential moving average with bias correction (fastai's and Lightning's,
// beta 0.98): s_i = beta s_{i-1} + (1 - beta) x_i, reported as s_i / (1 - beta^(i+1)), so the
// first points are not pulled towards 0. It is causal and therefore lags: at beta 0.98 the
// average trails the raw curve by about beta / (1 - beta) = 49 steps, more than a decade of LR on a
// 200-step probe. The online stop rule (RangeTestMonitor) has to be causal; the suggestions are read
// off the curve after the fact and use ZeroLagSmooth (the same average run forward and then
// backward, as scipy's filtfilt), whose lag cancels.
//
// Pure functions and a small value type: no threads, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cyclr {

inline constexpr double kRangeTestBeta = 0.98;
inline constexpr double kRangeTestStopFactor = 4.0;

struct LossCurvePoint {
  int64_t step = 0;
  double lr = 0;
  double loss = 0;  // mean over ranks; may be NaN or Inf (the step that diverged)
};

// The causal bias-corrected EMA of `values`. A non-finite value makes that output and every later
// one NaN (a diverged curve has no meaningful average past that point).
std::vector<double> EmaSmooth(const std::vector<double>& values, double beta);

// The bias-corrected EMA run forward, then run backward over the result: no lag. Only for finite
// values (the caller cuts the curve at its first non-finite point).
std::vector<double> ZeroLagSmooth(const std::vector<double>& values, double beta);

// The range test's divergence rule, fed the mean loss of each step in order: the probe stops once
// the smoothed loss exceeds `factor` times its lowest value so far, or a loss is NaN/Inf (fastai's
// rule). Every rank feeds the same all-reduced value, so every rank decides the same; the trainer
// still combines the verdicts in the next step's collective, so agreement never rests on
// bitwise-equal arithmetic. Not thread-safe.
class RangeTestMonitor {
 public:
  explicit RangeTestMonitor(double factor = kRangeTestStopFactor, double beta = kRangeTestBeta);

  // Returns false from the step on which the probe must stop; Explain() then says why.
  bool Observe(int64_t step, double mean_loss);
  const std::string& Explain() const { return why_; }

 private:
  double factor_;
  double beta_;
  int64_t seen_ = 0;
  double avg_ = 0;
  double best_ = 0;
  std::string why_;
};

}  // namespace cyclr
