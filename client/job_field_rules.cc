#include "client/job_field_rules.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>

#include "core/job_name.h"
#include "core/limits.h"
#include "core/utf8.h"

namespace cyclr::client {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status Bad(const std::string& field, double value, const std::string& rule) {
  return Status::InvalidArgument(field + " (" + Num(value) + ") must be " + rule);
}

}  // namespace

IntRange JobIntRange(const std::string& field, IntRange type_range) {
  static const std::map<std::string, IntRange> kRanges = {
      {"workers", {1, limits::kMaxWorkersPerJob}},
      {"epochs", {1, limits::kMaxEpochs}},
      {"batch_size", {1, INT32_MAX}},
      {"threads", {0, limits::kMaxThreads}},
      {"train_limit", {0, INT64_MAX}},
      {"test_limit", {0, INT64_MAX}},
      {"checkpoint_every", {0, limits::kMaxStep}},
      {"max_steps", {0, limits::kMaxStep}},
      {"checkpoint_keep", {0, INT32_MAX}},
      {"max_restarts", {0, INT32_MAX}},
  };
  auto it = kRanges.find(field);
  if (it == kRanges.end()) return type_range;
  return {std::max(it->second.lo, type_range.lo), std::min(it->second.hi, type_range.hi)};
}

Status CheckJobDouble(const std::string& field, double v) {
  if (field == "momentum" && !(v >= 0.0 && v < 1.0)) return Bad(field, v, "in [0, 1)");
  if (field == "weight_decay" && !(v >= 0.0)) return Bad(field, v, ">= 0");
  if (field == "bucket_mb" && !(v > 0.0 && v <= 1024.0)) return Bad(field, v, "in (0, 1024]");
  if (field == "divergence_factor" && v != 0.0 && !(v > 1.0)) {
    return Bad(field, v, "> 1 (or 0 for the default 10)");
  }
  if (field == "rollback_lr_factor" && v != 0.0 && !(v > 0.0 && v < 1.0)) {
    return Bad(field, v, "in (0, 1) (or 0 for the default 0.5)");
  }
  return Status::Ok();
}

Status CheckJobString(const std::string& field, const std::string& value) {
  if (field == "name") return CheckJobName(value, "name");
  const bool path = field == "data_dir" || field == "checkpoint_dir" || field == "resume_from" ||
                    field == "init_from" ||
                    field == "model_file" || field == "output_dir";
  const size_t max = path ? limits::kMaxPathBytes : limits::kMaxTextBytes;
  if (value.size() > max) {
    return Status::InvalidArgument(field + " (" + limits::Echo(value) + ") must be at most " +
                                   std::to_string(max) + " bytes");
  }
  if (!IsUtf8(value)) {
    return Status::InvalidArgument(field + " (" + std::to_string(value.size()) +
                                   " bytes) must be valid UTF-8");
  }
  return Status::Ok();
}

}  // namespace cyclr::client
