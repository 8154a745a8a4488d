// MetricsExporter: the coordinator's Prometheus metrics (docs/metrics.md is the catalog).
//
// Gauges that describe a job's current state (LR, momentum, step, loss, cycle, ...) are pulled
// at scrape time from a snapshot function, so they are never stale and the managers do not know
// about Prometheus. Events (step durations, revisions, worker restarts, RPCs) are pushed as they
// happen. Labels are only job and rank (plus the bounded method/code/state sets): never a step
// or free text. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"
#include "proto/tls_credentials.h"

namespace cyclr {

struct RankMetrics {
  int rank = 0;
  double lr = 0, momentum = 0, loss = 0;
  int64_t step = 0;  // the step of the report these values come from
  std::string blas;  // the BLAS the rank's LibTorch resolved ("" until it said)
  int threads = 0;   // its intra-op threads
};

// What the snapshot function reports for one job.
struct JobMetrics {
  std::string job;
  v1::JobState state = v1::PENDING;
  double lr = 0;        // in force at global_step
  double momentum = 0;  // in force at global_step (the spec's when not cycled)
  int64_t global_step = 0;
  double loss_mean = 0;
  double test_accuracy = 0;
  double test_loss = 0;  // the test MSE for loss mse
  double samples_per_second = 0;
  int64_t cycle = 0;
  double cycle_position = 0;
  int64_t schedule_version = 0;
  int workers_alive = 0;
  int world_size = 0;  // ranks the job runs with (its spec)
  std::vector<RankMetrics> ranks;
};

// How /metrics is served (MetricsExporter::Listen).
struct MetricsListenOptions {
  // With `user` non-empty, a scrape must send HTTP basic auth with `user` and `password`
  // (Prometheus: basic_auth in its scrape config); others get 401.
  std::string user, password;
  // With tls.cert and tls.key (PEM files, both or neither; errors name tls.cert_flag and
  // tls.key_flag), /metrics is served over HTTPS only, TLS 1.2 or later (Prometheus: scheme https
  // and a tls_config whose ca_file signed tls.cert). tls.ca is not used.
  TlsFiles tls;
};

class MetricsExporter {
 public:
  using SnapshotFn = std::function<std::vector<JobMetrics>()>;
  explicit MetricsExporter(SnapshotFn snapshot);
  ~MetricsExporter();

  // Serves /metrics on "HOST:PORT" (port 0 picks a free one). INVALID_ARGUMENT for unusable TLS
  // files (see ReadKeyCertPem in metrics_tls.h); UNAVAILABLE if it cannot bind, or CivetWeb
  // refuses the key and certificate (e.g. they do not match), with CivetWeb's reason.
  Status Listen(const std::string& host_port, const MetricsListenOptions& options = {});
  int port() const { return port_; }  // 0 before Listen

  void ObserveStep(const std::string& job, double step_seconds, double allreduce_seconds);
  void CountRevision(const std::string& job);
  void CountWorkerRestart(const std::string& job);
  // Removes every series labelled with the job (a deleted job).
  void RemoveJob(const std::string& job);
  // `code` is a status code name ("OK", "INVALID_ARGUMENT", ...).
  void ObserveRpc(const std::string& method, const std::string& code, double seconds);

  // The text exposition, as a scrape would return it.
  std::string Render();

 private:
  class Collector;
  void Refresh();  // copies the snapshot into the gauges
  void SetWorkerInfo(const std::string& job, const RankMetrics& r);  // REQUIRES refresh_mu_
  template <typename T>
  static void RemoveSeries(prometheus::Family<T>& family, const prometheus::Labels& labels);

  SnapshotFn snapshot_;
  std::mutex refresh_mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<Collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  std::map<std::string, std::set<int>> ranks_seen_;  // job -> rank labels; GUARDED_BY(refresh_mu_)

  prometheus::Family<prometheus::Gauge>& lr_;
  prometheus::Family<prometheus::Gauge>& momentum_;
  prometheus::Family<prometheus::Gauge>& rank_lr_;
  prometheus::Family<prometheus::Gauge>& rank_momentum_;
  prometheus::Family<prometheus::Gauge>& global_step_;
  prometheus::Family<prometheus::Gauge>& loss_;
  prometheus::Family<prometheus::Gauge>& loss_mean_;
  prometheus::Family<prometheus::Gauge>& accuracy_;
  prometheus::Family<prometheus::Gauge>& test_loss_;
  prometheus::Family<prometheus::Gauge>& samples_per_second_;
  prometheus::Family<prometheus::Gauge>& cycle_index_;
  prometheus::Family<prometheus::Gauge>& cycle_position_;
  prometheus::Family<prometheus::Gauge>& schedule_version_;
  prometheus::Family<prometheus::Gauge>& workers_alive_;
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Family<prometheus::Gauge>& job_state_;
  prometheus::Family<prometheus::Gauge>& world_size_;
  prometheus::Family<prometheus::Gauge>& rank_step_;
  prometheus::Family<prometheus::Gauge>& worker_info_;
  // (job, rank) -> the labels of its cyclr_worker_info series; GUARDED_BY(refresh_mu_)
  std::map<std::pair<std::string, int>, prometheus::Labels> info_labels_;
  prometheus::Family<prometheus::Histogram>& step_duration_;
  prometheus::Family<prometheus::Histogram>& allreduce_duration_;
  prometheus::Family<prometheus::Counter>& revisions_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Family<prometheus::Counter>& rpc_requests_;
  prometheus::Family<prometheus::Histogram>& rpc_duration_;
};

}  // namespace cyclr
