// ProbeReport: what `cyclrctl lr-find get` and `launch --lr-from` read from a finished LR range
// test — the probe job, its curve(s) and the suggestions — and how it is shown.
//
// A probe launched with --seed-repeats K is K jobs: NAME, NAME-r2, ..., NAME-rK (seeds seed ..
// seed + K - 1). Reading NAME also reads its repeats (until the first name that does not exist)
// and the suggestions are the medians of theirs (MedianSuggestions); the plot shows NAME's curve.
#pragma once

#include <string>
#include <vector>

#include "client/coordinator_client.h"
#include "client/option_file.h"
#include "client/output_format.h"
#include "core/lr_suggestions.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr::client {

struct ProbeReport {
  v1::Job job;                        // the first probe
  std::vector<LossCurvePoint> curve;  // the first probe's curve
  int repeats = 1;
  int64_t train_examples = 0;  // the probe's training set (0 = not reported)
  LrSuggestions suggestions;
};

// The schedule keys `launch --lr-from` fills for `policy` (those the flags and the job file do
// not set): cyclic policies base_lr, max_lr and step_size_up (when known), one-cycle max_lr,
// cosine-restarts base_lr and max_lr, constant base_lr = the chosen rule's LR.
// INVALID_ARGUMENT for range-test or an unknown policy.
StatusOr<OptionMap> LrFromOptions(const std::string& policy, const LrSuggestions& suggestions);

// The name of repeat k (2..K) of probe `name`.
std::string RepeatName(const std::string& name, int k);

// Reads probe `name` (and its repeats) and computes the suggestions with `options`; when
// options.steps_per_epoch is 0 it is taken from the probe (its training set, workers and batch).
// FAILED_PRECONDITION while the probe runs or when its curve gives no suggestions (the reason).
StatusOr<ProbeReport> ReadProbe(CoordinatorClient& client, const std::string& name,
                                LrSuggestionOptions options);

// Steps per epoch of a job with `workers` x `batch_size` on `train_examples` (the worker's rule:
// full batches of each rank's shard); 0 when unknown.
int64_t StepsPerEpoch(int64_t train_examples, int workers, int batch_size);

// The `cyclrctl launch` line that trains the probe's model and data with Smith's bounds.
std::string SuggestedLaunchLine(const ProbeReport& report);

// Table: the rules side by side, the chosen one, Smith's bounds, the note and the launch line.
// JSON: {"job", "repeats", "stop_step", "usable_points", "smoothing_beta", "chosen", "rules",
// "max_lr", "base_lr", "step_size_up", "note", "launch", "points": [{"step", "lr", "loss",
// "smoothed"}]} with null for a non-finite loss and for points past the usable part.
std::string FormatProbeReport(const ProbeReport& report, OutputFormat format);

}  // namespace cyclr::client
