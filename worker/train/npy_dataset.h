// A user's dataset as NumPy files (core/npy_dataset_files.h): the inputs memory-mapped read-only
// in their own dtype (a worker touches only the pages of the examples it gathers, so a large
// file costs address space, not memory), the labels or targets copied (N values).
#pragma once

#include <cstdint>
#include <string>

#include "core/npy_dataset_files.h"
#include "core/status.h"
#include "worker/train/dataset.h"

namespace cyclr {

struct NpyLoadOptions {
  std::string loss = "cross-entropy";  // "cross-entropy" (int labels) | "mse" (float targets)
  int64_t limit = 0;                   // first N examples only (0 = all)
  // --normalize MEAN,STD: inputs become (x - mean) / std; uint8 inputs are scaled to [0, 1]
  // first (with or without it).
  bool normalize = false;
  double mean = 0, std = 1;
};

// The train or test split of `files` (which CheckNpyDataset returned). The test split of a
// dataset without test files is empty (size() == 0). INVALID_ARGUMENT for a class id below 0
// (the upper bound is the model's output width, checked at the first step); INTERNAL when mapping
// fails.
StatusOr<Dataset> LoadNpyDataset(const NpyDatasetFiles& files, Split split,
                                 const NpyLoadOptions& options);

}  // namespace cyclr
