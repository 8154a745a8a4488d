#include "server/metrics_exporter.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <map>
#include <set>
#include <type_traits>

#include "core/file_sha256.h"
#include "server/metrics_tls.h"

namespace cyclr {
namespace {

using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

Family<Gauge>& G(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
Family<prometheus::Counter>& C(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Histogram>& H(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

// 1 ms .. ~16 s, doubling: step and all-reduce times on CPU and GPU.
const Histogram::BucketBoundaries& DurationBuckets() {
  static const Histogram::BucketBoundaries b = [] {
    Histogram::BucketBoundaries v;
    for (double x = 0.001; x < 20; x *= 2) v.push_back(x);
    return v;
  }();
  return b;
}

const v1::JobState kStates[] = {v1::PENDING, v1::RUNNING, v1::SUCCEEDED, v1::FAILED, v1::STOPPED};

// CivetWeb says why it cannot start (a port in use, a key that does not match its certificate)
// through log_message, on the thread that starts it: StartExposer points this at its message.
// Later messages (a client's failed TLS handshake, on CivetWeb's threads) are dropped, as
// CivetWeb drops them without an error_log_file.
thread_local std::string* civet_start_errors = nullptr;

int OnCivetMessage(const mg_connection*, const char* message) {
  if (civet_start_errors) {
    if (!civet_start_errors->empty()) *civet_start_errors += "; ";
    *civet_start_errors += message;
  }
  return 1;  // handled
}

const CivetCallbacks& Callbacks() {
  static const CivetCallbacks callbacks = [] {
    CivetCallbacks c;
    c.log_message = OnCivetMessage;
    return c;
  }();
  return callbacks;
}

// The Exposer on CivetWeb `options`; UNAVAILABLE "`what`: CivetWeb's reason" if it cannot start.
StatusOr<std::unique_ptr<prometheus::Exposer>> StartExposer(const std::vector<std::string>& options,
                                                            const std::string& what) {
  std::string errors;
  civet_start_errors = &errors;
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(options, &Callbacks());
    civet_start_errors = nullptr;
    return exposer;
  } catch (const std::exception& e) {
    civet_start_errors = nullptr;
    return Status::Unavailable(what + ": " + (errors.empty() ? std::string(e.what()) : errors));
  }
}

}  // namespace

// Refreshes the pulled gauges, then hands out the registry's families.
class MetricsExporter::Collector : public prometheus::Collectable {
 public:
  explicit Collector(MetricsExporter* owner) : owner_(owner) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    owner_->Refresh();
    return owner_->registry_->Collect();
  }

 private:
  MetricsExporter* owner_;
};

MetricsExporter::MetricsExporter(SnapshotFn snapshot)
    : snapshot_(std::move(snapshot)),
      registry_(std::make_shared<prometheus::Registry>()),
      collector_(std::make_shared<Collector>(this)),
      lr_(G(*registry_, "cyclr_learning_rate", "LR in force at the job's global step")),
      momentum_(G(*registry_, "cyclr_momentum", "Momentum in force at the job's global step")),
      rank_lr_(G(*registry_, "cyclr_rank_learning_rate", "LR a rank last reported")),
      rank_momentum_(G(*registry_, "cyclr_rank_momentum", "Momentum a rank last reported")),
      global_step_(G(*registry_, "cyclr_global_step", "Lowest step every rank reported")),
      loss_(G(*registry_, "cyclr_loss", "Training loss a rank last reported")),
      loss_mean_(G(*registry_, "cyclr_loss_mean", "Mean of the ranks' last losses")),
      accuracy_(G(*registry_, "cyclr_test_accuracy_ratio", "Test accuracy after the last epoch")),
      test_loss_(G(*registry_, "cyclr_test_loss",
                   "Test loss after the last epoch (the test MSE for loss mse)")),
      samples_per_second_(G(*registry_, "cyclr_samples_per_second", "Sum over ranks")),
      cycle_index_(G(*registry_, "cyclr_cycle_index", "0-based LR cycle at the global step")),
      cycle_position_(G(*registry_, "cyclr_cycle_position_ratio", "Fraction of the cycle done")),
      schedule_version_(G(*registry_, "cyclr_schedule_version", "Revision in force")),
      workers_alive_(G(*registry_, "cyclr_workers_alive", "Ranks with a recent heartbeat")),
      jobs_(G(*registry_, "cyclr_jobs", "Jobs by state")),
      job_state_(
          G(*registry_, "cyclr_job_state", "1 for the job's current state, 0 for the others")),
      world_size_(G(*registry_, "cyclr_job_world_size", "Ranks the job runs with")),
      rank_step_(G(*registry_, "cyclr_rank_step", "Step of a rank's last report")),
      worker_info_(G(*registry_, "cyclr_worker_info",
                     "1 per rank, labelled with the BLAS its LibTorch resolved and its threads")),
      step_duration_(H(*registry_, "cyclr_step_duration_seconds", "Reported step time")),
      allreduce_duration_(H(*registry_, "cyclr_allreduce_duration_seconds",
                            "Reported gradient all-reduce time per step")),
      revisions_(C(*registry_, "cyclr_schedule_revisions_total", "Schedule updates accepted")),
      restarts_(C(*registry_, "cyclr_worker_restarts_total",
                  "Worker-group restarts (by the coordinator, or a rank registering again)")),
      rpc_requests_(C(*registry_, "cyclr_rpc_requests_total", "RPCs served, by method and code")),
      rpc_duration_(H(*registry_, "cyclr_rpc_duration_seconds", "RPC handling time")) {}

MetricsExporter::~MetricsExporter() {
  exposer_.reset();  // stops the HTTP threads before the collector goes away
}

Status MetricsExporter::Listen(const std::string& host_port, const MetricsListenOptions& o) {
  const TlsFiles& tls = o.tls;
  std::vector<std::string> civet{"listening_ports", host_port, "num_threads", "2"};
  std::string what = "metrics: cannot listen on " + host_port;
  std::unique_ptr<TempKeyCertFile> key_cert;  // removed as soon as CivetWeb has loaded it
  if (!tls.cert.empty() || !tls.key.empty()) {
    CYCLR_ASSIGN_OR_RETURN(KeyCertPem pem, ReadKeyCertPem(tls));
    CYCLR_RETURN_IF_ERROR(LoadCivetWebSsl());
    CYCLR_ASSIGN_OR_RETURN(key_cert, TempKeyCertFile::Write(pem));
    civet[1] += "s";  // CivetWeb: a port ending in s speaks TLS only
    // CivetWeb's table: 4 = TLS 1.2 and 1.3 (its default since 1.14; set, not assumed).
    civet.insert(civet.end(), {"ssl_certificate", key_cert->path(), "ssl_protocol_version", "4"});
    what = "metrics: cannot serve HTTPS on " + host_port + " with " + tls.cert_flag + " " +
           tls.cert + " and " + tls.key_flag + " " + tls.key;
  }
  CYCLR_ASSIGN_OR_RETURN(exposer_, StartExposer(civet, what));
  key_cert.reset();
  exposer_->RegisterCollectable(collector_);
  if (!o.user.empty()) {
    // Compared by digest, so the comparison's time does not tell how much of a guess was right.
    exposer_->RegisterAuth(
        [want = Sha256Hex(o.user + ":" + o.password)](const std::string& u, const std::string& p) {
          return Sha256Hex(u + ":" + p) == want;
        },
        "cyclr");
  }
  std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
  return Status::Ok();
}

void MetricsExporter::ObserveStep(const std::string& job, double step_seconds,
                                  double allreduce_seconds) {
  if (step_seconds > 0) step_duration_.Add({{"job", job}}, DurationBuckets()).Observe(step_seconds);
  if (allreduce_seconds > 0) {
    allreduce_duration_.Add({{"job", job}}, DurationBuckets()).Observe(allreduce_seconds);
  }
}

void MetricsExporter::CountRevision(const std::string& job) {
  revisions_.Add({{"job", job}}).Increment();
}

void MetricsExporter::CountWorkerRestart(const std::string& job) {
  restarts_.Add({{"job", job}}).Increment();
}

void MetricsExporter::ObserveRpc(const std::string& method, const std::string& code,
                                 double seconds) {
  rpc_requests_.Add({{"method", method}, {"code", code}}).Increment();
  rpc_duration_.Add({{"method", method}}, DurationBuckets()).Observe(seconds);
}

template <typename T>
void MetricsExporter::RemoveSeries(prometheus::Family<T>& family,
                                   const prometheus::Labels& labels) {
  if (!family.Has(labels)) return;
  if constexpr (std::is_same_v<T, prometheus::Histogram>) {
    family.Remove(&family.Add(labels, DurationBuckets()));
  } else {
    family.Remove(&family.Add(labels));
  }
}

// One series per rank: a rank that comes back with another BLAS or thread count replaces it.
void MetricsExporter::SetWorkerInfo(const std::string& job, const RankMetrics& r) {
  prometheus::Labels labels{{"job", job},
                            {"rank", std::to_string(r.rank)},
                            {"blas", r.blas},
                            {"threads", std::to_string(r.threads)}};
  prometheus::Labels& current = info_labels_[{job, r.rank}];
  if (current != labels) {
    if (!current.empty()) RemoveSeries(worker_info_, current);
    current = labels;
  }
  worker_info_.Add(labels).Set(1);
}

void MetricsExporter::RemoveJob(const std::string& job) {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  const prometheus::Labels l{{"job", job}};
  for (auto* f :
       {&lr_, &momentum_, &global_step_, &loss_mean_, &accuracy_, &test_loss_, &samples_per_second_,
        &cycle_index_, &cycle_position_, &schedule_version_, &workers_alive_, &world_size_}) {
    RemoveSeries(*f, l);
  }
  for (v1::JobState s : kStates)
    RemoveSeries(job_state_, {{"job", job}, {"state", v1::JobState_Name(s)}});
  RemoveSeries(revisions_, l);
  RemoveSeries(restarts_, l);
  RemoveSeries(step_duration_, l);
  RemoveSeries(allreduce_duration_, l);
  for (int rank : ranks_seen_[job]) {
    prometheus::Labels rl{{"job", job}, {"rank", std::to_string(rank)}};
    for (auto* f : {&rank_lr_, &rank_momentum_, &loss_, &rank_step_}) RemoveSeries(*f, rl);
    auto info = info_labels_.find({job, rank});
    if (info != info_labels_.end()) {
      RemoveSeries(worker_info_, info->second);
      info_labels_.erase(info);
    }
  }
  ranks_seen_.erase(job);
}

std::string MetricsExporter::Render() {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(collector_->Collect());
}

void MetricsExporter::Refresh() {
  // The snapshot is taken under the lock: a RemoveJob() cannot fall between it and the gauges
  // (the deleted job's series would come back). Lock order: refresh_mu_ -> the managers'.
  std::lock_guard<std::mutex> lock(refresh_mu_);
  std::vector<JobMetrics> jobs = snapshot_ ? snapshot_() : std::vector<JobMetrics>{};
  std::map<v1::JobState, int> by_state;
  for (const JobMetrics& j : jobs) {
    ++by_state[j.state];
    prometheus::Labels l{{"job", j.job}};
    lr_.Add(l).Set(j.lr);
    momentum_.Add(l).Set(j.momentum);
    global_step_.Add(l).Set(static_cast<double>(j.global_step));
    loss_mean_.Add(l).Set(j.loss_mean);
    accuracy_.Add(l).Set(j.test_accuracy);
    test_loss_.Add(l).Set(j.test_loss);
    samples_per_second_.Add(l).Set(j.samples_per_second);
    cycle_index_.Add(l).Set(static_cast<double>(j.cycle));
    cycle_position_.Add(l).Set(j.cycle_position);
    schedule_version_.Add(l).Set(static_cast<double>(j.schedule_version));
    workers_alive_.Add(l).Set(j.workers_alive);
    world_size_.Add(l).Set(j.world_size);
    for (v1::JobState s : kStates) {  // a state set: every state present, the current one 1
      job_state_.Add({{"job", j.job}, {"state", v1::JobState_Name(s)}}).Set(s == j.state ? 1 : 0);
    }
    revisions_.Add(l);  // present (0) before the first update
    restarts_.Add(l);
    for (const RankMetrics& r : j.ranks) {
      prometheus::Labels rl{{"job", j.job}, {"rank", std::to_string(r.rank)}};
      ranks_seen_[j.job].insert(r.rank);
      rank_lr_.Add(rl).Set(r.lr);
      rank_momentum_.Add(rl).Set(r.momentum);
      loss_.Add(rl).Set(r.loss);
      rank_step_.Add(rl).Set(static_cast<double>(r.step));
      if (!r.blas.empty()) SetWorkerInfo(j.job, r);
    }
  }
  for (v1::JobState s : kStates) {
    jobs_.Add({{"state", v1::JobState_Name(s)}}).Set(by_state[s]);
  }
}

}  // namespace cyclr
