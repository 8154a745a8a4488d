#include "worker/train/model_factory.h"

namespace cyclr {

namespace nn = torch::nn;

StatusOr<torch::nn::Sequential> MakeModel(const std::string& name) {
  if (name == "mlp") {
    return nn::Sequential(nn::Flatten(), nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 10));
  }
  if (name == "cnn") {
    return nn::Sequential(
        nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
        nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
        nn::Flatten(), nn::Linear(32 * 7 * 7, 128), nn::ReLU(), nn::Linear(128, 10));
  }
  return Status::InvalidArgument("model '" + name + "' is unknown; expected mlp or cnn");
}

}  // namespace cyclr
