#include "server/state_rows.h"

#include <algorithm>
#include <cmath>

#include "core/limits.h"
#include "core/utf8.h"
#include "proto/proto_convert.h"
#include "server/job_spec_rules.h"

namespace cyclr {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Status Range(const std::string& field, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return Status::Ok();
  return Status::InvalidArgument(field + " (" + std::to_string(value) + ") must be between " +
                                 std::to_string(min) + " and " + std::to_string(max));
}

Status Text(const std::string& field, const std::string& value, size_t max) {
  if (value.size() <= max) return Status::Ok();
  return Status::InvalidArgument(field + " (" + limits::Echo(value) + ") must be at most " +
                                 std::to_string(max) + " bytes");
}

bool IsJobState(int64_t state) {
  return state >= v1::PENDING && state <= v1::STOPPED &&
         v1::JobState_IsValid(static_cast<int>(state));
}

// The aggregates kept in the snapshot blob.
Status CheckSnapshot(const v1::Job& s) {
  CYCLR_RETURN_IF_ERROR(Range("snapshot.epoch", s.epoch(), 0, limits::kMaxEpochs));
  if (!(std::isfinite(s.test_accuracy()) && s.test_accuracy() >= 0 && s.test_accuracy() <= 1)) {
    return Status::InvalidArgument("snapshot.test_accuracy (" + Num(s.test_accuracy()) +
                                   ") must be finite and in [0, 1]");
  }
  if (!std::isfinite(s.test_loss())) {
    return Status::InvalidArgument("snapshot.test_loss (" + Num(s.test_loss()) + ") must be finite");
  }
  if (!(std::isfinite(s.samples_per_second()) && s.samples_per_second() >= 0)) {
    return Status::InvalidArgument("snapshot.samples_per_second (" + Num(s.samples_per_second()) +
                                   ") must be finite and >= 0");
  }
  CYCLR_RETURN_IF_ERROR(Range("snapshot.restarts", s.restarts(), 0, limits::kMaxRestarts));
  CYCLR_RETURN_IF_ERROR(Range("snapshot.train_examples", s.train_examples(), 0, limits::kMaxStep));
  return Range("snapshot.schedule_version", s.schedule_version(), 0, limits::kMaxRevisionsPerJob);
}

Status CheckSpec(const JobRow& row, const v1::JobSpec& spec) {
  v1::JobSpec normalized = spec;
  Status s = NormalizeJobSpec(&normalized);
  if (!s.ok()) return s.WithContext("spec");
  if (spec.name() != row.name) {
    return Status::InvalidArgument("spec.name (" + limits::Echo(spec.name()) +
                                   ") must equal the row's name (" + limits::Echo(row.name) + ")");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<v1::Job> DecodeJobRow(const JobRow& row) {
  if (!IsValidJobName(row.name)) {
    return Status::InvalidArgument("name (" + limits::Echo(row.name) + ") is not a job name");
  }
  if (!IsJobState(row.state)) {
    return Status::InvalidArgument("state (" + std::to_string(row.state) +
                                   ") must be one of PENDING (1) .. STOPPED (5)");
  }
  CYCLR_RETURN_IF_ERROR(Range("global_step", row.global_step, 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(Range("total_steps", row.total_steps, 0, limits::kMaxStep));
  // UTF-8 first: the length error echoes the value, and a quarantined job serves that message.
  if (!IsUtf8(row.reason)) return Status::InvalidArgument("reason is not valid UTF-8");
  CYCLR_RETURN_IF_ERROR(Text("reason", row.reason, limits::kMaxReasonBytes));
  v1::Job job;
  if (!job.ParseFromString(row.snapshot)) {
    return Status::InvalidArgument("snapshot is not a serialized cyclr.v1.Job");
  }
  CYCLR_RETURN_IF_ERROR(CheckSnapshot(job));
  if (!job.mutable_spec()->ParseFromString(row.spec)) {
    return Status::InvalidArgument("spec is not a serialized cyclr.v1.JobSpec");
  }
  CYCLR_RETURN_IF_ERROR(CheckSpec(row, job.spec()));
  // Bytes no rule checked (fields of a newer version, or damage) are not served.
  job.DiscardUnknownFields();
  job.clear_ranks();
  job.set_name(row.name);
  job.set_state(static_cast<v1::JobState>(row.state));
  job.set_reason(row.reason);
  job.set_global_step(row.global_step);
  job.set_total_steps(row.total_steps);
  job.set_created_unix_ms(row.created_unix_ms);
  job.set_updated_unix_ms(row.updated_unix_ms);
  return job;
}

StatusOr<Revision> DecodeRevisionRow(const RevisionRow& row) {
  v1::Revision p;
  if (!p.ParseFromString(row.revision)) {
    return Status::InvalidArgument("revision is not a serialized cyclr.v1.Revision");
  }
  if (p.version() != row.version) {
    return Status::InvalidArgument("version (" + std::to_string(p.version()) +
                                   ") must equal its column (" + std::to_string(row.version) + ")");
  }
  if (p.effective_step() != row.effective_step) {
    return Status::InvalidArgument("effective_step (" + std::to_string(p.effective_step()) +
                                   ") must equal its column (" +
                                   std::to_string(row.effective_step) + ")");
  }
  if (row.applied_step) {
    CYCLR_RETURN_IF_ERROR(Range("applied_step", *row.applied_step, 0, limits::kMaxStep));
    p.set_applied_step(*row.applied_step);
  } else {
    p.clear_applied_step();
  }
  CYCLR_RETURN_IF_ERROR(Text("author", p.author(), limits::kMaxTextBytes));
  CYCLR_RETURN_IF_ERROR(Text("reason", p.reason(), limits::kMaxTextBytes));
  return FromProto(p);  // the spec's rules and the phase
}

Status DecodeTimeline(const std::vector<RevisionRow>& rows, Timeline* timeline) {
  if (rows.empty()) return Status::InvalidArgument("the job has no revision");
  if (rows.size() > static_cast<size_t>(limits::kMaxRevisionsPerJob)) {
    return Status::InvalidArgument("the job has " + std::to_string(rows.size()) +
                                   " revisions; at most " +
                                   std::to_string(limits::kMaxRevisionsPerJob) + " are allowed");
  }
  for (const RevisionRow& row : rows) {
    const std::string where = "revision " + std::to_string(row.version);
    StatusOr<Revision> rev = DecodeRevisionRow(row);
    if (!rev.ok()) return rev.status().WithContext(where);
    std::optional<int64_t> applied = rev->applied_step;
    rev->applied_step.reset();
    // Append and MarkApplied change nothing when they fail (the bad row's revision may stay
    // without its applied step when only that is bad).
    Status st = timeline->Append(*rev);
    if (st.ok() && applied) st = timeline->MarkApplied(rev->version, *applied);
    if (!st.ok()) return st.WithContext(where);
  }
  return Status::Ok();
}

v1::Job QuarantinedJob(const JobRow& row, const std::string& why) {
  v1::Job job;
  v1::JobSpec spec;
  if (spec.ParseFromString(row.spec)) *job.mutable_spec() = std::move(spec);
  job.set_name(row.name);
  job.set_state(v1::FAILED);
  job.set_reason(
      std::string(limits::CutUtf8("quarantined at recovery: " + why, limits::kMaxReasonBytes)));
  job.set_global_step(std::clamp<int64_t>(row.global_step, 0, limits::kMaxStep));
  job.set_total_steps(std::clamp<int64_t>(row.total_steps, 0, limits::kMaxStep));
  job.set_created_unix_ms(row.created_unix_ms);
  job.set_updated_unix_ms(row.updated_unix_ms);
  return job;
}

}  // namespace cyclr
