// Writes the seed inputs of the binary fuzz targets (request, state_rows, idx, checkpoint) into
// DIR/<target>/: small valid examples of each format, from which libFuzzer mutates. The text
// targets' seeds (flags, YAML/JSON files) are written by hand. Usage: make_corpus DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cyclr/v1/service.pb.h"
#include "proto/proto_convert.h"
#include "server/state_rows.h"
#include "tests/fuzz/fuzz_util.h"

namespace cyclr::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << bytes;
}

ScheduleSpec Spec(const std::map<std::string, std::string>& options) {
  StatusOr<ScheduleSpec> spec = SpecFromOptions(options);
  CYCLR_CHECK_MSG(spec.ok(), spec.status().message());
  return *spec;
}

v1::ScheduleSpec Triangular2() {
  return ToProto(Spec({{"policy", "triangular2"},
                       {"base_lr", "0.001"},
                       {"max_lr", "0.1"},
                       {"step_size_up", "200"},
                       {"base_momentum", "0.85"},
                       {"max_momentum", "0.95"}}));
}

v1::ScheduleSpec OneCycle() {
  return ToProto(Spec({{"policy", "one-cycle"},
                       {"max_lr", "0.1"},
                       {"total_steps", "1000"},
                       {"three_phase", "true"},
                       {"anneal", "linear"}}));
}

v1::JobSpec Job(const std::string& name) {
  v1::JobSpec spec;
  spec.set_name(name);
  spec.set_workers(2);
  spec.set_model("mlp");
  spec.set_dataset("synthetic");
  spec.set_epochs(3);
  spec.set_batch_size(128);
  spec.set_optimizer("sgd");
  spec.set_momentum(0.9);
  spec.set_checkpoint_dir("/tmp/ckpt");
  spec.set_checkpoint_every(100);
  spec.set_divergence_policy("rollback");
  *spec.mutable_schedule() = Triangular2();
  return spec;
}

// One request: its type's index (request_fuzzer.cc) and its bytes.
void Request(const fs::path& dir, int kind, const std::string& name,
             const google::protobuf::Message& m) {
  Write(dir, name, std::string(1, static_cast<char>(kind)) + m.SerializeAsString());
}

void Requests(const fs::path& dir) {
  v1::LaunchJobRequest launch;
  *launch.mutable_spec() = Job("fmnist-clr");
  Request(dir, 0, "launch", launch);
  v1::GetJobRequest get;
  get.set_name("fmnist-clr");
  Request(dir, 1, "get_job", get);
  Request(dir, 2, "list_jobs", v1::ListJobsRequest());
  v1::StopJobRequest stop;
  stop.set_name("fmnist-clr");
  stop.set_reason("done");
  Request(dir, 3, "stop_job", stop);
  v1::GetTimelineRequest timeline;
  timeline.set_job("fmnist-clr");
  Request(dir, 4, "get_timeline", timeline);
  v1::UpdateScheduleRequest update;
  update.set_job("fmnist-clr");
  *update.mutable_spec() = OneCycle();
  update.set_effective_step(500);
  update.set_phase(v1::PHASE_MODE_RESTART);
  update.set_author("alice");
  update.set_reason("loss plateau");
  Request(dir, 5, "update_schedule", update);
  update.clear_spec();
  update.set_revert_to(1);
  Request(dir, 5, "update_schedule_revert", update);
  v1::PreviewScheduleRequest preview;
  *preview.mutable_spec() = Triangular2();
  preview.set_start_step(100);
  preview.set_steps(50);
  Request(dir, 6, "preview_schedule", preview);
  v1::RegisterRequest reg;
  reg.set_job("fmnist-clr");
  reg.set_rank(-1);
  reg.set_world_size(2);
  reg.set_host("node-1");
  reg.set_pid(4242);
  Request(dir, 7, "register", reg);
  v1::StoreSetRequest set;
  set.set_job("fmnist-clr");
  set.set_key("gloo/rank0");
  set.set_value(std::string("\x7f\0\0\1", 4));
  Request(dir, 8, "store_set", set);
  v1::StoreGetRequest store_get;
  store_get.set_job("fmnist-clr");
  store_get.add_keys("gloo/rank0");
  store_get.add_keys("gloo/rank1");
  store_get.set_timeout_ms(30000);
  Request(dir, 9, "store_get", store_get);
  v1::ReportProgressRequest report;
  report.set_job("fmnist-clr");
  report.set_rank(1);
  report.set_total_steps(1404);
  for (int64_t step : {10, 11}) {
    v1::StepReport* s = report.add_steps();
    s->set_step(step);
    s->set_epoch(0);
    s->set_loss(0.7);
    s->set_lr(0.01);
    s->set_momentum(0.9);
    s->set_samples_per_second(16000);
    s->set_schedule_version(1);
    s->set_step_seconds(0.008);
    s->set_allreduce_seconds(0.003);
  }
  v1::EpochReport* e = report.add_epochs();
  e->set_epoch(1);
  e->set_step(468);
  e->set_test_accuracy(0.86);
  e->set_test_loss(0.39);
  v1::AppliedRevision* a = report.add_applied();
  a->set_version(2);
  a->set_step(500);
  Request(dir, 10, "report_progress", report);
  report.clear_steps();
  report.set_finished(true);
  report.set_error("rank 1: loss diverged");
  Request(dir, 10, "report_progress_error", report);
  v1::GetWorkerLogRequest log;
  log.set_job("fm");
  log.set_rank(1);
  log.set_offset(-4096);
  Request(dir, 11, "get_worker_log", log);
}

std::string RevisionBytes(int64_t version, int64_t effective, const v1::ScheduleSpec& spec,
                          v1::PhaseMode phase) {
  v1::Revision r;
  r.set_version(version);
  r.set_effective_step(effective);
  *r.mutable_spec() = spec;
  r.set_phase(phase);
  r.set_author("alice");
  r.set_reason("first");
  r.set_created_unix_ms(1764547200000);
  return r.SerializeAsString();
}

void Rows(const fs::path& dir) {
  ByteWriter job;
  job.Byte(0);
  job.Bytes("fmnist-clr");
  job.Bytes(Job("fmnist-clr").SerializeAsString());
  job.Int64(v1::RUNNING);
  job.Bytes("");
  job.Int64(700);
  job.Int64(1404);
  v1::Job snapshot;
  snapshot.set_epoch(1);
  snapshot.set_loss(0.5);
  snapshot.set_test_accuracy(0.86);
  snapshot.set_samples_per_second(32000);
  snapshot.set_lr(0.05);
  snapshot.set_schedule_version(2);
  snapshot.set_restarts(1);
  job.Bytes(snapshot.SerializeAsString());
  job.Int64(1764547200000);
  job.Int64(1764547260000);
  Write(dir, "job_row", job.str());

  ByteWriter revs;
  revs.Byte(1);
  revs.Byte(2);
  revs.Int64(1);
  revs.Int64(0);
  revs.Byte(1);
  revs.Int64(0);
  revs.Bytes(RevisionBytes(1, 0, Triangular2(), v1::PHASE_MODE_CONTINUE));
  revs.Int64(2);
  revs.Int64(500);
  revs.Byte(1);
  revs.Int64(503);
  revs.Bytes(RevisionBytes(2, 500, OneCycle(), v1::PHASE_MODE_RESTART));
  Write(dir, "revision_rows", revs.str());
}

std::string Idx(const std::vector<uint32_t>& dims) {
  std::string out = {0, 0, 8, static_cast<char>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<char>(d >> shift));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(i * 37));
  return out;
}

void IdxFiles(const fs::path& dir) {
  Write(dir, "images", Idx({2, 4, 4}));
  Write(dir, "labels", Idx({5}));
}

// checkpoint_fuzzer.cc's records: the model's own shape, momentum buffers, every part present,
// meta values a real run writes, and a one-revision timeline.
void Checkpoints(const fs::path& dir) {
  for (int64_t step : {0, 700}) {
    ByteWriter w;
    w.Byte(0);  // the shape of Linear(4, 3)
    w.Byte(1);  // momentum buffers
    w.Byte(0);  // every part
    for (int64_t v : {int64_t{1}, step, step / 468, step % 468, int64_t{1}}) {
      w.Byte(3);  // one int64
      w.Int64(v);
    }
    v1::Timeline timeline;
    timeline.add_revisions()->ParseFromString(
        RevisionBytes(1, 0, Triangular2(), v1::PHASE_MODE_CONTINUE));
    timeline.mutable_revisions(0)->set_applied_step(0);
    w.Bytes(timeline.SerializeAsString());
    Write(dir, "step" + std::to_string(step), w.str());
  }
}

}  // namespace
}  // namespace cyclr::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR (e.g. tests/fuzz/corpus)\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  cyclr::fuzz::Requests(dir / "request");
  cyclr::fuzz::Rows(dir / "state_rows");
  cyclr::fuzz::IdxFiles(dir / "idx");
  cyclr::fuzz::Checkpoints(dir / "checkpoint");
  return 0;
}
