#include "worker/train/divergence_guard.h"

#include <cmath>
#include <cstdio>

namespace cyclr {

DivergenceGuard::DivergenceGuard(double factor, int64_t warmup_steps, double ema_beta)
    : factor_(factor > 0 ? factor : 10.0), warmup_steps_(warmup_steps), beta_(ema_beta) {}

bool DivergenceGuard::Observe(double loss) {
  char buf[160];
  if (!std::isfinite(loss)) {
    std::snprintf(buf, sizeof buf, "loss is %g", loss);
    why_ = buf;
    return false;
  }
  ema_ = seen_ == 0 ? loss : beta_ * ema_ + (1 - beta_) * loss;
  at_best_ = seen_ == 0 || ema_ < min_ema_;
  if (at_best_) min_ema_ = ema_;
  ++seen_;
  if (seen_ <= warmup_steps_) return true;
  if (ema_ > factor_ * min_ema_) {
    std::snprintf(buf, sizeof buf, "loss average %.4g exceeds %g x its minimum %.4g", ema_, factor_,
                  min_ema_);
    why_ = buf;
    return false;
  }
  return true;
}

}  // namespace cyclr
