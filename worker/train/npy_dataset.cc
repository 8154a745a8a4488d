#include "worker/train/npy_dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace cyclr {
namespace {

// A read-only mapping of a whole file, unmapped when the last tensor pointing into it is freed.
class Mapping {
 public:
  static StatusOr<std::shared_ptr<Mapping>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::NotFound(path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Status::Internal("stat " + path + ": " + std::strerror(errno));
    }
    void* p = st.st_size > 0 ? ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                                      MAP_SHARED, fd, 0)
                             : nullptr;
    const int err = errno;
    ::close(fd);
    if (p == MAP_FAILED) return Status::Internal("mmap " + path + ": " + std::strerror(err));
    return std::shared_ptr<Mapping>(new Mapping(p, static_cast<size_t>(st.st_size)));
  }
  ~Mapping() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  char* data() const { return static_cast<char*>(data_); }
  size_t size() const { return size_; }

 private:
  Mapping(void* data, size_t size) : data_(data), size_(size) {}
  void* data_;
  size_t size_;
};

torch::ScalarType TorchType(NpyDtype d) {
  switch (d) {
    case NpyDtype::kUint8: return torch::kUInt8;
    case NpyDtype::kInt32: return torch::kInt32;
    case NpyDtype::kInt64: return torch::kInt64;
    case NpyDtype::kFloat16: return torch::kFloat16;
    case NpyDtype::kFloat32: return torch::kFloat32;
  }
  return torch::kUInt8;
}

// The first `n` examples of the file as a tensor over its mapping (no copy).
StatusOr<torch::Tensor> Map(const std::string& path, const NpyHeader& h, int64_t n) {
  CYCLR_ASSIGN_OR_RETURN(std::shared_ptr<Mapping> m, Mapping::Open(path));
  // The header was checked against the file's size when it was read; the file may have been
  // replaced since, so check the mapping again.
  if (static_cast<int64_t>(m->size()) < h.data_offset + h.data_bytes()) {
    return Status::InvalidArgument(path + ": changed while loading (now shorter than its header "
                                          "says)");
  }
  std::vector<int64_t> shape = h.shape;
  shape[0] = n;
  if (n == 0) return torch::empty(shape, TorchType(h.dtype));
  return torch::from_blob(
      m->data() + h.data_offset, shape, [m](void*) mutable { m.reset(); },
      torch::TensorOptions().dtype(TorchType(h.dtype)));
}

}  // namespace

StatusOr<Dataset> LoadNpyDataset(const NpyDatasetFiles& files, Split split,
                                 const NpyLoadOptions& options) {
  Dataset ds;
  const bool train = split == Split::kTrain;
  if (!train && !files.has_test()) return ds;
  const std::string& x_path = train ? files.train_x : files.test_x;
  const std::string& y_path = train ? files.train_y : files.test_y;
  const NpyHeader& xh = train ? files.train_x_header : files.test_x_header;
  const NpyHeader& yh = train ? files.train_y_header : files.test_y_header;
  int64_t n = xh.shape[0];
  if (options.limit > 0 && options.limit < n) n = options.limit;
  CYCLR_ASSIGN_OR_RETURN(ds.images, Map(x_path, xh, n));
  CYCLR_ASSIGN_OR_RETURN(torch::Tensor y, Map(y_path, yh, n));
  if (options.loss == "mse") {
    ds.labels = y.to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
  } else {
    ds.labels = y.to(torch::kInt64, /*non_blocking=*/false, /*copy=*/true);
    if (n > 0 && ds.labels.min().item<int64_t>() < 0) {
      const int64_t at = ds.labels.lt(0).nonzero()[0][0].item<int64_t>();
      return Status::InvalidArgument(y_path + ": label " +
                                     std::to_string(ds.labels[at].item<int64_t>()) + " at index " +
                                     std::to_string(at) + " is negative; class ids start at 0");
    }
  }
  if (xh.dtype == NpyDtype::kUint8) ds.scale = 1.0 / 255.0;
  if (options.normalize) {
    ds.mean = options.mean;
    ds.std = options.std;
  }
  return ds;
}

}  // namespace cyclr
