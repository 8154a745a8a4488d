// IDX files (the MNIST / Fashion-MNIST format), parsed without trusting their header.
//
// Layout: two zero bytes, a type byte (0x08: unsigned byte, the only type cyclr reads), the
// number of dimensions D, then D big-endian uint32 sizes, then the data (the product of the sizes,
// in bytes). A hostile or broken file may claim any sizes, so nothing is allocated from the
// header alone: the data buffer grows only as bytes actually arrive. Refused, as INVALID_ARGUMENT
// naming the file and the rule:
//   - a bad magic, 0 dimensions or more than limits::kMaxIdxDims, a size of 0;
//   - a product over limits::kMaxIdxBytes (2^34 bytes);
//   - less data than the header claims: "PATH: truncated IDX file: header says 10×28×28 =
//     7840 bytes, file holds 3".
// Bytes after the data are ignored. This file does not depend on LibTorch, so a fuzzer can link
// it alone (tests/fuzz).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr {

struct IdxFile {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Parses an IDX file held in memory; `name` (a path) prefixes every error.
StatusOr<IdxFile> ParseIdx(const uint8_t* bytes, size_t size, const std::string& name);

// Reads a gzipped (or plain: zlib reads those too) IDX file, in chunks. NOT_FOUND for a missing
// or unreadable file; INVALID_ARGUMENT as above, or for gzip data that does not decompress.
StatusOr<IdxFile> ReadGzippedIdx(const std::string& path);

}  // namespace cyclr
