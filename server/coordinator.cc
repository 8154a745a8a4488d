#include "server/coordinator.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "proto/authorized_channel.h"
#include "server/launcher_factory.h"
#include "server/local_launcher.h"
#include "server/manager_util.h"
#include "server/metrics_tls.h"

namespace cyclr {
namespace {

// "host:port" -> host ("[::1]:80" -> "[::1]").
std::string HostOf(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  return colon == std::string::npos ? host_port : host_port.substr(0, colon);
}

TlsFiles MetricsTlsFiles(const CoordinatorOptions& o) {
  TlsFiles tls;
  tls.cert = o.metrics_tls_cert;
  tls.key = o.metrics_tls_key;
  tls.cert_flag = "--metrics-tls-cert";
  tls.key_flag = "--metrics-tls-key";
  return tls;
}

// /metrics off loopback needs TLS or basic auth (or --insecure), as gRPC needs TLS. Its TLS files
// are read here, so a bad one is refused before the state file is written.
Status CheckMetricsTransport(const CoordinatorOptions& o) {
  if (o.metrics.empty()) return Status::Ok();
  if (!o.metrics_tls_cert.empty() || !o.metrics_tls_key.empty()) {
    CYCLR_RETURN_IF_ERROR(ReadKeyCertPem(MetricsTlsFiles(o)).status());
    return LoadCivetWebSsl();
  }
  if (o.metrics_auth_file.empty() && !IsLoopbackAddress(o.metrics) && !o.insecure) {
    return Status::FailedPrecondition(
        "refusing to serve /metrics on " + o.metrics +
        " without TLS or basic auth: anyone who reaches it could read every job's metrics; give "
        "--metrics-tls-cert and --metrics-tls-key, and/or --metrics-auth-file, or --insecure to "
        "accept that");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Coordinator>> Coordinator::Start(const CoordinatorOptions& options) {
  std::unique_ptr<Coordinator> c(new Coordinator(options));
  // The transport first: a refused start leaves no state or token file behind.
  CYCLR_ASSIGN_OR_RETURN(c->server_credentials_, c->CheckTransport());
  CYCLR_RETURN_IF_ERROR(c->Init());
  CYCLR_RETURN_IF_ERROR(c->StartServer());
  return c;
}

std::string DefaultTokenFile(const std::string& state_path) {
  std::filesystem::path dir = std::filesystem::path(state_path).parent_path();
  if (dir.empty()) dir = ".";
  return (dir / "cyclr-admin.token").string();
}

Status Coordinator::Init() {
  CYCLR_ASSIGN_OR_RETURN(store_, StateStore::Open(options_.state_path));
  Authenticator::Options ao;
  ao.enabled = !options_.insecure;
  ao.admin_token_file =
      options_.token_file.empty() ? DefaultTokenFile(options_.state_path) : options_.token_file;
  CYCLR_ASSIGN_OR_RETURN(auth_, Authenticator::Open(ao, store_.get()));
  schedules_ = std::make_unique<ScheduleManager>(store_.get());
  registry_ = std::make_unique<WorkerRegistry>(
      [this](const std::string& job) { return jobs_->SpecForWorkers(job); },
      options_.heartbeat_timeout);
  JobManager::Options jo;
  jo.persist_interval = options_.persist_interval;
  jo.heartbeat_timeout = options_.heartbeat_timeout;
  jo.register_timeout = options_.register_timeout;
  jo.adoption_grace = options_.adoption_grace;
  jo.max_jobs = options_.max_jobs;
  jo.max_local_workers = options_.max_local_workers;
  jo.on_group_restart = [this](const std::string& job) {
    registry_->NewIncarnation(job);
    if (metrics_) metrics_->CountWorkerRestart(job);
  };
  jo.mint_worker_token = [this](const std::string& job) { return auth_->MintWorkerToken(job); };
  std::vector<std::string> write = options_.allow_path_prefixes;
  write.push_back(options_.work_dir);
  paths_ = std::make_unique<PathPolicy>(write, std::vector<std::string>{kDatasetsPrefix});
  jo.check_paths = [this](const v1::JobSpec& spec) { return paths_->Check(spec); };
  jo.on_deleted = [this](const std::string& job) {
    auth_->ForgetJob(job);
    registry_->RemoveJob(job);
    if (metrics_) metrics_->RemoveJob(job);
  };
  jobs_ = std::make_unique<JobManager>(
      store_.get(), schedules_.get(), jo,
      [this](const std::string& job, int rank) { return registry_->Alive(job, rank); });
  CYCLR_RETURN_IF_ERROR(jobs_->Recover());
  metrics_ = std::make_unique<MetricsExporter>([this] { return MetricsSnapshot(); });
  if (!options_.metrics.empty()) CYCLR_RETURN_IF_ERROR(ListenMetrics());
  job_service_ = std::make_unique<JobService>(jobs_.get(), auth_.get(), metrics_.get());
  schedule_service_ =
      std::make_unique<ScheduleService>(schedules_.get(), auth_.get(), metrics_.get());
  worker_service_ =
      std::make_unique<WorkerService>(jobs_.get(), schedules_.get(), registry_.get(), auth_.get(),
                                      metrics_.get(), options_.store_timeout);
  admin_service_ = std::make_unique<AdminService>(auth_.get(), metrics_.get());
  return Status::Ok();
}

Status Coordinator::ListenMetrics() {
  MetricsListenOptions mo;
  mo.tls = MetricsTlsFiles(options_);
  if (!options_.metrics_auth_file.empty()) {
    CYCLR_ASSIGN_OR_RETURN(std::string line,
                           ReadTokenFile(options_.metrics_auth_file, "--metrics-auth-file"));
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string::npos || colon + 1 == line.size()) {
      return Status::InvalidArgument("--metrics-auth-file " + options_.metrics_auth_file +
                                     " must hold USER:PASSWORD on its first line");
    }
    mo.user = line.substr(0, colon);
    mo.password = line.substr(colon + 1);
  }
  return metrics_->Listen(options_.metrics, mo);
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> Coordinator::CheckTransport() const {
  CYCLR_RETURN_IF_ERROR(CheckMetricsTransport(options_));
  if (options_.tls.cert.empty() && !IsLoopbackAddress(options_.listen) && !options_.insecure) {
    return Status::FailedPrecondition(
        "refusing to listen on " + options_.listen +
        " without TLS: anyone who reaches it could launch, stop and change jobs; give "
        "--tls-cert and --tls-key (and --tls-client-ca for mutual TLS), or --insecure to accept "
        "that");
  }
  return ServerCredentials(options_.tls);
}

Status Coordinator::StartServer() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, server_credentials_, &port_);
  // Clients (cyclrctl --follow) ping every 10 s to notice a frozen coordinator: allow it.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(job_service_.get());
  builder.RegisterService(schedule_service_.get());
  builder.RegisterService(worker_service_.get());
  builder.RegisterService(admin_service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    return Status::Unavailable("cannot listen on " + options_.listen);
  }
  address_ = HostOf(options_.listen) + ":" + std::to_string(port_);
  if (address_.rfind("0.0.0.0:", 0) == 0) address_ = "127.0.0.1:" + std::to_string(port_);

  CYCLR_RETURN_IF_ERROR(MakeLaunchers());
  jobs_->SetLauncher(launcher_.get());
  jobs_->AdoptWorkers();
  watchdog_ = std::thread([this] { WatchHeartbeats(); });
  return Status::Ok();
}

Status Coordinator::MakeLaunchers() {
  LauncherSetup setup;
  setup.worker_binary = options_.worker_binary.empty() ? LocalLauncher::DefaultWorkerBinary()
                                                       : options_.worker_binary;
  setup.address = address_;
  setup.work_dir = options_.work_dir;
  setup.worker_tls = WorkerTls(options_.tls, options_.worker_ca);
  setup.stop_grace = options_.stop_grace;
  setup.cluster = options_.cluster;
  CYCLR_ASSIGN_OR_RETURN(
      launcher_, cyclr::MakeLaunchers(
                     setup, [this](const std::string& job) { return jobs_->LauncherOf(job); },
                     [this](const WorkerExit& x) { jobs_->OnWorkerExit(x); },
                     [this](const std::string& job, const v1::ClusterJob& c) {
                       jobs_->OnClusterChange(job, c);
                     }));
  return Status::Ok();
}

// The checker also watches itself: a gap between two of its rounds much longer than its period
// means this process was stopped or starved, and the workers' silence it would measure is its
// own. Then every rank gets a grace period (as after a restart) before heartbeats count again.
void Coordinator::WatchHeartbeats() {
  using Clock = std::chrono::steady_clock;
  auto period = std::clamp(options_.heartbeat_timeout / 4, std::chrono::milliseconds(10),
                           std::chrono::milliseconds(1000));
  auto stall = period + options_.heartbeat_timeout / 4;
  Clock::time_point last = Clock::now();
  std::unique_lock<std::mutex> lock(watchdog_mu_);
  while (!watchdog_cv_.wait_for(lock, period, [this] { return watchdog_done_; })) {
    lock.unlock();
    Clock::time_point now = Clock::now();
    if (now - last > stall) {
      std::fprintf(stderr, "cyclr-coordinator: stalled for %lld ms; workers get a grace period\n",
                   static_cast<long long>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(now - last).count()));
      jobs_->GrantGrace(now);
    }
    jobs_->CheckHeartbeats(now);
    if (options_.retain.count() > 0) jobs_->ExpireEnded(NowUnixMs(), options_.retain);
    last = now;
    lock.lock();
  }
}

Coordinator::~Coordinator() { Shutdown(); }

void Coordinator::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (watchdog_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(watchdog_mu_);
      watchdog_done_ = true;
    }
    watchdog_cv_.notify_all();
    watchdog_.join();
  }
  if (job_service_) job_service_->Shutdown();
  if (schedule_service_) schedule_service_->Shutdown();
  if (registry_) registry_->Shutdown();
  if (jobs_) jobs_->Shutdown();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (jobs_) jobs_->SetLauncher(nullptr);
  launcher_.reset();
  metrics_.reset();
  if (jobs_) jobs_->Shutdown();  // persists what the last RPCs changed
}

std::vector<JobMetrics> Coordinator::MetricsSnapshot() const {
  std::vector<JobMetrics> out;
  for (const v1::Job& job : jobs_->List()) {
    JobMetrics m;
    m.job = job.name();
    m.state = job.state();
    m.global_step = job.global_step();
    m.lr = job.lr();
    m.momentum = job.has_momentum() ? job.momentum() : job.spec().momentum();
    m.loss_mean = job.loss();
    m.test_accuracy = job.test_accuracy();
    m.test_loss = job.test_loss();
    m.samples_per_second = job.samples_per_second();
    m.schedule_version = job.schedule_version();
    StatusOr<TimelinePoint> p = schedules_->PointAt(job.name(), job.global_step());
    if (p.ok()) {
      m.lr = p->lr;
      if (p->momentum) m.momentum = *p->momentum;
      m.cycle = p->cycle;
      m.cycle_position = p->cycle_position;
      m.schedule_version = p->version;
    }
    m.workers_alive = registry_->AliveCount(job.name());
    m.world_size = job.spec().workers();
    for (const v1::RankStatus& r : job.ranks()) {
      m.ranks.push_back(
          RankMetrics{r.rank(), r.lr(), r.momentum(), r.loss(), r.step(), r.blas(), r.threads()});
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace cyclr
