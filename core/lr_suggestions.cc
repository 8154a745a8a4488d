#include "core/lr_suggestions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cyclr {
namespace {

// Where the usable part of the curve ends (exclusive): the first non-finite loss, the first point
// the causal stop rule rejects, or the first LR that does not rise.
int64_t UsableEnd(const std::vector<LossCurvePoint>& curve, int64_t* stop_step) {
  RangeTestMonitor monitor;
  for (size_t i = 0; i < curve.size(); ++i) {
    if (!monitor.Observe(curve[i].step, curve[i].loss)) {
      *stop_step = curve[i].step;
      return static_cast<int64_t>(i);
    }
    if (i > 0 && !(curve[i].lr > curve[i - 1].lr)) return static_cast<int64_t>(i);
  }
  return static_cast<int64_t>(curve.size());
}

// fastai's valley: the longest decreasing subsequence of y[from, n) (O(n^2) on at most
// kMaxValleyPoints points, taken evenly), and the point about halfway along its span.
constexpr int64_t kMaxValleyPoints = 2000;
int64_t Valley(const std::vector<double>& y, int64_t from, int64_t n) {
  const int64_t stride = (n - from + kMaxValleyPoints - 1) / kMaxValleyPoints;
  std::vector<int64_t> idx;
  for (int64_t i = from; i < n; i += stride) idx.push_back(i);
  const int64_t m = static_cast<int64_t>(idx.size());
  std::vector<int64_t> lds(m, 1);
  int64_t max_start = 0, max_end = 0;
  for (int64_t i = 1; i < m; ++i) {
    for (int64_t j = 0; j < i; ++j) {
      if (y[idx[i]] < y[idx[j]] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
    }
    if (lds[max_end] < lds[i]) {
      max_end = i;
      max_start = max_end - lds[max_end];
    }
  }
  const double sections = static_cast<double>(max_end - max_start) / 3;
  const int64_t at = max_start + static_cast<int64_t>(sections) + static_cast<int64_t>(sections / 2);
  return idx[std::clamp<int64_t>(at, 0, m - 1)];
}

// The steepest descent of y against x = log(lr), in [from, n), by central differences.
int64_t Steep(const std::vector<double>& x, const std::vector<double>& y, int64_t from, int64_t n) {
  int64_t best = from;
  double best_slope = INFINITY;
  for (int64_t i = from; i < n; ++i) {
    const int64_t a = std::max<int64_t>(i - 1, 0), b = std::min<int64_t>(i + 1, n - 1);
    if (b == a) continue;
    const double slope = (y[b] - y[a]) / (x[b] - x[a]);
    if (slope < best_slope) best_slope = slope, best = i;
  }
  return best;
}

Status CheckCurve(const std::vector<LossCurvePoint>& curve) {
  for (size_t i = 0; i < curve.size(); ++i) {
    if (!(std::isfinite(curve[i].lr) && curve[i].lr > 0)) {
      return Status::InvalidArgument("point " + std::to_string(i) + ": lr (" +
                                     std::to_string(curve[i].lr) + ") must be finite and > 0");
    }
    if (i > 0 && curve[i].step <= curve[i - 1].step) {
      return Status::InvalidArgument("point " + std::to_string(i) +
                                     ": steps must increase along the curve");
    }
  }
  return Status::Ok();
}

std::string Agreement(const LrSuggestions& s) {
  double lo = INFINITY, hi = 0;
  for (const LrRule& r : s.rules) lo = std::min(lo, r.lr), hi = std::max(hi, r.lr);
  if (hi <= 3 * lo) return "";
  char buf[240];
  std::snprintf(buf, sizeof buf,
                "the rules disagree by %.1fx (a noisy curve): run more steps, a larger batch, or "
                "--seed-repeats 3 and take the medians",
                hi / lo);
  return buf;
}

}  // namespace

double LrSuggestions::Rule(const std::string& name) const {
  for (const LrRule& r : rules) {
    if (r.name == name) return r.lr;
  }
  return 0;
}

StatusOr<LrSuggestions> SuggestLr(const std::vector<LossCurvePoint>& curve,
                                  const LrSuggestionOptions& options) {
  CYCLR_RETURN_IF_ERROR(CheckCurve(curve));
  LrSuggestions s;
  const int64_t usable = UsableEnd(curve, &s.stop_step);
  const int64_t skip_end = std::max<int64_t>(1, usable / 20);
  const int64_t n = usable - skip_end;
  s.usable_points = usable;
  if (n < kMinUsablePoints) {
    return Status::FailedPrecondition(
        "the curve has " + std::to_string(usable) + " usable points (" +
        (s.stop_step >= 0 ? "the loss diverged at step " + std::to_string(s.stop_step)
                          : std::to_string(curve.size()) + " recorded") +
        "); suggestions need at least " + std::to_string(kMinUsablePoints + 1) +
        ": run more steps or start from a lower LR");
  }
  std::vector<double> x(usable), raw(usable);
  for (int64_t i = 0; i < usable; ++i) x[i] = std::log(curve[i].lr), raw[i] = curve[i].loss;
  const double span = static_cast<double>(usable) / 20;
  s.smoothing_beta = std::clamp(span / (1 + span), 0.5, kRangeTestBeta);
  s.smoothed = ZeroLagSmooth(raw, s.smoothing_beta);
  const std::vector<double>& y = s.smoothed;

  const int64_t lowest = std::min_element(y.begin(), y.begin() + n) - y.begin();
  if (!(y[lowest] < y[0])) {
    return Status::FailedPrecondition(
        "the loss never fell below its first value: start from a lower LR or run more steps");
  }
  // Where the loss started and stopped falling: the first points beyond `flat_fraction` of the
  // whole descent from either end.
  const double drop = options.flat_fraction * (y[0] - y[lowest]);
  int64_t falling = 0, stop_falling = lowest;
  while (falling < lowest && y[falling] > y[0] - drop) ++falling;
  while (stop_falling > 0 && y[stop_falling - 1] <= y[lowest] + drop) --stop_falling;
  const int64_t steep = Steep(x, y, n / 10, n);
  const int64_t valley = Valley(y, falling, n);
  s.rules = {{"steep", curve[steep].lr, curve[steep].step},
             {"valley", curve[valley].lr, curve[valley].step},
             {"minimum", curve[lowest].lr / 10, curve[lowest].step}};
  s.max_lr = curve[stop_falling].lr;
  s.base_lr = s.max_lr / options.base_divisor;
  if (options.steps_per_epoch > 0) {
    s.step_size_up = std::max<int64_t>(
        1, std::llround(options.half_cycle_epochs * static_cast<double>(options.steps_per_epoch)));
  }
  s.note = Agreement(s);
  if (s.stop_step < 0 && lowest >= n - std::max<int64_t>(1, n / 10)) {
    if (!s.note.empty()) s.note += "; ";
    s.note += "the loss was still falling at the end: the probe's end LR may be too low";
  }
  return s;
}

LrSuggestions MedianSuggestions(const std::vector<LrSuggestions>& each) {
  if (each.empty()) return {};
  auto median = [&](auto get) {
    std::vector<double> v;
    for (const LrSuggestions& s : each) v.push_back(get(s));
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
  };
  LrSuggestions m = each[0];
  for (LrRule& r : m.rules) {
    r.lr = median([&](const LrSuggestions& s) { return s.Rule(r.name); });
    r.step = -1;  // a median is read at no single point
  }
  m.max_lr = median([](const LrSuggestions& s) { return s.max_lr; });
  m.base_lr = median([](const LrSuggestions& s) { return s.base_lr; });
  const double lo = std::min_element(each.begin(), each.end(), [](auto& a, auto& b) {
                      return a.max_lr < b.max_lr;
                    })->max_lr;
  const double hi = std::max_element(each.begin(), each.end(), [](auto& a, auto& b) {
                      return a.max_lr < b.max_lr;
                    })->max_lr;
  char buf[160];
  std::snprintf(buf, sizeof buf, "medians of %zu probes (their max_lr from %.3g to %.3g)",
                each.size(), lo, hi);
  m.note = Agreement(m);
  m.note = m.note.empty() ? buf : std::string(buf) + "; " + m.note;
  return m;
}

}  // namespace cyclr
