// core/limits.h's helpers: Echo cuts a value for an error message, CutUtf8 never splits a UTF-8
// sequence (the worker's error and echoed values end up in proto3 strings).
#include "core/limits.h"

#include <gtest/gtest.h>

namespace cyclr {
namespace {

TEST(LimitsTest, EchoQuotesAndCuts) {
  EXPECT_EQ(limits::Echo("abc"), "\"abc\"");
  EXPECT_EQ(limits::Echo("a\nb"), "\"a?b\"");
  std::string echoed = limits::Echo(std::string(10240, 'x'));
  EXPECT_EQ(echoed, "\"" + std::string(limits::kMaxEchoBytes, 'x') + "...\" (10240 bytes)");
}

TEST(LimitsTest, CutsNeverSplitAUtf8Sequence) {
  const std::string e_acute = "\xc3\xa9";  // 2 bytes
  std::string s = std::string(limits::kMaxEchoBytes - 1, 'a') + e_acute + "zz";
  std::string echoed = limits::Echo(s);
  EXPECT_EQ(echoed.substr(0, limits::kMaxEchoBytes + 1),
            "\"" + std::string(limits::kMaxEchoBytes - 1, 'a') + ".");
  EXPECT_EQ(limits::CutUtf8(s, limits::kMaxEchoBytes).size(), limits::kMaxEchoBytes - 1);
  EXPECT_EQ(limits::CutUtf8(s, limits::kMaxEchoBytes + 1).size(), limits::kMaxEchoBytes + 1);
  EXPECT_EQ(limits::CutUtf8("short", 100), "short");
  const std::string euro = "\xe2\x82\xac";  // 3 bytes
  EXPECT_EQ(limits::CutUtf8(euro + euro, 5), euro);
  EXPECT_EQ(limits::CutUtf8(euro, 2), "");
}

}  // namespace
}  // namespace cyclr
