// Coordinator: composes the state store, the managers, the gRPC services, the launcher and the
// metrics exporter into one server (the binary's main only parses flags and waits for a signal).
//
// Start() opens the state file, recovers every job and revision (jobs that were RUNNING stay
// RUNNING and wait for their workers to report again), then serves gRPC (with grpc.health.v1
// and server reflection) and, if configured, /metrics. Watch streams and ReportProgress are
// callback RPCs (no thread per open stream; see job_service.h, worker_service.h for why the sync
// pool is not capped). Shutdown() ends watch streams with UNAVAILABLE, stops the server (which
// waits for every stream's OnDone) and persists pending progress; local workers are left running so
// they can report to the next coordinator, which adopts them (JobManager::AdoptWorkers). A watchdog
// thread checks the local workers' heartbeats every heartbeat_timeout / 4 (10 ms to 1 s).
#pragma once

#include <grpcpp/server.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/limits.h"
#include "core/status.h"
#include "proto/tls_credentials.h"
#include "server/admin_service.h"
#include "server/authenticator.h"
#include "server/cluster_options.h"
#include "server/job_manager.h"
#include "server/job_service.h"
#include "server/launcher_router.h"
#include "server/local_launcher.h"
#include "server/metrics_exporter.h"
#include "server/path_policy.h"
#include "server/schedule_manager.h"
#include "server/schedule_service.h"
#include "server/state_store.h"
#include "server/worker_registry.h"
#include "server/worker_service.h"

namespace cyclr {

struct CoordinatorOptions {
  std::string listen = "127.0.0.1:7070";   // port 0 picks a free one
  std::string metrics = "127.0.0.1:9464";  // empty: no /metrics endpoint
  std::string state_path = "./cyclr-state.db";
  std::string work_dir = "./.cyclr";
  std::string worker_binary;  // empty: cyclr-worker next to this executable
  ClusterOptions cluster;     // launchers slurm and kubernetes (off by default)
  std::chrono::milliseconds heartbeat_timeout{10000};
  std::chrono::milliseconds register_timeout{300000};  // see JobManager::Options
  std::chrono::milliseconds retain{0};  // ended jobs older than this are deleted; 0 = never
  std::chrono::milliseconds adoption_grace{30000};  // see JobManager::Options
  std::chrono::milliseconds stop_grace{5000};
  std::chrono::milliseconds persist_interval{1000};
  std::chrono::milliseconds store_timeout{60000};  // StoreGet without a timeout
  int max_jobs = limits::kDefaultMaxJobs;          // see JobManager::Options
  int max_local_workers = limits::kDefaultMaxLocalWorkers;
  // TLS: cert + key serve TLS; ca (the CA of client certificates) requires mutual TLS. Local
  // workers trust worker_ca (default: cert, right for a self-signed one) and, with mutual TLS,
  // present cert + key as their client certificate.
  TlsFiles tls;
  std::string worker_ca;
  // Authentication off, and plaintext allowed on an address other than loopback (the flag
  // --insecure): anyone who can reach the port controls jobs (and, for /metrics without TLS or
  // basic auth, reads them). Otherwise every call needs a token (authenticator.h) and plaintext is
  // served on loopback only.
  bool insecure = false;
  // The admin token: read, or created (0600) with a new token. Empty: beside state_path, named
  // cyclr-admin.token.
  std::string token_file;
  // Folders job specs may write (checkpoint_dir, output_dir) and read, besides work_dir (and,
  // for reads, /usr/share/datasets): path_policy.h. "/" allows every path.
  std::vector<std::string> allow_path_prefixes;
  // /metrics behind HTTP basic auth: a file whose first line is USER:PASSWORD ("" = open; the
  // endpoint is on loopback by default).
  std::string metrics_auth_file;
  // /metrics over HTTPS only (TLS 1.2+), with this certificate chain and private key: PEM files,
  // both or neither (--metrics-tls-cert, --metrics-tls-key; they may be the gRPC ones). Read at
  // start, before anything is written; see metrics_tls.h. Off loopback, /metrics needs this or
  // metrics_auth_file (better both) unless `insecure`.
  std::string metrics_tls_cert;
  std::string metrics_tls_key;
};

// Where the admin token lives by default: cyclr-admin.token in the state file's folder.
std::string DefaultTokenFile(const std::string& state_path);

class Coordinator {
 public:
  static StatusOr<std::unique_ptr<Coordinator>> Start(const CoordinatorOptions& options);
  ~Coordinator();  // Shutdown()

  // "127.0.0.1:<port>" as bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }
  const Authenticator& auth() const { return *auth_; }
  // Idempotent; returns when no RPC is running any more.
  void Shutdown();

  JobManager& jobs() { return *jobs_; }
  ScheduleManager& schedules() { return *schedules_; }
  WorkerRegistry& registry() { return *registry_; }
  MetricsExporter* metrics() { return metrics_.get(); }
  ScheduleService& schedule_service() { return *schedule_service_; }

 private:
  explicit Coordinator(CoordinatorOptions options) : options_(std::move(options)) {}
  // Plaintext off loopback without --insecure is refused (gRPC; /metrics without TLS or basic
  // auth); TLS files are read (before Init()).
  StatusOr<std::shared_ptr<grpc::ServerCredentials>> CheckTransport() const;
  Status Init();
  Status ListenMetrics();  // REQUIRES: metrics_ made, options_.metrics not empty
  Status StartServer();
  // The launchers (local always, slurm and kubernetes when enabled) behind one router; after
  // the server is listening (workers dial address_).
  Status MakeLaunchers();
  std::vector<JobMetrics> MetricsSnapshot() const;
  void WatchHeartbeats();  // the watchdog thread

  CoordinatorOptions options_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<WorkerRegistry> registry_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<PathPolicy> paths_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<JobService> job_service_;
  std::unique_ptr<ScheduleService> schedule_service_;
  std::unique_ptr<WorkerService> worker_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::shared_ptr<grpc::ServerCredentials> server_credentials_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<LauncherRouter> launcher_;
  std::string address_;
  int port_ = 0;
  bool shut_down_ = false;
  std::thread watchdog_;
  std::mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool watchdog_done_ = false;  // GUARDED_BY(watchdog_mu_)
};

}  // namespace cyclr
