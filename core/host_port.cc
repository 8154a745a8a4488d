#include "core/host_port.h"

#include "core/limits.h"

namespace cyclr {
namespace {

Status Bad(const std::string& field, const std::string& text, const std::string& rule) {
  return Status::InvalidArgument(field + " (" + limits::Echo(text) + "): " + rule);
}

}  // namespace

StatusOr<HostPort> ParseHostPort(const std::string& text, const std::string& field,
                                 bool allow_zero) {
  const std::string form = "must be HOST:PORT (e.g. 127.0.0.1:7070 or [::1]:7070)";
  if (text.size() > limits::kMaxTextBytes) return Bad(field, text, form);
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return Bad(field, text, form);
  HostPort hp;
  hp.host = text.substr(0, colon);
  if (hp.host.front() == '[') {
    if (hp.host.size() < 3 || hp.host.back() != ']') return Bad(field, text, form);
  } else if (hp.host.find(':') != std::string::npos) {
    return Bad(field, text, "an IPv6 host must be in brackets, e.g. [::1]:7070");
  }
  for (char c : hp.host) {
    if (c <= ' ' || c == '/' || c == '@' || c == '\x7f') return Bad(field, text, form);
  }
  std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5) {
    return Bad(field, text, "port " + limits::Echo(port) + " must be between " +
                                (allow_zero ? "0" : "1") + " and 65535");
  }
  long value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Bad(field, text, "port " + limits::Echo(port) +
                                                        " must be a decimal number");
    value = value * 10 + (c - '0');
  }
  if (value > 65535 || (value == 0 && !allow_zero)) {
    return Bad(field, text, "port " + port + " must be between " + (allow_zero ? "0" : "1") +
                                " and 65535");
  }
  hp.port = static_cast<int>(value);
  return hp;
}

}  // namespace cyclr
