#include "worker/train/dataset.h"

#include <algorithm>

namespace cyclr {
namespace {

constexpr double kMean = 0.2860;  // Fashion-MNIST training set, pixels in [0, 1]
constexpr double kStd = 0.3530;
constexpr int64_t kSide = 28;  // the models take 28×28 images
constexpr int kClasses = 10;

std::string SplitPrefix(Split split) { return split == Split::kTrain ? "train" : "t10k"; }

// The shapes the models and the loss can take: a file that parses but holds other images (or
// labels past the last class) would otherwise fail deep inside LibTorch.
Status CheckShapes(const std::string& prefix, const IdxFile& images, const IdxFile& labels) {
  if (images.dims.size() != 3 || images.dims[1] != kSide || images.dims[2] != kSide) {
    return Status::InvalidArgument(prefix + "-images-idx3-ubyte.gz: images must be N×28×28");
  }
  if (labels.dims.size() != 1 || images.dims[0] != labels.dims[0]) {
    return Status::InvalidArgument(prefix + ": image and label files disagree on the count");
  }
  auto bad = std::find_if(labels.data.begin(), labels.data.end(),
                          [](uint8_t label) { return label >= kClasses; });
  if (bad != labels.data.end()) {
    return Status::InvalidArgument(prefix + "-labels-idx1-ubyte.gz: label " +
                                   std::to_string(*bad) + " at index " +
                                   std::to_string(bad - labels.data.begin()) +
                                   " must be in [0, 10)");
  }
  return Status::Ok();
}

}  // namespace

torch::Tensor Dataset::Inputs(const torch::Tensor& idx) const {
  torch::Tensor x = images.index_select(0, idx);
  if (x.scalar_type() != torch::kFloat32) x = x.to(torch::kFloat32);
  if (scale != 1) x.mul_(scale);
  if (mean != 0) x.sub_(mean);
  if (std != 1) x.div_(std);
  return x;
}

StatusOr<Dataset> LoadFashionMnist(const std::string& dir, Split split, int64_t limit) {
  const std::string prefix = dir + "/" + SplitPrefix(split);
  CYCLR_ASSIGN_OR_RETURN(IdxFile images, ReadGzippedIdx(prefix + "-images-idx3-ubyte.gz"));
  CYCLR_ASSIGN_OR_RETURN(IdxFile labels, ReadGzippedIdx(prefix + "-labels-idx1-ubyte.gz"));
  CYCLR_RETURN_IF_ERROR(CheckShapes(prefix, images, labels));
  int64_t n = images.dims[0];
  if (limit > 0 && limit < n) n = limit;
  Dataset ds;
  auto raw = torch::from_blob(images.data.data(), {n, 1, kSide, kSide}, torch::kUInt8);
  ds.images = raw.to(torch::kFloat32).div_(255.0).sub_(kMean).div_(kStd);
  ds.labels = torch::from_blob(labels.data.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return ds;
}

Dataset MakeSyntheticDataset(int64_t size, uint64_t seed) {
  torch::Generator gen = at::detail::createCPUGenerator(seed);
  Dataset ds;
  ds.labels = torch::randint(0, 10, {size}, gen, torch::kInt64);
  ds.images = torch::randn({size, 1, 28, 28}, gen, torch::TensorOptions().dtype(torch::kFloat32));
  ds.images.add_(ds.labels.to(torch::kFloat32).view({size, 1, 1, 1}).mul(0.1));
  return ds;
}

}  // namespace cyclr
