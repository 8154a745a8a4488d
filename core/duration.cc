#include "core/duration.h"

#include <cstdint>

#include "core/limits.h"

namespace cyclr {

StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& text,
                                                  const std::string& field) {
  const std::string rule = field + " (" + limits::Echo(text) + "): ";
  if (text == "0") return std::chrono::milliseconds(0);
  int64_t unit_ms = 0;
  switch (text.empty() ? '\0' : text.back()) {
    case 's':
      unit_ms = 1000;
      break;
    case 'm':
      unit_ms = 60 * 1000;
      break;
    case 'h':
      unit_ms = 3600 * 1000;
      break;
    case 'd':
      unit_ms = 24 * 3600 * 1000;
      break;
    default:
      break;
  }
  const std::string digits = text.empty() ? "" : text.substr(0, text.size() - 1);
  bool ok = unit_ms > 0 && !digits.empty() && digits.size() <= 12;
  int64_t n = 0;
  for (char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) n = n * 10 + (c - '0');
  }
  if (!ok) {
    return Status::InvalidArgument(rule +
                                   "must be a number followed by s, m, h or d (e.g. 7d), "
                                   "or 0");
  }
  // Compared by division: n * unit_ms itself could overflow (10^12 days).
  if (n > limits::kMaxRetainMs / unit_ms) {
    return Status::InvalidArgument(rule + "must be at most 3650d");
  }
  return std::chrono::milliseconds(n * unit_ms);
}

}  // namespace cyclr
