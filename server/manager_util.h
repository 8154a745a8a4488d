// Small helpers the coordinator's managers share.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/limits.h"
#include "core/status.h"

namespace cyclr {

inline int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// NOT_FOUND for an unknown job name, worded the same by every manager (the name cut by Echo).
inline Status UnknownJob(const std::string& name) {
  return Status::NotFound("job " + limits::Echo(name) + " not found");
}

}  // namespace cyclr
