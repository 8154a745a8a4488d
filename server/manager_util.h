// Small helpers the coordinator's managers share.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace cyclr {

inline int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// NOT_FOUND for an unknown job name, worded the same by every manager.
inline Status UnknownJob(const std::string& name) {
  return Status::NotFound("job \"" + name + "\" not found");
}

}  // namespace cyclr
