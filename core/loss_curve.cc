#include "core/loss_curve.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace cyclr {
namespace {

// One pass of the bias-corrected EMA over `in`, front to back.
std::vector<double> EmaPass(const std::vector<double>& in, double beta) {
  std::vector<double> out(in.size());
  double avg = 0;
  double weight = 1;  // beta^(i+1)
  bool broken = false;
  for (size_t i = 0; i < in.size(); ++i) {
    broken = broken || !std::isfinite(in[i]);
    if (broken) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    avg = beta * avg + (1 - beta) * in[i];
    weight *= beta;
    out[i] = avg / (1 - weight);
  }
  return out;
}

}  // namespace

std::vector<double> EmaSmooth(const std::vector<double>& values, double beta) {
  return EmaPass(values, beta);
}

std::vector<double> ZeroLagSmooth(const std::vector<double>& values, double beta) {
  std::vector<double> forward = EmaPass(values, beta);
  std::vector<double> reversed(forward.rbegin(), forward.rend());
  std::vector<double> back = EmaPass(reversed, beta);
  return std::vector<double>(back.rbegin(), back.rend());
}

RangeTestMonitor::RangeTestMonitor(double factor, double beta) : factor_(factor), beta_(beta) {}

bool RangeTestMonitor::Observe(int64_t step, double mean_loss) {
  char buf[200];
  if (!std::isfinite(mean_loss)) {
    std::snprintf(buf, sizeof buf, "the mean loss of step %lld is %g",
                  static_cast<long long>(step), mean_loss);
    why_ = buf;
    return false;
  }
  avg_ = beta_ * avg_ + (1 - beta_) * mean_loss;
  ++seen_;
  const double smooth = avg_ / (1 - std::pow(beta_, static_cast<double>(seen_)));
  if (seen_ == 1 || smooth < best_) best_ = smooth;
  if (smooth > factor_ * best_) {
    std::snprintf(buf, sizeof buf,
                  "the smoothed loss %.4g of step %lld exceeds %g x its minimum %.4g",
                  smooth, static_cast<long long>(step), factor_, best_);
    why_ = buf;
    return false;
  }
  return true;
}

}  // namespace cyclr
