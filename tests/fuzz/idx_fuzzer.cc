// Fuzzes the IDX readers (worker/train/idx_reader.h): the input is an IDX file. ParseIdx reads it
// from memory; ReadGzippedIdx reads the same bytes from a file (zlib passes plain files through)
// and must agree with it. An accepted file holds 1..kMaxIdxDims non-zero dimensions whose product
// is exactly the data read, copied from right after the header.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/limits.h"
#include "tests/fuzz/fuzz_util.h"
#include "worker/train/idx_reader.h"

namespace {

void CheckAccepted(const cyclr::IdxFile& idx, const uint8_t* data, size_t size) {
  using namespace cyclr;
  FUZZ_REQUIRE(!idx.dims.empty() && idx.dims.size() <= static_cast<size_t>(limits::kMaxIdxDims),
               std::to_string(idx.dims.size()) + " dimensions");
  int64_t product = 1;
  for (int64_t d : idx.dims) {
    FUZZ_REQUIRE(d >= 1 && d <= 0xFFFFFFFFll, "dimension " + std::to_string(d));
    product *= d;
    FUZZ_REQUIRE(product <= limits::kMaxIdxBytes, "more than kMaxIdxBytes");
  }
  FUZZ_REQUIRE(static_cast<int64_t>(idx.data.size()) == product,
               std::to_string(idx.data.size()) + " bytes for " + std::to_string(product));
  const size_t header = 4 + 4 * idx.dims.size();
  FUZZ_REQUIRE(header + idx.data.size() <= size, "more data than the file holds");
  FUZZ_REQUIRE(
      idx.data.empty() || std::memcmp(idx.data.data(), data + header, idx.data.size()) == 0,
      "data differs from the file's bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  StatusOr<IdxFile> parsed = ParseIdx(data, size, "f");
  if (parsed.ok()) {
    CheckAccepted(*parsed, data, size);
  } else {
    FUZZ_REQUIRE(parsed.status().code() == StatusCode::kInvalidArgument,
                 parsed.status().ToString());
  }
  // gzip input decompresses to other bytes: the two readers only agree on plain files.
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
  const std::string path = fuzz::WriteScratchFile(data, size, "idx");
  StatusOr<IdxFile> read = ReadGzippedIdx(path);
  FUZZ_REQUIRE(read.ok() == parsed.ok(), "ParseIdx says " + parsed.status().ToString() +
                                             ", ReadGzippedIdx says " + read.status().ToString());
  if (read.ok()) {
    FUZZ_REQUIRE(read->dims == parsed->dims && read->data == parsed->data,
                 "the readers disagree on the data");
  }
  return 0;
}
