// HOST:PORT addresses given on a command line or in a file, checked once for every program.
//
// Accepted: "host:port", "1.2.3.4:port", "[::1]:port", with port a decimal in [0, 65535] (0 only
// where `allow_zero`: a listening address that lets the kernel pick). The host is not resolved.
// Anything else is INVALID_ARGUMENT naming the field and the rule, e.g.
//   --listen ("127.0.0.1:83607"): port 83607 must be between 0 and 65535
#pragma once

#include <string>

#include "core/status.h"

namespace cyclr {

struct HostPort {
  std::string host;  // as written, brackets of an IPv6 literal included
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

StatusOr<HostPort> ParseHostPort(const std::string& text, const std::string& field,
                                 bool allow_zero = false);

}  // namespace cyclr
