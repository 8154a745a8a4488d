// ScriptModel: a user's TorchScript module (`torch.jit.script(model).save("model.pt")` in Python)
// trained like a built-in model.
//
// LibTorch's optimizers, the Reducer and checkpoints take a torch::nn::Module, and a
// torch::jit::Module is not one. This holder registers the scripted module's parameters and
// buffers as its own, under the scripted names with '.' replaced by "__" (nn::Module refuses
// dots): the same tensors, not copies, so the optimizer updates exactly what the scripted forward
// reads and a checkpoint holds exactly what Export() writes. train()/eval() also switch the
// scripted module's `training` flags (dropout, batch norm).
//
// Only a scripted module follows train()/eval(): a traced one has its mode baked in (documented
// in the README's "Train your own model"). Single-threaded (the training loop).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace cyclr {

class ScriptModelImpl : public torch::nn::Module {
 public:
  // INVALID_ARGUMENT (naming `path`) for a file torch.jit.load cannot read, a module with no
  // trainable parameters (a frozen module), parameters that are not float32 or names that
  // collide once dots are replaced; NOT_FOUND for a missing file.
  static StatusOr<std::shared_ptr<ScriptModelImpl>> Load(const std::string& path);

  // The scripted forward on one batch; throws c10::Error as LibTorch does (the trainer turns the
  // first step's into one clear error) or when forward does not return a tensor.
  torch::Tensor forward(const torch::Tensor& input);

  void train(bool on = true) override;

  // Writes the module with its current parameters and buffers, in eval mode, as TorchScript to
  // `path` (what torch.jit.load reads), atomically: a temporary file, fsync'd, renamed.
  Status Export(const std::string& path);

 private:
  explicit ScriptModelImpl(torch::jit::Module module) : module_(std::move(module)) {}
  Status RegisterTensors(const std::string& path);

  torch::jit::Module module_;
};

}  // namespace cyclr
