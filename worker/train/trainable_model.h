// TrainableModel: what the trainer trains, whichever kind it is — a built-in model (mlp, cnn:
// model_factory.h) or the user's TorchScript file (script_model.h) — with the loss it is trained
// on and the checks that it fits the data before the first step.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"
#include "worker/train/dataset.h"
#include "worker/train/script_model.h"

namespace cyclr {

struct TrainableModel {
  // Parameters, buffers, train()/eval() and checkpoints go through `module`.
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::shared_ptr<ScriptModelImpl> script;  // set for a model_file job (Export)
  std::string sha256;                       // the model file's digest (model_file jobs)
};

// spec.model_file (checked against spec.model_sha256 when set: FAILED_PRECONDITION on a
// mismatch, naming both digests) or the built-in spec.model. Not thread-safe: a built-in model's
// initial weights come from the process-wide generator (the caller seeds and serialises).
StatusOr<TrainableModel> BuildTrainableModel(const v1::JobSpec& spec);

// "cross-entropy" (out [B, C] logits, target [B] class ids) or "mse" (target reshaped to out's
// shape; their element counts must agree), with the given reduction.
torch::Tensor ComputeLoss(const std::string& loss, const torch::Tensor& out,
                          const torch::Tensor& target, torch::Reduction::Reduction reduction);

// Runs the model once, in eval mode without gradients (nothing it holds changes), on the first
// examples of `train`, so a model that does not fit the data fails before training with one
// INVALID_ARGUMENT naming both shapes, rather than deep inside the first step. For cross-entropy
// it also checks every label of `train` and `test` against the model's output width.
Status CheckModelFitsData(TrainableModel& model, const std::string& loss, const Dataset& train,
                          const Dataset& test);

}  // namespace cyclr
