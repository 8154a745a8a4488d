#include "tests/bench/loadgen/capacity_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <thread>

#include "proto/authorized_channel.h"
#include "proto/proto_convert.h"
#include "tests/bench/loadgen/report_driver.h"
#include "tests/bench/loadgen/watch_fleet.h"

namespace cyclr::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Status Check(const grpc::Status& st, const std::string& what) {
  return st.ok() ? Status::Ok() : FromGrpc(st).WithContext(what);
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

v1::ScheduleSpec Triangular2(double max_lr) {
  v1::ScheduleSpec s;
  s.set_policy("triangular2");
  s.set_base_lr(0.001);
  s.set_max_lr(max_lr);
  s.set_step_size_up(50);
  return s;
}

template <typename T>
std::vector<T*> Raw(const std::vector<std::unique_ptr<T>>& v) {
  std::vector<T*> out;
  for (const auto& p : v) out.push_back(p.get());
  return out;
}

void Authorize(grpc::ClientContext* ctx, const std::string& token) {
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

}  // namespace

CapacityRun::CapacityRun(CapacityOptions options) : options_(std::move(options)) {
  for (int i = 0; i < std::max(1, options_.channels); ++i) {
    grpc::ChannelArguments args;
    // A distinct argument per channel gives each its own TCP connection.
    args.SetInt("cyclr.loadgen.channel", i);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto ch = grpc::CreateCustomChannel(options_.coordinator, grpc::InsecureChannelCredentials(),
                                        args);
    workers_.push_back(v1::WorkerService::NewStub(ch));
    schedules_.push_back(v1::ScheduleService::NewStub(ch));
    channels_.push_back(std::move(ch));
  }
  jobs_ = v1::JobService::NewStub(channels_[0]);
}

std::string CapacityRun::JobName(int j) const {
  return options_.name_prefix + "-" + std::to_string(j);
}

Status CapacityRun::LaunchJobs() {
  for (int j = 0; j < options_.jobs; ++j) {
    v1::LaunchJobRequest req;
    v1::JobSpec* s = req.mutable_spec();
    s->set_name(JobName(j));
    s->set_workers(options_.workers_per_job);
    s->set_model("mlp");
    s->set_dataset("synthetic");
    s->set_epochs(1);
    s->set_batch_size(128);
    s->set_launcher("external");
    *s->mutable_schedule() = Triangular2(0.05);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Authorize(&ctx, admin_token_);
    v1::Job job;
    CYCLR_RETURN_IF_ERROR(Check(jobs_->LaunchJob(&ctx, req, &job), "launch " + JobName(j)));
    worker_tokens_[JobName(j)] = job.worker_token();
  }
  return Status::Ok();
}

Status CapacityRun::RegisterWorkers() {
  for (int j = 0; j < options_.jobs; ++j) {
    for (int r = 0; r < options_.workers_per_job; ++r) {
      v1::RegisterRequest req;
      req.set_job(JobName(j));
      req.set_rank(r);
      req.set_world_size(options_.workers_per_job);
      req.set_host("loadgen");
      req.set_pid(100000 + j * options_.workers_per_job + r);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      Authorize(&ctx, worker_tokens_[JobName(j)]);
      v1::RegisterResponse resp;
      auto& stub = workers_[static_cast<size_t>(r) % workers_.size()];
      CYCLR_RETURN_IF_ERROR(Check(stub->Register(&ctx, req, &resp),
                                  "register " + JobName(j) + " rank " + std::to_string(r)));
    }
  }
  return Status::Ok();
}

UpdateTiming CapacityRun::UpdateOnce(const std::string& job, int index,
                                               WatchFleet* fleet) {
  v1::UpdateScheduleRequest req;
  req.set_job(job);
  *req.mutable_spec() = Triangular2(0.05 + 0.01 * (index + 1));
  req.set_reason("capacity test update " + std::to_string(index));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  Authorize(&ctx, admin_token_);
  v1::Revision rev;
  const auto issued = Clock::now();
  Status st = Check(schedules_[0]->UpdateSchedule(&ctx, req, &rev), "update " + job);
  UpdateTiming t;
  t.rpc_ms = Ms(Clock::now() - issued);
  if (!st.ok()) {
    t.error = st.ToString();
    return t;
  }
  auto arrivals = fleet->WaitForVersion(job, rev.version(), std::chrono::seconds(10));
  if (arrivals.empty()) {
    t.error = "revision " + std::to_string(rev.version()) + " of " + job +
              " did not reach every watcher within 10 s";
    return t;
  }
  t.all_seen_ms = Ms(*std::max_element(arrivals.begin(), arrivals.end()) - issued);
  t.first_seen_ms = Ms(*std::min_element(arrivals.begin(), arrivals.end()) - issued);
  return t;
}

StatusOr<CapacityResult> CapacityRun::Run() {
  if (!options_.token_file.empty()) {
    CYCLR_ASSIGN_OR_RETURN(admin_token_, ReadTokenFile(options_.token_file, "--token-file"));
  }
  CYCLR_RETURN_IF_ERROR(LaunchJobs());
  CYCLR_RETURN_IF_ERROR(RegisterWorkers());
  std::vector<std::string> watched;
  for (int j = 0; j < std::min(options_.watch_jobs, options_.jobs); ++j) {
    watched.push_back(JobName(j));
  }
  WatchFleet fleet(Raw(schedules_), watched, options_.watchers, admin_token_);
  fleet.Start();
  for (const auto& job : watched) {
    if (fleet.WaitForVersion(job, 1, std::chrono::seconds(20)).empty()) {
      return Status::DeadlineExceeded("watchers of " + job + " got no timeline within 20 s");
    }
  }
  std::vector<SimulatedWorker> sims;
  for (int j = 0; j < options_.jobs; ++j) {
    for (int r = 0; r < options_.workers_per_job; ++r) {
      sims.push_back({JobName(j), r, worker_tokens_[JobName(j)]});
    }
  }
  LatencyRecorder recorder;
  ReportDriverOptions dopts;
  dopts.rate_hz = options_.rate_hz;
  dopts.sender_threads = options_.sender_threads;
  ReportDriver driver(Raw(workers_), sims, dopts, &recorder);
  driver.Start();
  std::this_thread::sleep_for(options_.warmup);
  StatusOr<CapacityResult> result = MeasureWindow(&driver, &recorder, &fleet, watched);
  driver.Stop();
  if (result.ok()) result->watch_messages = fleet.messages();
  fleet.Stop();
  if (result.ok()) result->failed_streams = fleet.failed_streams();
  return result;
}

StatusOr<CapacityResult> CapacityRun::MeasureWindow(ReportDriver* driver,
                                                    LatencyRecorder* recorder, WatchFleet* fleet,
                                                    const std::vector<std::string>& watched) {
  CapacityResult result;
  recorder->Reset();
  ProcSample before;
  if (options_.coordinator_pid > 0) {
    CYCLR_ASSIGN_OR_RETURN(before, ReadProcSample(options_.coordinator_pid));
  }
  const double self_before = SelfCpuSeconds();
  const int64_t sent_before = driver->sent(), late_before = driver->late();
  const auto start = Clock::now();
  for (int u = 0; u < options_.updates; ++u) {
    std::this_thread::sleep_until(start + options_.duration * (u + 1) / (options_.updates + 1));
    result.updates.push_back(UpdateOnce(watched[u % watched.size()], u, fleet));
  }
  std::this_thread::sleep_until(start + options_.duration);
  result.window_s = Ms(Clock::now() - start) / 1e3;
  result.reports = recorder->Summarize();
  result.offered_rps = static_cast<double>(driver->sent() - sent_before) / result.window_s;
  result.completed_rps = static_cast<double>(result.reports.count) / result.window_s;
  result.late_sends = driver->late() - late_before;
  if (options_.coordinator_pid > 0) {
    CYCLR_ASSIGN_OR_RETURN(result.coordinator_end, ReadProcSample(options_.coordinator_pid));
    result.coordinator_cpu_pct =
        100 * (result.coordinator_end.cpu_seconds - before.cpu_seconds) / result.window_s;
  }
  result.loadgen_cpu_pct = 100 * (SelfCpuSeconds() - self_before) / result.window_s;
  return result;
}

}  // namespace cyclr::bench
