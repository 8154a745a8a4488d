#include "worker/train/dataset.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>

namespace cyclr {
namespace {

constexpr double kMean = 0.2860;  // Fashion-MNIST training set, pixels in [0, 1]
constexpr double kStd = 0.3530;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

Status ReadExactly(gzFile f, void* out, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, 1 << 30));
    int got = gzread(f, static_cast<char*>(out) + done, chunk);
    if (got <= 0) {
      return Status::InvalidArgument(path + ": truncated IDX file (read " + std::to_string(done) +
                                     " of " + std::to_string(n) + " bytes)");
    }
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

uint32_t BigEndian(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

std::string SplitPrefix(Split split) { return split == Split::kTrain ? "train" : "t10k"; }

}  // namespace

StatusOr<IdxFile> ReadGzippedIdx(const std::string& path) {
  if (!std::ifstream(path).good()) return Status::NotFound(path + ": no such file");
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) return Status::NotFound(path + ": cannot open");
  uint8_t magic[4];
  CYCLR_RETURN_IF_ERROR(ReadExactly(f.get(), magic, 4, path));
  // IDX magic: two zero bytes, type 0x08 (unsigned byte), number of dimensions.
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
    return Status::InvalidArgument(path + ": not an unsigned-byte IDX file (bad magic)");
  }
  IdxFile idx;
  int64_t total = 1;
  for (int i = 0; i < magic[3]; ++i) {
    uint8_t b[4];
    CYCLR_RETURN_IF_ERROR(ReadExactly(f.get(), b, 4, path));
    idx.dims.push_back(BigEndian(b));
    total *= idx.dims.back();
  }
  idx.data.resize(static_cast<size_t>(total));
  CYCLR_RETURN_IF_ERROR(ReadExactly(f.get(), idx.data.data(), idx.data.size(), path));
  return idx;
}

StatusOr<Dataset> LoadFashionMnist(const std::string& dir, Split split, int64_t limit) {
  const std::string prefix = dir + "/" + SplitPrefix(split);
  CYCLR_ASSIGN_OR_RETURN(IdxFile images, ReadGzippedIdx(prefix + "-images-idx3-ubyte.gz"));
  CYCLR_ASSIGN_OR_RETURN(IdxFile labels, ReadGzippedIdx(prefix + "-labels-idx1-ubyte.gz"));
  if (images.dims.size() != 3 || labels.dims.size() != 1 || images.dims[0] != labels.dims[0]) {
    return Status::InvalidArgument(prefix + ": image and label files disagree on the count");
  }
  int64_t n = images.dims[0];
  if (limit > 0 && limit < n) n = limit;
  const int64_t h = images.dims[1], w = images.dims[2];
  Dataset ds;
  auto raw = torch::from_blob(images.data.data(), {n, 1, h, w}, torch::kUInt8);
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
