#include "worker/train/optimizer_factory.h"

namespace cyclr {

StatusOr<std::unique_ptr<torch::optim::Optimizer>> MakeOptimizer(
    const v1::JobSpec& spec, const std::vector<torch::Tensor>& params) {
  // The LR is set before every step from the schedule; this initial value is never used.
  const double lr = 1e-3;
  if (spec.optimizer().empty() || spec.optimizer() == "sgd") {
    auto opts = torch::optim::SGDOptions(lr)
                    .momentum(spec.momentum())
                    .weight_decay(spec.weight_decay())
                    .nesterov(spec.nesterov());
    if (spec.nesterov() && spec.momentum() <= 0) {
      return Status::InvalidArgument("nesterov requires momentum > 0");
    }
    return std::unique_ptr<torch::optim::Optimizer>(new torch::optim::SGD(params, opts));
  }
  if (spec.optimizer() == "adamw") {
    auto opts = torch::optim::AdamWOptions(lr)
                    .betas(std::make_tuple(spec.momentum() > 0 ? spec.momentum() : 0.9, 0.999))
                    .weight_decay(spec.weight_decay());
    return std::unique_ptr<torch::optim::Optimizer>(new torch::optim::AdamW(params, opts));
  }
  return Status::InvalidArgument("optimizer '" + spec.optimizer() +
                                 "' is unknown; expected sgd or adamw");
}

void ApplySchedulePoint(const v1::JobSpec& spec, const SchedulePoint& point,
                        torch::optim::Optimizer* optimizer) {
  const double momentum = point.momentum ? *point.momentum : spec.momentum();
  for (auto& group : optimizer->param_groups()) {
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&group.options())) {
      sgd->lr(point.lr);
      sgd->momentum(momentum);
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&group.options())) {
      adamw->lr(point.lr);
      if (point.momentum) adamw->betas(std::make_tuple(momentum, std::get<1>(adamw->betas())));
    }
  }
}

}  // namespace cyclr
