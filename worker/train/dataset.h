// Dataset: images and labels held in memory as tensors, loaded once per worker.
//
// Fashion-MNIST comes from the gzipped IDX files of Debian's `dataset-fashion-mnist`
// (/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz). Pixels are
// scaled to [0, 1] and normalised with the training set's mean and std (0.2860, 0.3530).
// The synthetic dataset (benchmarks) is random data of the same shape, deterministic in its seed.
// A user's `npy` dataset (npy_dataset.h) keeps its inputs in the file's dtype, memory-mapped, and
// converts each gathered batch (Inputs()), so a worker touches only the pages of its own batches.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "core/status.h"
#include "worker/train/idx_reader.h"

namespace cyclr {

struct Dataset {
  // [N, ...] inputs: [N, 1, 28, 28] float32 for the built-in datasets; for npy the file's dtype.
  torch::Tensor images;
  // [N] int64 class ids (cross-entropy), or [N, ...] float32 targets (mse).
  torch::Tensor labels;
  // Inputs() returns float32(x) * scale, then (x - mean) / std.
  double scale = 1, mean = 0, std = 1;

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  // The examples `idx` as float32 model inputs; `idx` is int64 [B].
  torch::Tensor Inputs(const torch::Tensor& idx) const;
  torch::Tensor Targets(const torch::Tensor& idx) const { return labels.index_select(0, idx); }
};

enum class Split { kTrain, kTest };

// Reads the first `limit` examples (0 = all) of a split. NOT_FOUND names a missing file;
// INVALID_ARGUMENT names a corrupt one (idx_reader.h's rules; images that are not 28×28, labels
// outside [0, 10), image and label counts that disagree).
StatusOr<Dataset> LoadFashionMnist(const std::string& dir, Split split, int64_t limit);

// `size` random examples: labels uniform in [0, 10), images N(0, 1) shifted by the label so a
// model can learn something. Same seed, same data.
Dataset MakeSyntheticDataset(int64_t size, uint64_t seed);

}  // namespace cyclr
