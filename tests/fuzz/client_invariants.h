// Invariants of what the CLI builds from flags and files: every field it was given holds the
// rule of client/job_field_rules.h (restated here from docs/limits.md), the JobSpec it would send
// survives the wire, and when the coordinator's rules accept it, theirs hold too.
#pragma once

#include <google/protobuf/descriptor.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "client/option_file.h"
#include "tests/fuzz/job_invariants.h"

namespace cyclr::fuzz {

inline void CheckGivenField(const v1::JobSpec& spec, const std::string& name,
                            const std::string& text) {
  using google::protobuf::FieldDescriptor;
  const FieldDescriptor* f = v1::JobSpec::descriptor()->FindFieldByName(name);
  FUZZ_REQUIRE(f != nullptr && name != "schedule", "accepted unknown field " + limits::Echo(name));
  const auto* r = spec.GetReflection();
  const std::string what = name + " = " + limits::Echo(text);
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string v = r->GetString(spec, f);
      FUZZ_REQUIRE(v == text, what + " stored as " + limits::Echo(v));
      if (name == "name") {
        FUZZ_REQUIRE(IsValidJobName(v), what);
      } else if (name == "data_dir" || name == "checkpoint_dir" || name == "resume_from" ||
                 name == "model_file" || name == "output_dir") {
        FUZZ_REQUIRE(v.size() <= limits::kMaxPathBytes, what);
      } else {
        FUZZ_REQUIRE(v.size() <= limits::kMaxTextBytes, what);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: {
      const int64_t v = f->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ? r->GetInt32(spec, f)
                        : f->cpp_type() == FieldDescriptor::CPPTYPE_INT64
                            ? r->GetInt64(spec, f)
                            : static_cast<int64_t>(r->GetUInt64(spec, f));
      FUZZ_REQUIRE(std::strtoll(text.c_str(), nullptr, 10) == v,
                   what + " stored as " + std::to_string(v));
      if (name == "workers") RequireInRange("workers", v, 1, limits::kMaxWorkersPerJob);
      if (name == "epochs") RequireInRange("epochs", v, 1, limits::kMaxEpochs);
      if (name == "batch_size") RequireInRange("batch_size", v, 1, INT32_MAX);
      if (name == "threads") RequireInRange("threads", v, 0, limits::kMaxThreads);
      if (name == "checkpoint_every") RequireInRange("checkpoint_every", v, 0, limits::kMaxStep);
      FUZZ_REQUIRE(v >= 0, what + ": negative");  // every integer field of a JobSpec
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double v = r->GetDouble(spec, f);
      FUZZ_REQUIRE(std::isfinite(v), what);
      if (name == "momentum") FUZZ_REQUIRE(v >= 0 && v < 1, what);
      if (name == "weight_decay") FUZZ_REQUIRE(v >= 0, what);
      if (name == "bucket_mb") FUZZ_REQUIRE(v > 0 && v <= 1024, what);
      if (name == "divergence_factor") FUZZ_REQUIRE(v == 0 || v > 1, what);
      if (name == "rollback_lr_factor") FUZZ_REQUIRE(v == 0 || (v > 0 && v < 1), what);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      FUZZ_REQUIRE(text == "true" || text == "false" || text == "1" || text == "0", what);
      FUZZ_REQUIRE(r->GetBool(spec, f) == (text == "true" || text == "1"), what);
      break;
    default:
      FUZZ_REQUIRE(false, what + ": a field type the CLI cannot set");
  }
}

// BuildJobSpec(job, schedule) returned `spec`.
inline void CheckBuiltJobSpec(const client::OptionMap& job, const ScheduleSpec& schedule,
                              const v1::JobSpec& spec) {
  for (const auto& [name, text] : job) CheckGivenField(spec, name, text);
  StatusOr<ScheduleSpec> sent = FromProto(spec.schedule());
  FUZZ_REQUIRE(sent.ok() && *sent == schedule, "the schedule sent differs from the one resolved");
  RequireWireSafe(spec, "the JobSpec the CLI sends");
  v1::JobSpec normalized = spec;
  if (NormalizeJobSpec(&normalized).ok()) CheckNormalizedJobSpec(normalized);
}

}  // namespace cyclr::fuzz
