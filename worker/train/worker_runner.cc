#include "worker/train/worker_runner.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/limits.h"
#include "cyclr/v1/service.grpc.pb.h"
#include "proto/proto_convert.h"
#include "proto/authorized_channel.h"
#include "proto/tls_credentials.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/coordinator_store.h"
#include "worker/comm/file_store.h"
#include "worker/train/blas_info.h"
#include "worker/train/progress_reporter.h"
#include "worker/train/schedule_agreement.h"
#include "worker/train/timeline_watcher.h"
#include "worker/train/trainer.h"

namespace cyclr {
namespace {

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

StatusOr<v1::RegisterResponse> Register(v1::WorkerService::Stub* stub,
                                        const WorkerRunnerOptions& o) {
  v1::RegisterRequest req;
  req.set_job(o.job);
  req.set_rank(o.rank);
  req.set_world_size(o.world_size);
  req.set_host(Hostname());
  req.set_pid(getpid());
  auto until = std::chrono::steady_clock::now() + o.register_timeout;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::RegisterResponse resp;
    grpc::Status st = stub->Register(&ctx, req, &resp);
    if (st.ok()) return resp;
    // Only an unreachable coordinator is worth waiting for; a refusal is final.
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE &&
        st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return FromGrpc(st).WithContext("register with " + o.coordinator);
    }
    if (std::chrono::steady_clock::now() + backoff > until) {
      return Status::Unavailable("coordinator at " + o.coordinator +
                                 " unreachable: " + st.error_message());
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

// Creates the log folder (if any); a path that cannot be a folder is an error, not an exception.
Status MakeLogDir(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("--log-dir (" + dir + "): " + ec.message());
  return Status::Ok();
}

// Reads a standalone job spec (JSON), refusing files far larger than any spec.
StatusOr<v1::JobSpec> ReadSpecFile(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::NotFound("--standalone (" + path + "): " + ec.message());
  if (size > limits::kMaxSpecFileBytes) {
    return Status::InvalidArgument("--standalone (" + path + ") holds " + std::to_string(size) +
                                   " bytes; a job spec must be at most " +
                                   std::to_string(limits::kMaxSpecFileBytes));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  v1::JobSpec spec;
  auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), &spec);
  if (!parsed.ok()) return Status::InvalidArgument(path + ": " + parsed.ToString());
  return spec;
}

// Sets and returns the intra-op thread count.
// Sets LibTorch's intra-op threads and the BLAS's own (OpenBLAS-pthread keeps a pool that
// torch::set_num_threads does not reach), then names the BLAS in the log: the reference BLAS
// makes a CPU step ~18x slower, so it gets one loud line on stderr.
int SetThreads(const WorkerRunnerOptions& o, const v1::JobSpec& spec, int world, int cores,
               BlasInfo* blas) {
  const int threads = WorkerThreads(o.threads, spec, world, cores);
  torch::set_num_threads(threads);
  SetBlasThreads(threads);
  *blas = DetectBlas();
  if (blas->reference()) {
    std::fprintf(stderr, "%s\n", ReferenceBlasWarning().c_str());
    std::fflush(stderr);
  }
  return threads;
}

// Rank 0's way to append a rollback revision: UpdateSchedule, retried while the coordinator is
// unreachable, for at most `patience`.
RevisionRequester CoordinatorRequester(std::shared_ptr<grpc::Channel> channel, std::string job,
                                       std::chrono::milliseconds patience) {
  auto stub = std::shared_ptr<v1::ScheduleService::Stub>(v1::ScheduleService::NewStub(channel));
  return [stub, job, patience](const ScheduleSpec& spec, int64_t effective_step,
                               const std::string& reason) -> StatusOr<int64_t> {
    v1::UpdateScheduleRequest req;
    req.set_job(job);
    *req.mutable_spec() = ToProto(spec);
    req.set_effective_step(effective_step);
    req.set_phase(v1::PHASE_MODE_CONTINUE);
    req.set_author("cyclr-worker");
    req.set_reason(reason);
    const auto until = std::chrono::steady_clock::now() + patience;
    for (auto backoff = std::chrono::milliseconds(100);; backoff *= 2) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      v1::Revision rev;
      grpc::Status st = stub->UpdateSchedule(&ctx, req, &rev);
      if (st.ok()) return rev.version();
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE ||
          std::chrono::steady_clock::now() + backoff > until) {
        return FromGrpc(st).WithContext("append the rollback revision");
      }
      std::this_thread::sleep_for(std::min(backoff, std::chrono::milliseconds(2000)));
    }
  };
}

// Trains with `comm` and prints the rank's summary line.
Status Train(const v1::JobSpec& spec, int rank, int world, const std::string& log_dir,
             Communicator* comm, ScheduleAgreement* agreement, ProgressReporter* reporter,
             RevisionRequester requester = nullptr, std::string* note = nullptr) {
  TrainerOptions topts;
  topts.request_revision = std::move(requester);
  topts.spec = spec;
  topts.rank = rank;
  topts.world_size = world;
  topts.log_dir = log_dir;
  Trainer trainer(topts, comm, agreement, reporter);
  StatusOr<TrainResult> r = trainer.Run();
  if (!r.ok()) return r.status();
  if (note) *note = r->note;
  const std::string why = !r->note.empty() ? " (" + r->note + ")" : r->stopped ? " (stopped)" : "";
  std::printf(
      "cyclr-worker rank %d done: %lld steps, loss %.4f, test accuracy %.4f, %.0f "
      "samples/s%s\n",
      rank, static_cast<long long>(r->steps), r->final_loss, r->test_accuracy,
      r->samples_per_second, why.c_str());
  std::fflush(stdout);
  return Status::Ok();
}

CommunicatorOptions CommOptions(const v1::JobSpec& spec, int rank, int world) {
  CommunicatorOptions copts;
  copts.backend = spec.backend().empty() ? "gloo" : spec.backend();
  copts.rank = rank;
  copts.world_size = world;
  // One process per GPU: the launcher's local rank picks the device (torchrun, Slurm).
  copts.cuda_device = EnvIntOr("LOCAL_RANK", EnvIntOr("SLURM_LOCALID", -1, 0, 1023), 0, 1023);
  // Gloo listens on loopback unless told otherwise: workers spread over hosts by a cluster
  // engine set CYCLR_GLOO_IFNAME (an interface) or CYCLR_GLOO_HOSTNAME (deploy/slurm does).
  if (const char* iface = std::getenv("CYCLR_GLOO_IFNAME"); iface && *iface) copts.iface = iface;
  if (const char* host = std::getenv("CYCLR_GLOO_HOSTNAME"); host && *host) copts.hostname = host;
  // Ranks that share a host use shared memory (found at rendezvous); CYCLR_SHM=0 forces plain
  // Gloo over TCP, for A/B measurements (docs/performance.md).
  if (const char* shm = std::getenv("CYCLR_SHM"); shm && std::string(shm) == "0") {
    copts.shm = ShmMode::kOff;
  }
  return copts;
}

}  // namespace

Status RunWorker(WorkerRunnerOptions o) {
  CYCLR_RETURN_IF_ERROR(RankFromEnvironment(&o));
  const int cores = CoreCount();
  CYCLR_RETURN_IF_ERROR(CheckWorkerOptions(o, cores));
  CYCLR_RETURN_IF_ERROR(MakeLogDir(o.log_dir));
  // A coordinator back from a restart or a partition is noticed within a second, not after
  // gRPC's default reconnect backoff (up to two minutes).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  CYCLR_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> creds,
                         ClientCredentials({o.tls_ca, o.tls_cert, o.tls_key}));
  std::string token = o.worker_token;
  if (token.empty() && !o.worker_token_file.empty()) {
    CYCLR_ASSIGN_OR_RETURN(token, ReadTokenFile(o.worker_token_file, "--worker-token-file"));
  }
  auto channel = CreateAuthorizedChannel(o.coordinator, creds, args, token);
  auto stub = v1::WorkerService::NewStub(channel);
  CYCLR_ASSIGN_OR_RETURN(v1::RegisterResponse reg, Register(stub.get(), o));
  CYCLR_ASSIGN_OR_RETURN(Timeline timeline, FromProto(reg.timeline()));
  const int rank = reg.rank(), world = reg.world_size();

  ScheduleAgreement agreement(timeline);
  TimelineWatcher watcher(channel, o.job, &agreement);
  watcher.Start();
  ProgressReporter reporter(channel, o.job, rank, ProgressReporterOptions{});
  reporter.Start();

  // A spec the worker cannot run is reported like any other failure, before step 0.
  Status result = CheckJobSpecForWorker(reg.spec(), cores);
  std::string note;  // why the job ended early without an error (a range test's stop)
  if (result.ok()) {
    BlasInfo blas;
    const int threads = SetThreads(o, reg.spec(), world, cores, &blas);
    std::printf("cyclr-worker job %s rank %d/%d threads %d blas %s\n", o.job.c_str(), rank, world,
                threads, blas.Describe().c_str());
    std::fflush(stdout);
    reporter.SetRuntime(blas.kind, threads);
    auto store = std::make_shared<CoordinatorStore>(channel, o.job, reg.store_prefix());
    StatusOr<std::unique_ptr<Communicator>> comm =
        MakeCommunicator(CommOptions(reg.spec(), rank, world), store);
    result = comm.status();
    if (result.ok()) {
      result = Train(reg.spec(), rank, world, o.log_dir, comm->get(), &agreement, &reporter,
                     CoordinatorRequester(channel, o.job, std::chrono::seconds(30)), &note);
    }
  }
  // The end is worth waiting for (the coordinator decides the job's state from it), but not
  // forever: the job's outcome is also visible from the process's exit code.
  reporter.Finish(result.ok() ? "" : result.ToString(), std::chrono::seconds(30), note);
  return result;
}

Status RunStandaloneWorker(WorkerRunnerOptions o) {
  CYCLR_RETURN_IF_ERROR(RankFromEnvironment(&o));
  const int cores = CoreCount();
  CYCLR_RETURN_IF_ERROR(CheckWorkerOptions(o, cores));
  if (o.rank < 0 || o.world_size < 1 || o.rank >= o.world_size) {
    return Status::InvalidArgument("standalone mode needs --rank in [0, --world-size)");
  }
  if (o.rendezvous_dir.empty() && o.world_size > 1) {
    return Status::InvalidArgument("standalone mode with several ranks needs --rendezvous-dir");
  }
  CYCLR_ASSIGN_OR_RETURN(v1::JobSpec spec, ReadSpecFile(o.standalone_spec));
  Status checked = CheckJobSpecForWorker(spec, cores);
  if (!checked.ok()) return checked.WithContext(o.standalone_spec);
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec sched, FromProto(spec.schedule()));
  Timeline timeline;
  Revision first;
  first.version = 1;
  first.spec = sched;
  CYCLR_RETURN_IF_ERROR(timeline.Append(first));
  ScheduleAgreement agreement(timeline);
  BlasInfo blas;
  const int threads = SetThreads(o, spec, o.world_size, cores, &blas);
  std::printf("cyclr-worker standalone rank %d/%d threads %d blas %s\n", o.rank, o.world_size,
              threads, blas.Describe().c_str());
  std::fflush(stdout);
  std::shared_ptr<Store> store =
      std::make_shared<FileStore>(o.rendezvous_dir.empty() ? "." : o.rendezvous_dir);
  CYCLR_ASSIGN_OR_RETURN(auto comm,
                         MakeCommunicator(CommOptions(spec, o.rank, o.world_size), store));
  CYCLR_RETURN_IF_ERROR(MakeLogDir(o.log_dir));
  return Train(spec, o.rank, o.world_size, o.log_dir, comm.get(), &agreement, nullptr);
}

}  // namespace cyclr
