// IDX parsing from memory and from gzipped files, with headers that lie about their sizes.
#include "worker/train/idx_reader.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace cyclr {
namespace {

using Bytes = std::vector<uint8_t>;

// Magic (unsigned byte, `dims.size()` dimensions), the big-endian sizes, then `data`.
Bytes Idx(const std::vector<uint32_t>& dims, const Bytes& data, uint8_t ndims_byte = 0) {
  Bytes out = {0, 0, 8, ndims_byte ? ndims_byte : static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

class IdxFileTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }
  // Writes `bytes` gzipped to a fresh temp file; returns its path.
  std::string WriteGz(const Bytes& bytes) {
    gzFile f = gzopen(path_.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return path_;
  }
  std::string path_ =
      std::filesystem::temp_directory_path() / ("cyclr-idx-" + std::to_string(::getpid()) + ".gz");
};

long MaxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST_F(IdxFileTest, HeaderClaimingMoreThanTheFileHoldsIsACleanErrorAndAllocatesLittle) {
  // 2^24 × 28 × 28 = 13 GB: under the 2^34 limit, so only the missing data can refuse it.
  std::string path = WriteGz(Idx({1u << 24, 28, 28}, {1, 2, 3}));
  EXPECT_LT(std::filesystem::file_size(path), 64u);
  const long before = MaxRssKb();
  auto idx = ReadGzippedIdx(path);
  const long grown_kb = MaxRssKb() - before;
  ASSERT_FALSE(idx.ok());
  EXPECT_EQ(idx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(idx.status().message(), path +
                                        ": truncated IDX file: header says 16777216\u00d728\u00d728"
                                        " = 13153337344 bytes, file holds 3");
  EXPECT_LT(grown_kb, 16 * 1024) << "reading a 3-byte payload grew the process by " << grown_kb
                                 << " kB";
}

TEST_F(IdxFileTest, HeaderOverTheSizeLimitIsRefusedBeforeReading) {
  // The bug report's file: 2^31 × 28 × 28 (1.7 TB) in a 58-byte gzip file.
  std::string path = WriteGz(Idx({1u << 31, 28, 28}, {}));
  auto idx = ReadGzippedIdx(path);
  ASSERT_FALSE(idx.ok());
  EXPECT_EQ(idx.status().message(), path +
                                        ": IDX header says 2147483648\u00d728\u00d728: more than "
                                        "17179869184 bytes (2^34), the most cyclr reads");
}

TEST_F(IdxFileTest, GzippedRoundTripIgnoresTrailingBytes) {
  Bytes data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  Bytes file = Idx({2, 3, 4}, data);
  file.insert(file.end(), {9, 9, 9});  // trailing garbage
  auto idx = ReadGzippedIdx(WriteGz(file));
  ASSERT_TRUE(idx.ok()) << idx.status().message();
  EXPECT_EQ(idx->dims, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(idx->data, data);
}

TEST_F(IdxFileTest, LargerThanOneChunkArrivesWhole) {
  Bytes data(3 * 1000 * 1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  auto idx = ReadGzippedIdx(WriteGz(Idx({3000, 1000}, data)));
  ASSERT_TRUE(idx.ok()) << idx.status().message();
  EXPECT_EQ(idx->data, data);
}

TEST_F(IdxFileTest, MissingFileAndBadGzipData) {
  EXPECT_EQ(ReadGzippedIdx("/nonexistent/x.gz").status().code(), StatusCode::kNotFound);
  // A gzip header followed by bytes that are no deflate stream.
  const Bytes bad = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  FILE* f = std::fopen(path_.c_str(), "wb");
  std::fwrite(bad.data(), 1, bad.size(), f);
  std::fclose(f);
  auto idx = ReadGzippedIdx(path_);
  ASSERT_FALSE(idx.ok());
  EXPECT_EQ(idx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(idx.status().message().find(path_ + ": "), std::string::npos) << idx.status().message();
}

TEST(IdxParseTest, BadHeadersNameTheRule) {
  struct Case {
    Bytes bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{0, 0}, "f: truncated IDX file: no IDX header (2 bytes)"},
      {{1, 2, 3, 4}, "f: not an unsigned-byte IDX file (bad magic)"},
      {{0, 0, 0x0d, 1, 0, 0, 0, 1, 0}, "f: not an unsigned-byte IDX file (bad magic)"},
      {Idx({}, {}), "f: IDX file has 0 dimensions; must be between 1 and 4"},
      {Idx({1, 1, 1, 1, 1}, {0}), "f: IDX file has 5 dimensions; must be between 1 and 4"},
      {Idx({10, 0, 28}, {}), "f: IDX dimension 1 is 0 (header says 10\u00d70\u00d728)"},
      {{0, 0, 8, 3, 0, 0, 0, 10, 0, 0},
       "f: truncated IDX file: header has 3 dimensions but only 6 of their 12 bytes"},
      {Idx({0xffffffffu, 0xffffffffu}, {}),
       "f: IDX header says 4294967295\u00d74294967295: more than 17179869184 bytes (2^34), "
       "the most cyclr reads"},
      {Idx({10, 28, 28}, {1, 2, 3}),
       "f: truncated IDX file: header says 10\u00d728\u00d728 = 7840 bytes, file holds 3"},
  };
  for (const Case& c : cases) {
    auto idx = ParseIdx(c.bytes.data(), c.bytes.size(), "f");
    ASSERT_FALSE(idx.ok()) << c.message;
    EXPECT_EQ(idx.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(idx.status().message(), c.message);
  }
}

TEST(IdxParseTest, ParsesFromMemory) {
  Bytes file = Idx({3}, {7, 8, 9, 10});  // one trailing byte
  auto idx = ParseIdx(file.data(), file.size(), "labels");
  ASSERT_TRUE(idx.ok()) << idx.status().message();
  EXPECT_EQ(idx->dims, (std::vector<int64_t>{3}));
  EXPECT_EQ(idx->data, (Bytes{7, 8, 9}));
}

}  // namespace
}  // namespace cyclr
