// LrSuggestions: what a finished LR range test says about the learning rate — the rules of fastai's
// lr_find and Smith's bounds for a cycle — read from its LossCurve.
//
// The usable part of the curve: its points up to (not including) the first one whose loss is
// not finite or whose causally smoothed loss exceeds kRangeTestStopFactor x its running minimum
// (where the probe stopped, or would have), and while the LR rises; the last max(1, n/20) of
// those are left out of every rule (the loss is already turning there, fastai's skip_end). The
// rules read the zero-lag smoothed loss (loss_curve.h), with a beta for which the average spans
// about 5 % of the usable points (beta / (1 - beta) = n / 20, within [0.5, kRangeTestBeta]):
//   steep    the LR of the steepest descent of the loss against log LR (central differences),
//            ignoring the first 10 % of the points;
//   valley   fastai's default: the longest descending run of the loss (longest decreasing
//            subsequence), the point about halfway along it — searched from where the loss
//            started to fall (the first point `flat_fraction` of the whole descent below the
//            first): on a probe that starts low, fastai's version spans the flat start too and
//            lands where the loss has barely moved (0.0017 against a minimum at 0.31 on the cnn);
//   minimum  the LR of the lowest loss / 10;
//   Smith    max_lr = the LR where the loss stops falling: the start of the run of points
//            within `flat_fraction` of the whole descent from the minimum that ends there; base_lr = max_lr / base_divisor (3-4 for a
//            cycle, 10-20 for one-cycle); step_size_up = half_cycle_epochs x steps per epoch.
// When steep, valley and minimum differ by more than 3x, `note` says the curve is noisy and what
// to do; when the loss never rose, it says the upper end of the probe may be too low.
//
// Medians over repeated probes (--seed-repeats): MedianSuggestions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/loss_curve.h"
#include "core/status.h"

namespace cyclr {

struct LrSuggestionOptions {
  double base_divisor = 4;       // base_lr = max_lr / this
  double flat_fraction = 0.05;   // "stopped falling": within this fraction of the descent
  double half_cycle_epochs = 4;  // step_size_up in epochs (Smith: 2-10)
  int64_t steps_per_epoch = 0;   // of the job the bounds are for; 0 = unknown (no step_size_up)
};

struct LrRule {
  std::string name;  // steep | valley | minimum
  double lr = 0;
  int64_t step = 0;  // the curve point it was read at
};

struct LrSuggestions {
  std::vector<LrRule> rules;  // steep, valley, minimum
  std::string chosen = "valley";
  double max_lr = 0;  // Smith's bounds
  double base_lr = 0;
  int64_t step_size_up = 0;  // 0 when steps_per_epoch is unknown
  int64_t usable_points = 0;
  int64_t stop_step = -1;  // the point where the loss diverged, -1 if it never did
  double smoothing_beta = 0;
  std::vector<double> smoothed;  // the zero-lag smoothed loss of the usable points
  std::string note;              // "" when the rules agree
  double Rule(const std::string& name) const;
};

// FAILED_PRECONDITION naming why when the curve cannot give suggestions: fewer than
// kMinUsablePoints usable points (diverged at once, or too short), or a loss that never fell.
// INVALID_ARGUMENT for points out of step order or an LR that is not finite and positive.
inline constexpr int64_t kMinUsablePoints = 10;
StatusOr<LrSuggestions> SuggestLr(const std::vector<LossCurvePoint>& curve,
                                  const LrSuggestionOptions& options);

// The median of each rule and bound over several probes' suggestions (the lower middle for an
// even count); the note says how far apart the probes were.
LrSuggestions MedianSuggestions(const std::vector<LrSuggestions>& each);

}  // namespace cyclr
