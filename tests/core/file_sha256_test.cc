// FileSha256 against the FIPS 180-2 test vectors and a file larger than its read buffer.
#include "core/file_sha256.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace cyclr {
namespace {

std::string WriteTemp(const std::string& bytes) {
  char path[] = "/tmp/cyclr-sha-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(FileSha256Test, MatchesKnownDigests) {
  const std::string abc = WriteTemp("abc");
  EXPECT_EQ(*FileSha256(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string empty = WriteTemp("");
  EXPECT_EQ(*FileSha256(empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // One million 'a' (FIPS 180-2 appendix B.3): crosses the 1 MiB read buffer's boundary.
  const std::string million = WriteTemp(std::string(1000000, 'a') + std::string(100000, 'a'));
  EXPECT_EQ(FileSha256(million)->size(), 64u);
  const std::string exact = WriteTemp(std::string(1000000, 'a'));
  EXPECT_EQ(*FileSha256(exact), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  for (const std::string& p : {abc, empty, million, exact}) unlink(p.c_str());
}

TEST(FileSha256Test, RefusesDevicesAndFilesPastTheLimit) {
  auto dev = FileSha256("/dev/zero");  // would never end
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dev.status().message().find("not a regular file"), std::string::npos);
  const std::string big = WriteTemp(std::string(100, 'x'));
  auto over = FileSha256(big, 99);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("100 bytes, more than the 99"), std::string::npos);
  EXPECT_TRUE(FileSha256(big, 100).ok());
  unlink(big.c_str());
}

TEST(FileSha256Test, NamesAMissingFile) {
  auto d = FileSha256("/nonexistent/model.pt");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("/nonexistent/model.pt"), std::string::npos);
}

}  // namespace
}  // namespace cyclr
