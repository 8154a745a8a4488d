#include "core/npy_dataset_files.h"

#include <cmath>
#include <cstdlib>
#include <fstream>

namespace cyclr {
namespace {

bool Exists(const std::string& path) { return static_cast<bool>(std::ifstream(path)); }

std::string PerExample(const NpyHeader& h) {
  NpyHeader rest = h;
  rest.shape.erase(rest.shape.begin());
  return rest.ShapeString();
}

Status CheckPair(const std::string& x_path, const NpyHeader& x, const std::string& y_path,
                 const NpyHeader& y, const std::string& loss) {
  if (x.shape.empty() || x.shape[0] < 1) {
    return Status::InvalidArgument(x_path + ": shape " + x.ShapeString() +
                                   " must be [N, ...] with N >= 1 examples");
  }
  if (y.shape.empty() || y.shape[0] != x.shape[0]) {
    return Status::InvalidArgument(y_path + ": shape " + y.ShapeString() + " must start with N = " +
                                   std::to_string(x.shape[0]) + ", the examples of " + x_path);
  }
  const bool integer = y.dtype == NpyDtype::kInt64 || y.dtype == NpyDtype::kInt32 ||
                       y.dtype == NpyDtype::kUint8;
  if (loss == "mse") {
    if (integer) {
      return Status::InvalidArgument(y_path + ": dtype " + NpyDtypeName(y.dtype) +
                                     " for loss mse; regression targets must be float32 or float16");
    }
  } else {
    if (!integer) {
      return Status::InvalidArgument(
          y_path + ": dtype " + NpyDtypeName(y.dtype) +
          " for loss cross-entropy; class labels must be int64, int32 or uint8 (use loss mse for "
          "regression targets)");
    }
    if (y.shape.size() != 1) {
      return Status::InvalidArgument(y_path + ": shape " + y.ShapeString() +
                                     " must be [N] (one class id per example)");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<NpyDatasetFiles> CheckNpyDataset(const std::string& dir, const std::string& loss) {
  if (dir.empty()) {
    return Status::InvalidArgument("data_dir is required for dataset npy (a folder with "
                                   "train_x.npy and train_y.npy)");
  }
  NpyDatasetFiles f;
  f.train_x = dir + "/train_x.npy";
  f.train_y = dir + "/train_y.npy";
  CYCLR_ASSIGN_OR_RETURN(f.train_x_header, ReadNpyHeader(f.train_x));
  CYCLR_ASSIGN_OR_RETURN(f.train_y_header, ReadNpyHeader(f.train_y));
  CYCLR_RETURN_IF_ERROR(CheckPair(f.train_x, f.train_x_header, f.train_y, f.train_y_header, loss));
  const std::string test_x = dir + "/test_x.npy", test_y = dir + "/test_y.npy";
  if (Exists(test_x) != Exists(test_y)) {
    return Status::InvalidArgument(dir + ": has only one of test_x.npy and test_y.npy; give both "
                                         "or neither");
  }
  if (!Exists(test_x)) return f;
  f.test_x = test_x;
  f.test_y = test_y;
  CYCLR_ASSIGN_OR_RETURN(f.test_x_header, ReadNpyHeader(f.test_x));
  CYCLR_ASSIGN_OR_RETURN(f.test_y_header, ReadNpyHeader(f.test_y));
  CYCLR_RETURN_IF_ERROR(CheckPair(f.test_x, f.test_x_header, f.test_y, f.test_y_header, loss));
  if (f.test_x_header.shape.size() != f.train_x_header.shape.size() ||
      PerExample(f.test_x_header) != PerExample(f.train_x_header)) {
    return Status::InvalidArgument(f.test_x + ": examples of shape " + PerExample(f.test_x_header) +
                                   " differ from train_x.npy's " + PerExample(f.train_x_header));
  }
  if (PerExample(f.test_y_header) != PerExample(f.train_y_header)) {
    return Status::InvalidArgument(f.test_y + ": targets of shape " + PerExample(f.test_y_header) +
                                   " differ from train_y.npy's " + PerExample(f.train_y_header));
  }
  return f;
}

Status ParseNormalize(const std::string& text, const std::string& field, double* mean,
                     double* std) {
  const Status bad = Status::InvalidArgument(
      field + " (\"" + text.substr(0, 64) +
      "\") must be MEAN,STD: two finite numbers with STD > 0 (e.g. 0.286,0.353)");
  const size_t comma = text.find(',');
  if (comma == std::string::npos || text.size() > 64) return bad;
  const std::string a = text.substr(0, comma), b = text.substr(comma + 1);
  char* end = nullptr;
  *mean = std::strtod(a.c_str(), &end);
  if (a.empty() || *end != '\0' || !std::isfinite(*mean)) return bad;
  *std = std::strtod(b.c_str(), &end);
  if (b.empty() || *end != '\0' || !std::isfinite(*std) || !(*std > 0)) return bad;
  return Status::Ok();
}

}  // namespace cyclr
