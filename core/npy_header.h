// The header of a NumPy `.npy` file (numpy.lib.format, versions 1.0, 2.0 and 3.0), read without
// NumPy: the coordinator checks a job's data files at launch from their headers alone, and the
// worker maps the data that follows. Standard library only.
//
// Accepted: C order; little-endian (or byte-order-free) uint8, int32, int64, float16, float32.
// Refused, each with one INVALID_ARGUMENT naming the file and the rule: a missing magic, another
// format version, a header that is not the dict numpy writes ('descr', 'fortran_order', 'shape'),
// Fortran order, other dtypes (structured, big-endian, float64, ...), a shape past limits, and a
// file shorter than its header says (truncated). No silent garbage: every byte of the header is
// parsed or refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cyclr {

enum class NpyDtype { kUint8, kInt32, kInt64, kFloat16, kFloat32 };

// "uint8", "int32", "int64", "float16", "float32".
const char* NpyDtypeName(NpyDtype dtype);
int64_t NpyItemSize(NpyDtype dtype);

struct NpyHeader {
  NpyDtype dtype = NpyDtype::kUint8;
  std::vector<int64_t> shape;  // () for a scalar
  int64_t data_offset = 0;     // bytes from the start of the file to the first element
  int64_t count() const;       // elements (product of shape; 1 for a scalar)
  int64_t data_bytes() const { return count() * NpyItemSize(dtype); }
  std::string ShapeString() const;  // "60000x28x28", "()" for a scalar
};

// The largest header numpy writes is a few hundred bytes; this bounds what is read and parsed.
inline constexpr int64_t kMaxNpyHeaderBytes = 1 << 16;
// The largest element count accepted (2^40: ~1 TB of uint8).
inline constexpr int64_t kMaxNpyElements = int64_t{1} << 40;

// Parses the header from the first bytes of a file (`prefix`: at least the whole header, or the
// whole file when shorter) whose size is `file_size`. `name` names the file in errors.
StatusOr<NpyHeader> ParseNpyHeader(std::string_view prefix, int64_t file_size,
                                   const std::string& name);

// Reads and parses the header of the file at `path` (only its first bytes are read). NOT_FOUND
// when the file does not exist or cannot be opened.
StatusOr<NpyHeader> ReadNpyHeader(const std::string& path);

}  // namespace cyclr
