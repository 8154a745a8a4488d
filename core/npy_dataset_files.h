// The files of an `npy` dataset and the rules they must meet, checked from their headers alone:
// by the coordinator at launch (when it launches the workers on its own host) and by every worker
// before it maps the data. One rule set, so a job the coordinator accepts is one the workers can
// train, and a bad file is refused before any process starts.
//
//   DIR/train_x.npy  [N, ...] uint8 | float16 | float32 | int32 | int64   (the inputs)
//   DIR/train_y.npy  [N] int64 | int32 | uint8 (class ids, loss cross-entropy)
//                    [N, ...] float32 | float16 (targets, loss mse)
//   DIR/test_x.npy, DIR/test_y.npy: optional, both or neither; same rules, and test_x has the
//                    same per-example shape as train_x.
#pragma once

#include <string>

#include "core/npy_header.h"
#include "core/status.h"

namespace cyclr {

struct NpyDatasetFiles {
  std::string train_x, train_y, test_x, test_y;  // test_* empty when there is no test split
  NpyHeader train_x_header, train_y_header, test_x_header, test_y_header;
  bool has_test() const { return !test_x.empty(); }
};

// `loss` is "cross-entropy" or "mse". NOT_FOUND names a missing required file; INVALID_ARGUMENT
// names the file and the rule (header rules in npy_header.h; N of x and y differ; a label dtype
// that does not fit the loss; only one of the test files; test inputs shaped unlike training's).
StatusOr<NpyDatasetFiles> CheckNpyDataset(const std::string& dir, const std::string& loss);

// Parses "MEAN,STD" (`--normalize`): two finite numbers, STD > 0. INVALID_ARGUMENT names
// `field` and the rule.
Status ParseNormalize(const std::string& text, const std::string& field, double* mean,
                      double* std);

}  // namespace cyclr
