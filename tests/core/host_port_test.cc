#include "core/host_port.h"

#include <gtest/gtest.h>

#include "core/limits.h"

namespace cyclr {
namespace {

TEST(HostPort, AcceptsHostsAndIpv6Literals) {
  StatusOr<HostPort> a = ParseHostPort("127.0.0.1:7070", "--coordinator");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7070);
  StatusOr<HostPort> b = ParseHostPort("[::1]:65535", "--coordinator");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "[::1]");
  EXPECT_EQ(b->ToString(), "[::1]:65535");
  EXPECT_TRUE(ParseHostPort("coordinator.default.svc:7070", "x").ok());
  EXPECT_TRUE(ParseHostPort("0.0.0.0:0", "--listen", /*allow_zero=*/true).ok());
}

TEST(HostPort, RefusesPortsOutOfRangeNamingTheField) {
  StatusOr<HostPort> a = ParseHostPort("127.0.0.1:83607", "--listen", true);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(),
            "--listen (\"127.0.0.1:83607\"): port 83607 must be between 0 and 65535");
  EXPECT_FALSE(ParseHostPort("127.0.0.1:0", "--coordinator").ok());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:-1", "x").ok());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:", "x").ok());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:99999999999999999999", "x").ok());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:7o70", "x").ok());
}

TEST(HostPort, RefusesMalformedHosts) {
  EXPECT_FALSE(ParseHostPort("7070", "x").ok());
  EXPECT_FALSE(ParseHostPort(":7070", "x").ok());
  EXPECT_FALSE(ParseHostPort("::1:7070", "x").ok());
  EXPECT_FALSE(ParseHostPort("[::1:7070", "x").ok());
  EXPECT_FALSE(ParseHostPort("a b:7070", "x").ok());
  EXPECT_FALSE(ParseHostPort("unix:/tmp/x:1", "x").ok());
}

TEST(HostPort, EchoCutsLongValues) {
  std::string big(10240, 'a');
  StatusOr<HostPort> a = ParseHostPort(big, "--coordinator");
  ASSERT_FALSE(a.ok());
  EXPECT_LT(a.status().message().size(), 300u);
  EXPECT_NE(a.status().message().find("(10240 bytes)"), std::string::npos);
  EXPECT_EQ(limits::Echo("a\nb"), "\"a?b\"");
}

}  // namespace
}  // namespace cyclr
