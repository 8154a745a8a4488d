#include "server/request_limits.h"

#include <cmath>
#include <string>

#include "core/limits.h"
#include "server/job_spec_rules.h"

namespace cyclr {
namespace {

using limits::Echo;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Status Name(const std::string& field, const std::string& value) {
  if (IsValidJobName(value)) return Status::Ok();
  return Status::InvalidArgument(field + " (" + Echo(value) +
                                 ") must be a job name: [a-z0-9][a-z0-9-]{0,62}");
}

Status Text(const std::string& field, const std::string& value, size_t max) {
  if (value.size() <= max) return Status::Ok();
  return Status::InvalidArgument(field + " (" + Echo(value) + ") must be at most " +
                                 std::to_string(max) + " bytes");
}

Status Range(const std::string& field, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return Status::Ok();
  return Status::InvalidArgument(field + " (" + std::to_string(value) + ") must be between " +
                                 std::to_string(min) + " and " + std::to_string(max));
}

Status Count(const std::string& field, int size, int max) {
  if (size <= max) return Status::Ok();
  return Status::InvalidArgument(field + " has " + std::to_string(size) + " entries; at most " +
                                 std::to_string(max) + " are allowed");
}

Status Finite(const std::string& field, double value) {
  if (std::isfinite(value)) return Status::Ok();
  return Status::InvalidArgument(field + " (" + Num(value) + ") must be a finite number");
}

Status FiniteNonNegative(const std::string& field, double value) {
  CYCLR_RETURN_IF_ERROR(Finite(field, value));
  if (value >= 0) return Status::Ok();
  return Status::InvalidArgument(field + " (" + Num(value) + ") must be >= 0");
}

Status StoreKey(const std::string& field, const std::string& key) {
  if (key.empty()) return Status::InvalidArgument(field + " must not be empty");
  return Text(field, key, limits::kMaxStoreKeyBytes);
}

std::string At(const char* list, int i, const char* field) {
  return std::string(list) + "[" + std::to_string(i) + "]." + field;
}

Status CheckStep(const v1::StepReport& s, int i) {
  // A finished step s makes the global step s + 1, which must stay <= kMaxStep.
  CYCLR_RETURN_IF_ERROR(Range(At("steps", i, "step"), s.step(), 0, limits::kMaxStep - 1));
  CYCLR_RETURN_IF_ERROR(Range(At("steps", i, "epoch"), s.epoch(), 0, limits::kMaxEpochs));
  CYCLR_RETURN_IF_ERROR(Finite(At("steps", i, "lr"), s.lr()));
  CYCLR_RETURN_IF_ERROR(Finite(At("steps", i, "momentum"), s.momentum()));
  CYCLR_RETURN_IF_ERROR(
      FiniteNonNegative(At("steps", i, "samples_per_second"), s.samples_per_second()));
  CYCLR_RETURN_IF_ERROR(Range(At("steps", i, "schedule_version"), s.schedule_version(), 0,
                              limits::kMaxRevisionsPerJob));
  CYCLR_RETURN_IF_ERROR(FiniteNonNegative(At("steps", i, "step_seconds"), s.step_seconds()));
  return FiniteNonNegative(At("steps", i, "allreduce_seconds"), s.allreduce_seconds());
}

Status CheckEpoch(const v1::EpochReport& e, int i) {
  CYCLR_RETURN_IF_ERROR(Range(At("epochs", i, "epoch"), e.epoch(), 0, limits::kMaxEpochs));
  CYCLR_RETURN_IF_ERROR(Range(At("epochs", i, "step"), e.step(), 0, limits::kMaxStep));
  const std::string acc = At("epochs", i, "test_accuracy");
  CYCLR_RETURN_IF_ERROR(Finite(acc, e.test_accuracy()));
  if (!(e.test_accuracy() >= 0.0 && e.test_accuracy() <= 1.0)) {
    return Status::InvalidArgument(acc + " (" + Num(e.test_accuracy()) + ") must be in [0, 1]");
  }
  return Finite(At("epochs", i, "test_loss"), e.test_loss());
}

// A range test's point: a step of the curve's range, a positive finite LR; the loss may be NaN or
// Inf (the step that diverged is part of the curve).
Status CheckCurvePoint(const v1::CurvePoint& p, int i) {
  CYCLR_RETURN_IF_ERROR(Range(At("curve", i, "step"), p.step(), 0, limits::kMaxCurvePoints - 1));
  const std::string lr = At("curve", i, "lr");
  CYCLR_RETURN_IF_ERROR(Finite(lr, p.lr()));
  if (!(p.lr() > 0)) return Status::InvalidArgument(lr + " (" + Num(p.lr()) + ") must be > 0");
  return Status::Ok();
}

}  // namespace

Status CheckRequest(const v1::LaunchJobRequest& req) {
  if (!req.has_spec()) return Status::InvalidArgument("spec is required");
  return Status::Ok();  // the spec's rules: NormalizeJobSpec, in JobManager::Launch
}

Status CheckRequest(const v1::GetJobRequest& req) { return Name("name", req.name()); }

Status CheckRequest(const v1::GetWorkerLogRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  if (req.rank() < 0 || req.rank() >= limits::kMaxWorkersPerJob) {
    return Status::InvalidArgument("rank (" + std::to_string(req.rank()) +
                                   ") must be between 0 and " +
                                   std::to_string(limits::kMaxWorkersPerJob - 1));
  }
  if (req.max_bytes() < 0 || req.max_bytes() > kMaxLogReadBytes) {
    return Status::InvalidArgument("max_bytes (" + std::to_string(req.max_bytes()) +
                                   ") must be between 0 and " + std::to_string(kMaxLogReadBytes));
  }
  constexpr int64_t kMaxOffset = int64_t{1} << 62;
  if (req.offset() <= -kMaxOffset || req.offset() >= kMaxOffset) {
    return Status::InvalidArgument("offset (" + std::to_string(req.offset()) +
                                   ") must be between -2^62 and 2^62");
  }
  return Status::Ok();
}

Status CheckRequest(const v1::ListJobsRequest& req) {
  if (req.page_size() < 0 || req.page_size() > limits::kMaxListPageSize) {
    return Status::InvalidArgument("page_size (" + std::to_string(req.page_size()) +
                                   ") must be between 0 and " +
                                   std::to_string(limits::kMaxListPageSize));
  }
  return Text("page_token", req.page_token(), 20);
}

Status CheckRequest(const v1::DeleteJobRequest& req) { return Name("name", req.name()); }

Status CheckRequest(const v1::StopJobRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("name", req.name()));
  return Text("reason", req.reason(), limits::kMaxTextBytes);
}

Status CheckRequest(const v1::GetTimelineRequest& req) { return Name("job", req.job()); }

Status CheckRequest(const v1::UpdateScheduleRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  if (req.has_effective_step()) {
    CYCLR_RETURN_IF_ERROR(Range("effective_step", req.effective_step(), 0, limits::kMaxStep));
  }
  if (req.has_revert_to()) {
    CYCLR_RETURN_IF_ERROR(Range("revert_to", req.revert_to(), 1, limits::kMaxRevisionsPerJob));
  }
  if (!v1::PhaseMode_IsValid(req.phase())) {
    return Status::InvalidArgument("phase (" + std::to_string(req.phase()) +
                                   ") must be PHASE_MODE_UNSPECIFIED (0), PHASE_MODE_CONTINUE "
                                   "(1) or PHASE_MODE_RESTART (2)");
  }
  CYCLR_RETURN_IF_ERROR(Text("author", req.author(), limits::kMaxTextBytes));
  return Text("reason", req.reason(), limits::kMaxTextBytes);
}

Status CheckRequest(const v1::PreviewScheduleRequest& req) {
  if (!req.job().empty()) CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  CYCLR_RETURN_IF_ERROR(Range("start_step", req.start_step(), 0, limits::kMaxStep));
  return Range("steps", req.steps(), 1, limits::kMaxPreviewSteps);
}

Status CheckRequest(const v1::RegisterRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  CYCLR_RETURN_IF_ERROR(Range("rank", req.rank(), -1, limits::kMaxWorkersPerJob - 1));
  CYCLR_RETURN_IF_ERROR(Range("world_size", req.world_size(), 1, limits::kMaxWorkersPerJob));
  CYCLR_RETURN_IF_ERROR(Text("host", req.host(), limits::kMaxTextBytes));
  return Range("pid", req.pid(), 0, limits::kMaxPid);
}

Status CheckRequest(const v1::StoreSetRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  CYCLR_RETURN_IF_ERROR(StoreKey("key", req.key()));
  if (req.value().size() > limits::kMaxStoreValueBytes) {
    return Status::InvalidArgument("value (" + std::to_string(req.value().size()) +
                                   " bytes) must be at most " +
                                   std::to_string(limits::kMaxStoreValueBytes) + " bytes");
  }
  return Status::Ok();
}

Status CheckRequest(const v1::StoreGetRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  if (req.keys_size() == 0) return Status::InvalidArgument("keys must not be empty");
  CYCLR_RETURN_IF_ERROR(Count("keys", req.keys_size(), limits::kMaxStoreKeysPerGet));
  for (int i = 0; i < req.keys_size(); ++i) {
    CYCLR_RETURN_IF_ERROR(StoreKey("keys[" + std::to_string(i) + "]", req.keys(i)));
  }
  if (req.timeout_ms() < 0) {
    return Status::InvalidArgument("timeout_ms (" + std::to_string(req.timeout_ms()) +
                                   ") must be >= 0 (0 = the coordinator's default)");
  }
  return Status::Ok();
}

// A metric label: one of the kinds the worker's BlasInfo names (a bounded set), or "" (not said).
static Status CheckBlas(const std::string& blas) {
  static const char* const kKinds[] = {"",         "openblas-openmp", "openblas-pthread",
                                       "openblas", "reference",       "blis",
                                       "mkl",      "atlas",           "unknown"};
  for (const char* k : kKinds) {
    if (blas == k) return Status::Ok();
  }
  return Status::InvalidArgument("blas " + limits::Echo(blas) +
                                 " must be one of openblas-openmp, openblas-pthread, openblas, "
                                 "reference, blis, mkl, atlas, unknown");
}

Status CheckRequest(const v1::ReportProgressRequest& req) {
  CYCLR_RETURN_IF_ERROR(Name("job", req.job()));
  CYCLR_RETURN_IF_ERROR(Range("rank", req.rank(), 0, limits::kMaxWorkersPerJob - 1));
  CYCLR_RETURN_IF_ERROR(Count("steps", req.steps_size(), limits::kMaxReportsPerRequest));
  CYCLR_RETURN_IF_ERROR(Count("epochs", req.epochs_size(), limits::kMaxReportsPerRequest));
  CYCLR_RETURN_IF_ERROR(Count("applied", req.applied_size(), limits::kMaxReportsPerRequest));
  CYCLR_RETURN_IF_ERROR(Text("error", req.error(), limits::kMaxErrorBytes));
  CYCLR_RETURN_IF_ERROR(Range("total_steps", req.total_steps(), 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(CheckBlas(req.blas()));
  CYCLR_RETURN_IF_ERROR(Range("threads", req.threads(), 0, limits::kMaxThreads));
  CYCLR_RETURN_IF_ERROR(Count("curve", req.curve_size(), limits::kMaxReportsPerRequest));
  CYCLR_RETURN_IF_ERROR(Text("note", req.note(), limits::kMaxTextBytes));
  CYCLR_RETURN_IF_ERROR(Range("train_examples", req.train_examples(), 0, limits::kMaxStep));
  for (int i = 0; i < req.curve_size(); ++i)
    CYCLR_RETURN_IF_ERROR(CheckCurvePoint(req.curve(i), i));
  for (int i = 0; i < req.steps_size(); ++i) CYCLR_RETURN_IF_ERROR(CheckStep(req.steps(i), i));
  for (int i = 0; i < req.epochs_size(); ++i) CYCLR_RETURN_IF_ERROR(CheckEpoch(req.epochs(i), i));
  for (int i = 0; i < req.applied_size(); ++i) {
    const v1::AppliedRevision& a = req.applied(i);
    CYCLR_RETURN_IF_ERROR(
        Range(At("applied", i, "version"), a.version(), 1, limits::kMaxRevisionsPerJob));
    CYCLR_RETURN_IF_ERROR(Range(At("applied", i, "step"), a.step(), 0, limits::kMaxStep));
  }
  return Status::Ok();
}

}  // namespace cyclr
