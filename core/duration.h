// Durations written by people on a command line: "90s", "15m", "12h", "7d", or "0".
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace cyclr {

// A decimal count followed by one unit (s, m, h, d); "0" alone is zero. At most
// limits::kMaxRetainMs. Anything else is INVALID_ARGUMENT naming `field` and the rule, e.g.
//   --retain ("7 days"): must be a number followed by s, m, h or d (e.g. 7d), or 0
StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& text,
                                                  const std::string& field);

}  // namespace cyclr
