#include "worker/train/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "core/limits.h"

namespace cyclr {
namespace {

constexpr size_t kMagicBytes = 4;
constexpr size_t kChunkBytes = size_t{1} << 20;  // one gzread at a time, and one growth step

uint32_t BigEndian(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

// What the header claims: the dimensions and their product, checked against the limits.
struct IdxHeader {
  std::vector<int64_t> dims;
  int64_t data_bytes = 0;
  size_t header_bytes = 0;

  std::string Describe() const {
    std::string out;
    for (int64_t d : dims) out += (out.empty() ? "" : "\u00d7") + std::to_string(d);
    return out;
  }
};

Status Truncated(const std::string& name, const std::string& what) {
  return Status::InvalidArgument(name + ": truncated IDX file: " + what);
}

// Checks the magic; returns the number of dimensions.
StatusOr<int> ParseMagic(const uint8_t* magic, const std::string& name) {
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08) {
    return Status::InvalidArgument(name + ": not an unsigned-byte IDX file (bad magic)");
  }
  const int ndims = magic[3];
  if (ndims == 0 || ndims > limits::kMaxIdxDims) {
    return Status::InvalidArgument(name + ": IDX file has " + std::to_string(ndims) +
                                   " dimensions; must be between 1 and " +
                                   std::to_string(limits::kMaxIdxDims));
  }
  return ndims;
}

// `sizes` holds 4 bytes per dimension.
StatusOr<IdxHeader> ParseDims(const uint8_t* sizes, int ndims, const std::string& name) {
  IdxHeader h;
  h.header_bytes = kMagicBytes + 4 * static_cast<size_t>(ndims);
  h.data_bytes = 1;
  for (int i = 0; i < ndims; ++i) h.dims.push_back(BigEndian(sizes + 4 * i));
  for (int i = 0; i < ndims; ++i) {
    if (h.dims[i] == 0) {
      return Status::InvalidArgument(name + ": IDX dimension " + std::to_string(i) +
                                     " is 0 (header says " + h.Describe() + ")");
    }
  }
  for (int64_t d : h.dims) {
    // Divide before multiplying: sizes up to 2^32 each would overflow int64 in four steps.
    if (h.data_bytes > limits::kMaxIdxBytes / d) {
      return Status::InvalidArgument(name + ": IDX header says " + h.Describe() + ": more than " +
                                     std::to_string(limits::kMaxIdxBytes) +
                                     " bytes (2^34), the most cyclr reads");
    }
    h.data_bytes *= d;
  }
  return h;
}

Status CheckComplete(const IdxHeader& h, uint64_t held, const std::string& name) {
  if (held >= static_cast<uint64_t>(h.data_bytes)) return Status::Ok();
  return Truncated(name, "header says " + h.Describe() + " = " + std::to_string(h.data_bytes) +
                             " bytes, file holds " + std::to_string(held));
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads up to `n` bytes; fewer only at the end of the file. A decompression error is an error.
StatusOr<size_t> ReadSome(gzFile f, uint8_t* out, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    int got = gzread(f, out + done, static_cast<unsigned>(std::min(n - done, kChunkBytes)));
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      return Status::InvalidArgument(path + ": not a readable gzip file (" +
                                     std::string(msg ? msg : "unknown error") + ")");
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

StatusOr<IdxHeader> ReadHeader(gzFile f, const std::string& path) {
  uint8_t magic[kMagicBytes];
  CYCLR_ASSIGN_OR_RETURN(size_t got, ReadSome(f, magic, sizeof magic, path));
  if (got < sizeof magic) {
    return Truncated(path, "no IDX header (" + std::to_string(got) + " bytes)");
  }
  CYCLR_ASSIGN_OR_RETURN(int ndims, ParseMagic(magic, path));
  uint8_t sizes[4 * limits::kMaxIdxDims];
  const size_t want = 4 * static_cast<size_t>(ndims);
  CYCLR_ASSIGN_OR_RETURN(got, ReadSome(f, sizes, want, path));
  if (got < want) {
    return Truncated(path, "header has " + std::to_string(ndims) + " dimensions but only " +
                               std::to_string(got) + " of their " + std::to_string(want) +
                               " bytes");
  }
  return ParseDims(sizes, ndims, path);
}

}  // namespace

StatusOr<IdxFile> ParseIdx(const uint8_t* bytes, size_t size, const std::string& name) {
  if (size < kMagicBytes) {
    return Truncated(name, "no IDX header (" + std::to_string(size) + " bytes)");
  }
  CYCLR_ASSIGN_OR_RETURN(int ndims, ParseMagic(bytes, name));
  const size_t want = kMagicBytes + 4 * static_cast<size_t>(ndims);
  if (size < want) {
    return Truncated(name, "header has " + std::to_string(ndims) + " dimensions but only " +
                               std::to_string(size - kMagicBytes) + " of their " +
                               std::to_string(want - kMagicBytes) + " bytes");
  }
  CYCLR_ASSIGN_OR_RETURN(IdxHeader h, ParseDims(bytes + kMagicBytes, ndims, name));
  CYCLR_RETURN_IF_ERROR(CheckComplete(h, size - h.header_bytes, name));
  IdxFile idx;
  idx.dims = std::move(h.dims);
  const uint8_t* data = bytes + h.header_bytes;
  idx.data.assign(data, data + h.data_bytes);
  return idx;
}

StatusOr<IdxFile> ReadGzippedIdx(const std::string& path) {
  if (!std::ifstream(path).good()) return Status::NotFound(path + ": no such file");
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) return Status::NotFound(path + ": cannot open");
  CYCLR_ASSIGN_OR_RETURN(IdxHeader h, ReadHeader(f.get(), path));
  IdxFile idx;
  const size_t total = static_cast<size_t>(h.data_bytes);
  // Grow by what arrived, never by what the header claims: a 58-byte file saying 2^33 bytes
  // costs one chunk of memory, not 8 GiB.
  while (idx.data.size() < total) {
    const size_t before = idx.data.size();
    idx.data.resize(before + std::min(total - before, kChunkBytes));
    CYCLR_ASSIGN_OR_RETURN(
        size_t got, ReadSome(f.get(), idx.data.data() + before, idx.data.size() - before, path));
    idx.data.resize(before + got);
    if (got == 0) break;
  }
  CYCLR_RETURN_IF_ERROR(CheckComplete(h, idx.data.size(), path));
  idx.dims = std::move(h.dims);
  return idx;
}

}  // namespace cyclr
