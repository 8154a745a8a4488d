// Fuzzes the state file's row decoders (server/state_rows.h): a `jobs` row, or the `revisions`
// rows of one job, in ByteReader's format (fuzz_util.h; tests/fuzz/make_corpus.cc writes the
// seeds). A decoded row must hold every limit of docs/limits.md; what recovery serves for any
// row (the decoded job, or the quarantined one with the reason) must survive the wire.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "server/state_rows.h"
#include "tests/fuzz/job_invariants.h"

namespace cyclr::fuzz {
namespace {

void CheckDecodedJob(const JobRow& row, const v1::Job& job) {
  FUZZ_REQUIRE(IsValidJobName(row.name) && job.name() == row.name,
               "name " + limits::Echo(row.name));
  RequireInRange("state", job.state(), v1::PENDING, v1::STOPPED);
  RequireInRange("global_step", job.global_step(), 0, limits::kMaxStep);
  RequireInRange("total_steps", job.total_steps(), 0, limits::kMaxStep);
  FUZZ_REQUIRE(job.reason().size() <= limits::kMaxReasonBytes, "reason too long");
  RequireInRange("epoch", job.epoch(), 0, limits::kMaxEpochs);
  FUZZ_REQUIRE(job.test_accuracy() >= 0 && job.test_accuracy() <= 1,
               "test_accuracy " + FormatDouble(job.test_accuracy()));
  FUZZ_REQUIRE(std::isfinite(job.samples_per_second()) && job.samples_per_second() >= 0,
               "samples_per_second " + FormatDouble(job.samples_per_second()));
  RequireInRange("restarts", job.restarts(), 0, limits::kMaxRestarts);
  RequireInRange("schedule_version", job.schedule_version(), 0, limits::kMaxRevisionsPerJob);
  FUZZ_REQUIRE(job.ranks_size() == 0, "ranks kept from the snapshot");
  FUZZ_REQUIRE(job.spec().name() == row.name, "spec.name differs from the row's name");
  v1::JobSpec normalized = job.spec();
  Status st = NormalizeJobSpec(&normalized);
  FUZZ_REQUIRE(st.ok(), "stored spec refused: " + st.message());
  CheckNormalizedJobSpec(normalized);
  RequireWireSafe(job.spec(), "the decoded job's spec");
  RequireWireSafe(job, "the decoded job");
}

void Jobs(ByteReader& in) {
  JobRow row;
  row.name = in.Bytes();
  row.spec = in.Bytes();
  row.state = in.Int64();
  row.reason = in.Bytes();
  row.global_step = in.Int64();
  row.total_steps = in.Int64();
  row.snapshot = in.Bytes();
  row.created_unix_ms = in.Int64();
  row.updated_unix_ms = in.Int64();
  StatusOr<v1::Job> job = DecodeJobRow(row);
  if (job.ok()) {
    CheckDecodedJob(row, *job);
    return;
  }
  FUZZ_REQUIRE(job.status().code() == StatusCode::kInvalidArgument, job.status().ToString());
  if (!IsValidJobName(row.name)) return;  // recovery skips such rows (job_manager_recovery.cc)
  v1::Job quarantined = QuarantinedJob(row, job.status().message());
  FUZZ_REQUIRE(quarantined.state() == v1::FAILED, "quarantined job not FAILED");
  FUZZ_REQUIRE(quarantined.reason().size() <= limits::kMaxReasonBytes, "reason too long");
  RequireInRange("global_step", quarantined.global_step(), 0, limits::kMaxStep);
  RequireInRange("total_steps", quarantined.total_steps(), 0, limits::kMaxStep);
  // Its spec is whatever parsed; only its bytes must be servable.
  std::string bytes;
  FUZZ_REQUIRE(quarantined.SerializeToString(&bytes), "quarantined job does not serialize");
  v1::Job back;
  FUZZ_REQUIRE(back.ParseFromString(bytes), "the quarantined job does not parse back: reason " +
                                                limits::Echo(quarantined.reason()));
}

void Revisions(ByteReader& in) {
  std::vector<RevisionRow> rows(in.Byte() % 8);
  for (RevisionRow& row : rows) {
    row.version = in.Int64();
    row.effective_step = in.Int64();
    const bool applied = in.Byte() & 1;
    const int64_t step = in.Int64();
    if (applied) row.applied_step = step;
    row.revision = in.Bytes();
  }
  Timeline timeline;
  Status st = DecodeTimeline(rows, &timeline);
  FUZZ_REQUIRE(st.ok() || st.code() == StatusCode::kInvalidArgument ||
                   st.code() == StatusCode::kFailedPrecondition ||
                   st.code() == StatusCode::kNotFound,
               st.ToString());
  const v1::Timeline served = ToProto(timeline);  // what GetTimeline would send
  RequireWireSafe(served, "the decoded timeline");
  StatusOr<Timeline> again = FromProto(served);
  FUZZ_REQUIRE(again.ok(),
               "the decoded timeline does not convert back: " + again.status().message());
  FUZZ_REQUIRE(ToProto(*again).SerializeAsString() == served.SerializeAsString(),
               "the decoded timeline changes on a round trip");
  if (!st.ok()) return;
  RequireInRange("revisions", static_cast<int64_t>(timeline.revisions().size()), 1,
                 limits::kMaxRevisionsPerJob);
  int64_t version = 0;
  for (const Revision& rev : timeline.revisions()) {
    FUZZ_REQUIRE(rev.version == ++version, "versions not 1, 2, ...");
    RequireInRange("effective_step", rev.effective_step, 0, limits::kMaxStep);
    if (rev.applied_step) RequireInRange("applied_step", *rev.applied_step, 0, limits::kMaxStep);
    FUZZ_REQUIRE(rev.author.size() <= limits::kMaxTextBytes, "author too long");
    FUZZ_REQUIRE(rev.reason.size() <= limits::kMaxTextBytes, "reason too long");
    CheckAcceptedSpec(rev.spec);
    const int64_t start = timeline.StartStep(rev.version);
    for (int64_t step : {start, start + 1, limits::kMaxStep}) {
      if (step <= limits::kMaxStep) CheckSchedulePoint(rev.spec, step, timeline.At(step));
    }
  }
}

}  // namespace
}  // namespace cyclr::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cyclr::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cyclr::fuzz::ByteReader in(data, size);
  if (in.Byte() % 2 == 0) {
    cyclr::fuzz::Jobs(in);
  } else {
    cyclr::fuzz::Revisions(in);
  }
  return 0;
}
