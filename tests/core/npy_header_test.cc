// ParseNpyHeader on headers built byte for byte as numpy.lib.format writes them (versions 1.0,
// 2.0, 3.0), and on every refusal: each must fail with one message naming the rule, never parse
// garbage. tests/worker/train/npy_dataset_test.cc reads files written by numpy itself.
#include "core/npy_header.h"

#include <gtest/gtest.h>

#include <string>

namespace cyclr {
namespace {

// A .npy prefix: magic, version, header length, the dict padded with spaces to a multiple of 64
// and ended by '\n' (as numpy pads), then `data_bytes` zero bytes.
std::string Npy(const std::string& dict, int major = 1, int64_t data_bytes = 0,
                size_t pad_to = 64) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((8 + len_bytes + header.size() + 1) % pad_to != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(static_cast<size_t>(data_bytes), '\0');
}

StatusOr<NpyHeader> Parse(const std::string& file) {
  return ParseNpyHeader(file, static_cast<int64_t>(file.size()), "x.npy");
}

TEST(NpyHeaderTest, ReadsVersionOneAsNumpyWritesIt) {
  auto h = Parse(Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }", 1, 12));
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->dtype, NpyDtype::kUint8);
  EXPECT_EQ(h->shape, (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(h->data_offset, 128);  // 10 + 61 bytes of dict, padded to a multiple of 64
  EXPECT_EQ(h->data_bytes(), 12);
  EXPECT_EQ(h->ShapeString(), "3x2x2");
}

TEST(NpyHeaderTest, ReadsEveryDtypeAndOneDimensionalShapes) {
  const std::pair<const char*, NpyDtype> cases[] = {{"<i4", NpyDtype::kInt32},
                                                    {"<i8", NpyDtype::kInt64},
                                                    {"<f2", NpyDtype::kFloat16},
                                                    {"<f4", NpyDtype::kFloat32},
                                                    {"<u1", NpyDtype::kUint8}};
  for (auto [descr, dtype] : cases) {
    auto h = Parse(Npy(std::string("{'descr': '") + descr +
                           "', 'fortran_order': False, 'shape': (5,), }",
                       1, 5 * NpyItemSize(dtype)));
    ASSERT_TRUE(h.ok()) << descr << ": " << h.status().message();
    EXPECT_EQ(h->dtype, dtype) << descr;
    EXPECT_EQ(h->shape, std::vector<int64_t>{5});
  }
}

TEST(NpyHeaderTest, ReadsVersionsTwoAndThreeAndHeadersLongerThan128Bytes) {
  // A header past 128 bytes (numpy writes v1 up to 65535; the length field is what matters).
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" +
                           std::string(200, ' ');
  for (int major : {1, 2, 3}) {
    auto h = Parse(Npy(dict, major, 24));
    ASSERT_TRUE(h.ok()) << major << ": " << h.status().message();
    EXPECT_EQ(h->shape, (std::vector<int64_t>{2, 3}));
    EXPECT_GT(h->data_offset, 128);
    EXPECT_EQ(h->data_offset % 64, 0);
  }
}

TEST(NpyHeaderTest, AcceptsKeysInAnyOrderScalarsAndOldPaddingRules) {
  auto h = Parse(Npy("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<i8\"}", 1, 8, 16));
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_TRUE(h->shape.empty());
  EXPECT_EQ(h->count(), 1);
  EXPECT_EQ(h->ShapeString(), "()");
  auto empty = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"));
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->count(), 0);
}

// Each refusal: INVALID_ARGUMENT and a message naming the file and containing `rule`.
void ExpectRefused(const std::string& file, const std::string& rule) {
  auto h = Parse(file);
  ASSERT_FALSE(h.ok()) << "accepted; expected: " << rule;
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("x.npy"), std::string::npos) << h.status().message();
  EXPECT_NE(h.status().message().find(rule), std::string::npos) << h.status().message();
}

TEST(NpyHeaderTest, RefusesWhatItCannotReadFaithfully) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  ExpectRefused("PK\x03\x04 a zip file", "not a .npy file");
  ExpectRefused(Npy(ok, 4, 24), "version 4.0 is not supported");
  ExpectRefused(Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 1, 24),
                "Fortran order");
  ExpectRefused(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 1, 48),
                "dtype '<f8' is not supported");
  ExpectRefused(Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 1, 24),
                "dtype '>f4' is not supported");
  ExpectRefused(Npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 1, 8),
                "structured dtypes");
  ExpectRefused(Npy("{'descr': '<f4', 'shape': (2, 3), }", 1, 24), "needs the keys");
  ExpectRefused(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 1, 24),
                "unexpected or repeated key 'x'");
  ExpectRefused(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 1, 24),
                "non-negative integer");
  ExpectRefused(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", 1, 24),
                "must be a tuple");
  ExpectRefused(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } junk", 1, 24),
                "text after '}'");
  ExpectRefused(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576, 2), }"),
                "elements");
}

TEST(NpyHeaderTest, RefusesTruncatedFiles) {
  const std::string file =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 1, 24);
  ExpectRefused(file.substr(0, file.size() - 1), "truncated: its header says 2x3 float32");
  ExpectRefused(file.substr(0, 40), "ends inside its header");
  ExpectRefused(file.substr(0, 9), "truncated");
}

TEST(NpyHeaderTest, ReadNpyHeaderRefusesDevices) {
  auto h = ReadNpyHeader("/dev/zero");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("not a regular file"), std::string::npos);
}

TEST(NpyHeaderTest, ReadNpyHeaderNamesAMissingFile) {
  auto h = ReadNpyHeader("/nonexistent/train_x.npy");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kNotFound);
  EXPECT_NE(h.status().message().find("/nonexistent/train_x.npy"), std::string::npos);
}

}  // namespace
}  // namespace cyclr
