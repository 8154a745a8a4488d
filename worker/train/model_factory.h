// Models chosen by name. Both take [N, 1, 28, 28] images and return [N, 10] logits.
//   mlp: 784-512-10 with ReLU (the model of NOTES.md's DDP measurement).
//   cnn: two 3x3 conv layers (16, 32 channels) with ReLU and 2x2 max-pool, then 1568-128-10.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/status.h"

namespace cyclr {

// INVALID_ARGUMENT "model 'x' is unknown; expected mlp or cnn".
StatusOr<torch::nn::Sequential> MakeModel(const std::string& name);

}  // namespace cyclr
