// Invariants of a JobSpec that the coordinator accepted (NormalizeJobSpec), written from
// docs/limits.md and server/job_spec_rules.h, and of any message the coordinator sends back.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>

#include <cmath>
#include <string>

#include "core/limits.h"
#include "cyclr/v1/job.pb.h"
#include "proto/proto_convert.h"
#include "server/job_spec_rules.h"
#include "tests/fuzz/spec_invariants.h"

namespace cyclr::fuzz {

// Protobuf logs every non-UTF-8 string it parses; the fuzzers check the outcome instead. Call
// from LLVMFuzzerInitialize.
inline void QuietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

// A message the coordinator stores or sends: it serializes to bytes that parse back to it (so
// every string is UTF-8), and it carries no unknown fields (a client's extra bytes would be
// stored and served back in every GetJob/ListJobs, past the size budget of docs/limits.md).
template <typename M>
void RequireWireSafe(const M& m, const char* what) {
  std::string bytes;
  FUZZ_REQUIRE(m.SerializeToString(&bytes), std::string(what) + " does not serialize");
  M back;
  FUZZ_REQUIRE(back.ParseFromString(bytes),
               std::string(what) + " does not parse back (a string is not UTF-8?)");
  FUZZ_REQUIRE(back.SerializeAsString() == bytes, std::string(what) + " changes on a round trip");
  FUZZ_REQUIRE(m.GetReflection()->GetUnknownFields(m).empty(),
               std::string(what) + " keeps unknown fields");
}

// `s` passed NormalizeJobSpec: every documented limit holds, its schedule is canonical, and
// normalizing again changes nothing.
inline void CheckNormalizedJobSpec(const v1::JobSpec& s) {
  FUZZ_REQUIRE(IsValidJobName(s.name()), "name " + limits::Echo(s.name()));
  RequireInRange("workers", s.workers(), 1, limits::kMaxWorkersPerJob);
  RequireInRange("epochs", s.epochs(), 1, limits::kMaxEpochs);
  RequireInRange("batch_size", s.batch_size(), 1, limits::kMaxBatchSize);
  RequireInRange("train_limit", s.train_limit(), 0, limits::kMaxStep);
  RequireInRange("test_limit", s.test_limit(), 0, limits::kMaxStep);
  RequireInRange("threads", s.threads(), 0, limits::kMaxThreads);
  RequireInRange("checkpoint_every", s.checkpoint_every(), 0, limits::kMaxStep);
  RequireInRange("checkpoint_keep", s.checkpoint_keep(), 0, limits::kMaxCheckpointKeep);
  RequireInRange("max_restarts", s.max_restarts(), 0, limits::kMaxRestarts);
  FUZZ_REQUIRE(s.momentum() >= 0 && s.momentum() < 1, "momentum " + FormatDouble(s.momentum()));
  FUZZ_REQUIRE(std::isfinite(s.weight_decay()) && s.weight_decay() >= 0,
               "weight_decay " + FormatDouble(s.weight_decay()));
  FUZZ_REQUIRE(s.bucket_mb() > 0 && s.bucket_mb() <= 1024,
               "bucket_mb " + FormatDouble(s.bucket_mb()));
  FUZZ_REQUIRE(s.divergence_factor() == 0 ||
                   (std::isfinite(s.divergence_factor()) && s.divergence_factor() > 1),
               "divergence_factor " + FormatDouble(s.divergence_factor()));
  FUZZ_REQUIRE(s.rollback_lr_factor() >= 0 && s.rollback_lr_factor() < 1,
               "rollback_lr_factor " + FormatDouble(s.rollback_lr_factor()));
  for (const std::string* path : {&s.data_dir(), &s.checkpoint_dir(), &s.resume_from(),
                                  &s.model_file(), &s.output_dir()}) {
    FUZZ_REQUIRE(path->size() <= limits::kMaxPathBytes,
                 "a path of " + std::to_string(path->size()) + " bytes");
  }
  for (const std::string* text : {&s.model(), &s.dataset(), &s.optimizer(), &s.backend(),
                                  &s.launcher(), &s.divergence_policy(), &s.loss(),
                                  &s.normalize(), &s.model_sha256()}) {
    FUZZ_REQUIRE(text->size() <= limits::kMaxEnumBytes, "text " + limits::Echo(*text));
  }
  FUZZ_REQUIRE(s.has_schedule(), "no schedule");
  StatusOr<ScheduleSpec> schedule = FromProto(s.schedule());
  FUZZ_REQUIRE(schedule.ok(), "schedule: " + schedule.status().message());
  CheckAcceptedSpec(*schedule);
  FUZZ_REQUIRE(ToProto(*schedule).SerializeAsString() == s.schedule().SerializeAsString(),
               "the schedule is not in canonical form");
  RequireWireSafe(s, "the normalized JobSpec");
  v1::JobSpec again = s;
  Status st = NormalizeJobSpec(&again);
  FUZZ_REQUIRE(st.ok(), "normalizing twice fails: " + st.message());
  FUZZ_REQUIRE(again.SerializeAsString() == s.SerializeAsString(), "normalizing twice changes it");
}

}  // namespace cyclr::fuzz
