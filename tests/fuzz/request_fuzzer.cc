// Fuzzes every request the coordinator accepts: the first byte picks the request type, the rest
// is parsed as that message (ParseFromArray, as gRPC does) and goes through the services' check
// (server/request_limits.h) and their proto -> domain conversion (LaunchJob's NormalizeJobSpec,
// UpdateSchedule's and PreviewSchedule's FromProto). A request the check accepts must hold the
// limits of docs/limits.md, written out again here; a converted value must round-trip.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "server/request_limits.h"
#include "tests/fuzz/job_invariants.h"

namespace cyclr::fuzz {
namespace {

using limits::kMaxStep;

void RequireJobName(const std::string& name) {
  FUZZ_REQUIRE(IsValidJobName(name), "accepted job name " + limits::Echo(name));
}

void RequireText(const std::string& value, size_t max) {
  FUZZ_REQUIRE(value.size() <= max, "accepted " + std::to_string(value.size()) + " bytes");
}

void RequireFinite(double v, bool non_negative) {
  FUZZ_REQUIRE(std::isfinite(v) && (!non_negative || v >= 0), "accepted " + FormatDouble(v));
}

void Launch(const v1::LaunchJobRequest& req) {
  if (!CheckRequest(req).ok()) return;
  FUZZ_REQUIRE(req.has_spec(), "launch without a spec");
  v1::JobSpec spec = req.spec();
  if (NormalizeJobSpec(&spec).ok()) CheckNormalizedJobSpec(spec);
}

void Update(const v1::UpdateScheduleRequest& req) {
  if (!CheckRequest(req).ok()) return;
  RequireJobName(req.job());
  if (req.has_effective_step()) RequireInRange("effective_step", req.effective_step(), 0, kMaxStep);
  if (req.has_revert_to()) {
    RequireInRange("revert_to", req.revert_to(), 1, limits::kMaxRevisionsPerJob);
  }
  RequireText(req.author(), limits::kMaxTextBytes);
  RequireText(req.reason(), limits::kMaxTextBytes);
  FUZZ_REQUIRE(FromProto(req.phase()).ok(), "accepted phase " + std::to_string(req.phase()));
  if (!req.has_revert_to() && req.has_spec()) {
    StatusOr<ScheduleSpec> spec = FromProto(req.spec());
    if (spec.ok()) CheckAcceptedSpec(*spec);
  }
}

void Preview(const v1::PreviewScheduleRequest& req) {
  if (!CheckRequest(req).ok()) return;
  if (!req.job().empty()) RequireJobName(req.job());
  RequireInRange("start_step", req.start_step(), 0, kMaxStep);
  RequireInRange("steps", req.steps(), 1, limits::kMaxPreviewSteps);
  StatusOr<ScheduleSpec> spec = FromProto(req.spec());
  if (!spec.ok()) return;
  CheckAcceptedSpec(*spec);
  // The first and last points the preview computes.
  StatusOr<Schedule> schedule = Schedule::Create(*spec);
  FUZZ_REQUIRE(schedule.ok(), schedule.status().message());
  for (int64_t step : {req.start_step(), req.start_step() + req.steps() - 1}) {
    CheckSchedulePoint(*spec, step, schedule->At(step));
  }
}

void Register(const v1::RegisterRequest& req) {
  if (!CheckRequest(req).ok()) return;
  RequireJobName(req.job());
  RequireInRange("rank", req.rank(), -1, limits::kMaxWorkersPerJob - 1);
  RequireInRange("world_size", req.world_size(), 1, limits::kMaxWorkersPerJob);
  RequireText(req.host(), limits::kMaxTextBytes);
  RequireInRange("pid", req.pid(), 0, limits::kMaxPid);
}

void StoreSet(const v1::StoreSetRequest& req) {
  if (!CheckRequest(req).ok()) return;
  RequireJobName(req.job());
  FUZZ_REQUIRE(!req.key().empty(), "empty key");
  RequireText(req.key(), limits::kMaxStoreKeyBytes);
  RequireText(req.value(), limits::kMaxStoreValueBytes);
}

void StoreGet(const v1::StoreGetRequest& req) {
  if (!CheckRequest(req).ok()) return;
  RequireJobName(req.job());
  RequireInRange("keys", req.keys_size(), 1, limits::kMaxStoreKeysPerGet);
  for (const std::string& key : req.keys()) {
    FUZZ_REQUIRE(!key.empty(), "empty key");
    RequireText(key, limits::kMaxStoreKeyBytes);
  }
  FUZZ_REQUIRE(req.timeout_ms() >= 0, "negative timeout");
}

void Report(const v1::ReportProgressRequest& req) {
  if (!CheckRequest(req).ok()) return;
  RequireJobName(req.job());
  RequireInRange("rank", req.rank(), 0, limits::kMaxWorkersPerJob - 1);
  RequireInRange("steps", req.steps_size(), 0, limits::kMaxReportsPerRequest);
  RequireInRange("epochs", req.epochs_size(), 0, limits::kMaxReportsPerRequest);
  RequireInRange("applied", req.applied_size(), 0, limits::kMaxReportsPerRequest);
  RequireText(req.error(), limits::kMaxErrorBytes);
  RequireInRange("total_steps", req.total_steps(), 0, kMaxStep);
  for (const v1::StepReport& s : req.steps()) {
    RequireInRange("step", s.step(), 0, kMaxStep - 1);  // its global step s + 1 stays <= kMaxStep
    RequireInRange("epoch", s.epoch(), 0, limits::kMaxEpochs);
    RequireFinite(s.lr(), false);
    RequireFinite(s.momentum(), false);
    RequireFinite(s.samples_per_second(), true);
    RequireInRange("schedule_version", s.schedule_version(), 0, limits::kMaxRevisionsPerJob);
    RequireFinite(s.step_seconds(), true);
    RequireFinite(s.allreduce_seconds(), true);
  }
  for (const v1::EpochReport& e : req.epochs()) {
    RequireInRange("epoch", e.epoch(), 0, limits::kMaxEpochs);
    RequireInRange("step", e.step(), 0, kMaxStep);
    RequireFinite(e.test_accuracy(), true);
    FUZZ_REQUIRE(e.test_accuracy() <= 1, "test_accuracy " + FormatDouble(e.test_accuracy()));
    RequireFinite(e.test_loss(), false);
  }
  for (const v1::AppliedRevision& a : req.applied()) {
    RequireInRange("version", a.version(), 1, limits::kMaxRevisionsPerJob);
    RequireInRange("step", a.step(), 0, kMaxStep);
  }
  RequireInRange("curve", req.curve_size(), 0, limits::kMaxReportsPerRequest);
  RequireText(req.note(), limits::kMaxTextBytes);
  RequireInRange("train_examples", req.train_examples(), 0, kMaxStep);
  for (const v1::CurvePoint& p : req.curve()) {
    RequireInRange("curve step", p.step(), 0, limits::kMaxCurvePoints - 1);
    RequireFinite(p.lr(), false);
    FUZZ_REQUIRE(p.lr() > 0, "curve lr " + FormatDouble(p.lr()));  // the loss may be NaN/Inf
  }
}

template <typename M>
bool Parse(const uint8_t* data, size_t size, M* m) {
  return m->ParseFromArray(data, static_cast<int>(size));
}

template <typename M>
void Name(const M& req, const std::string& name) {
  if (CheckRequest(req).ok()) RequireJobName(name);
}

}  // namespace
}  // namespace cyclr::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cyclr::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  using namespace cyclr::fuzz;
  if (size < 1 || size > (1 << 20)) return 0;
  const uint8_t kind = data[0];
  ++data;
  --size;
  // The request types of proto/cyclr/v1/service.proto; GetJob also serves WatchJob, GetTimeline
  // also WatchTimeline.
  switch (kind % 12) {
    case 0: {
      v1::LaunchJobRequest r;
      if (Parse(data, size, &r)) Launch(r);
      break;
    }
    case 1: {
      v1::GetJobRequest r;
      if (Parse(data, size, &r)) Name(r, r.name());
      break;
    }
    case 2: {
      v1::ListJobsRequest r;
      if (Parse(data, size, &r)) (void)CheckRequest(r);  // no field is required
      break;
    }
    case 3: {
      v1::StopJobRequest r;
      if (Parse(data, size, &r) && CheckRequest(r).ok()) {
        RequireJobName(r.name());
        RequireText(r.reason(), limits::kMaxTextBytes);
      }
      break;
    }
    case 4: {
      v1::GetTimelineRequest r;
      if (Parse(data, size, &r)) Name(r, r.job());
      break;
    }
    case 5: {
      v1::UpdateScheduleRequest r;
      if (Parse(data, size, &r)) Update(r);
      break;
    }
    case 6: {
      v1::PreviewScheduleRequest r;
      if (Parse(data, size, &r)) Preview(r);
      break;
    }
    case 7: {
      v1::RegisterRequest r;
      if (Parse(data, size, &r)) Register(r);
      break;
    }
    case 8: {
      v1::StoreSetRequest r;
      if (Parse(data, size, &r)) StoreSet(r);
      break;
    }
    case 9: {
      v1::StoreGetRequest r;
      if (Parse(data, size, &r)) StoreGet(r);
      break;
    }
    case 10: {
      v1::ReportProgressRequest r;
      if (Parse(data, size, &r)) Report(r);
      break;
    }
    case 11: {
      v1::GetWorkerLogRequest r;
      if (Parse(data, size, &r) && CheckRequest(r).ok()) {
        // What ReadLogFile relies on: -offset cannot overflow, max_bytes is bounded.
        RequireJobName(r.job());
        FUZZ_REQUIRE(r.rank() >= 0 && r.max_bytes() >= 0 && r.max_bytes() <= kMaxLogReadBytes &&
                         r.offset() != std::numeric_limits<int64_t>::min(),
                     "accepted " + r.ShortDebugString());
      }
      break;
    }
  }
  return 0;
}
