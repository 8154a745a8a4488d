// BroadcastTensors: make every rank's copy of some tensors equal to rank `root`'s — the start of
// data-parallel training (same initial weights everywhere). Tensors are packed into one flat
// buffer per dtype (float32, int64), so it costs one or two collectives.
#pragma once

#include <chrono>
#include <vector>

#include <torch/torch.h>

#include "worker/comm/communicator.h"

namespace cyclr {

// Overwrites `tensors` in place on every rank but `root`. Same shapes, dtypes and order on every
// rank. INVALID_ARGUMENT (changes nothing) for a dtype other than float32/int64 or a bad root.
Status BroadcastTensors(Communicator& comm, const std::vector<torch::Tensor>& tensors, int root,
                        std::chrono::milliseconds timeout);

}  // namespace cyclr
