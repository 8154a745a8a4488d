// The optimizer of a job and how a schedule point is applied to it.
//   sgd:   torch::optim::SGD with the job's momentum, Nesterov and weight decay.
//   adamw: torch::optim::AdamW; beta1 plays the momentum's part when momentum is cycled (as
//          PyTorch's CyclicLR/OneCycleLR do for Adam-type optimizers).
#pragma once

#include <torch/torch.h>

#include <memory>

#include "core/schedule.h"
#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

StatusOr<std::unique_ptr<torch::optim::Optimizer>> MakeOptimizer(
    const v1::JobSpec& spec, const std::vector<torch::Tensor>& params);

// Sets every parameter group's LR to point.lr and its momentum (SGD) or beta1 (AdamW) to
// point.momentum, or to the job's own momentum when the schedule does not cycle it.
void ApplySchedulePoint(const v1::JobSpec& spec, const SchedulePoint& point,
                        torch::optim::Optimizer* optimizer);

}  // namespace cyclr
