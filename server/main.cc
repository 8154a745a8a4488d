// cyclr-coordinator: parses flags, starts the Coordinator, waits for SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "core/duration.h"
#include "core/host_port.h"
#include "core/limits.h"
#include "server/cluster_flags.h"
#include "server/coordinator.h"

namespace {

// --listen and --metrics as HOST:PORT (port 0: the kernel picks), the metrics TLS flags both or
// neither; exit code 2 when not.
cyclr::Status CheckAddresses(const cyclr::CoordinatorOptions& o) {
  CYCLR_RETURN_IF_ERROR(cyclr::ParseHostPort(o.listen, "--listen", true).status());
  CYCLR_RETURN_IF_ERROR(cyclr::CheckClusterOptions(o.cluster));
  if (o.metrics_tls_cert.empty() != o.metrics_tls_key.empty()) {
    return cyclr::Status::InvalidArgument(
        "--metrics-tls-cert and --metrics-tls-key go together: give both");
  }
  if (o.metrics.empty()) return cyclr::Status::Ok();
  return cyclr::ParseHostPort(o.metrics, "--metrics", true).status();
}

// The startup line's metrics URL: with the port as bound.
std::string MetricsUrl(const cyclr::CoordinatorOptions& o, int port) {
  if (o.metrics.empty()) return "off";
  return (o.metrics_tls_cert.empty() ? "http://" : "https://") +
         o.metrics.substr(0, o.metrics.rfind(':')) + ":" + std::to_string(port) + "/metrics";
}

}  // namespace

int main(int argc, char** argv) {
  cyclr::CoordinatorOptions o;
  int64_t heartbeat_ms = o.heartbeat_timeout.count();
  int64_t grace_ms = o.stop_grace.count();
  int64_t adoption_ms = o.adoption_grace.count();
  int64_t register_ms = o.register_timeout.count();
  std::string retain = "0";
  CLI::App app{"cyclr coordinator: jobs, schedule timelines and metrics"};
  app.add_option("--listen", o.listen, "gRPC address HOST:PORT")->capture_default_str();
  app.add_option("--metrics", o.metrics, "Prometheus address HOST:PORT ('' = off)")
      ->capture_default_str();
  app.add_option("--state", o.state_path, "SQLite state file")->capture_default_str();
  app.add_option("--work-dir", o.work_dir, "Folder for worker logs")->capture_default_str();
  app.add_option("--worker-binary", o.worker_binary,
                 "cyclr-worker to start for local jobs (default: next to this binary)");
  app.add_option("--heartbeat-timeout-ms", heartbeat_ms,
                 "A rank is alive this long after a report; a silent local worker fails")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--register-timeout-ms", register_ms,
                 "A started local worker that has not registered this long failed (cold starts "
                 "of LibTorch can take tens of seconds)")
      ->check(CLI::Range(int64_t{1}, cyclr::limits::kMaxTimeoutMs))
      ->capture_default_str();
  app.add_option("--retain", retain,
                 "Delete ended jobs this long after they ended: N with unit s, m, h or d "
                 "(e.g. 7d); 0 keeps them until `cyclrctl jobs delete`")
      ->capture_default_str();
  app.add_option("--adoption-grace-ms", adoption_ms,
                 "After a restart, how long running local workers have to report again")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--stop-grace-ms", grace_ms, "SIGTERM to SIGKILL delay when stopping workers")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-jobs", o.max_jobs, "Jobs the coordinator holds, finished ones included")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-local-workers", o.max_local_workers,
                 "Workers of unfinished local jobs, all jobs together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--tls-cert", o.tls.cert, "serve TLS with this certificate chain (PEM)");
  app.add_option("--tls-key", o.tls.key, "the certificate's private key (PEM)");
  app.add_option("--tls-client-ca", o.tls.ca,
                 "mutual TLS: require client certificates signed by this CA (PEM); local "
                 "workers present --tls-cert");
  app.add_option("--tls-worker-ca", o.worker_ca,
                 "the CA local workers trust for this coordinator (default --tls-cert)");
  app.add_flag("--insecure", o.insecure,
               "turn authentication off and allow plaintext gRPC (and /metrics without TLS or "
               "basic auth) off loopback: anyone who can reach the port controls jobs");
  app.add_option("--allow-path-prefix", o.allow_path_prefixes,
                 "a folder job specs may write and read (checkpoint_dir, output_dir, data_dir, "
                 "model_file, resume_from), besides --work-dir and /usr/share/datasets; "
                 "repeatable; / allows any path")
      ->take_all();
  app.add_option("--metrics-auth-file", o.metrics_auth_file,
                 "/metrics requires HTTP basic auth with the USER:PASSWORD on this file's first "
                 "line (Prometheus: basic_auth with password_file)");
  app.add_option("--metrics-tls-cert", o.metrics_tls_cert,
                 "serve /metrics over HTTPS only (TLS 1.2+) with this certificate chain (PEM; "
                 "may be --tls-cert; Prometheus: scheme https, tls_config ca_file). Off "
                 "loopback, /metrics needs TLS or --metrics-auth-file (or --insecure)");
  app.add_option("--metrics-tls-key", o.metrics_tls_key,
                 "the private key of --metrics-tls-cert (PEM, unencrypted)");
  app.add_option("--token-file", o.token_file,
                 "the admin token: read, or created 0600 (default: cyclr-admin.token beside "
                 "--state)");
  int64_t cluster_poll_ms = o.cluster.poll_interval.count();
  cyclr::AddClusterFlags(&app, &o.cluster, &cluster_poll_ms);
  CLI11_PARSE(app, argc, argv);
  o.cluster.poll_interval = std::chrono::milliseconds(cluster_poll_ms);
  o.tls.ca_flag = "--tls-client-ca";
  if (o.insecure) {
    std::fprintf(stderr,
                 "cyclr-coordinator: WARNING: --insecure: no authentication%s; anyone who can "
                 "reach %s can launch, stop and change jobs\n",
                 o.tls.cert.empty() ? " and plaintext gRPC" : "", o.listen.c_str());
  }
  if (cyclr::Status st = CheckAddresses(o); !st.ok()) {
    std::fprintf(stderr, "cyclr-coordinator: %s\n", st.message().c_str());
    return 2;
  }
  cyclr::StatusOr<std::chrono::milliseconds> retain_ms = cyclr::ParseDuration(retain, "--retain");
  if (!retain_ms.ok()) {
    std::fprintf(stderr, "cyclr-coordinator: %s\n", retain_ms.status().message().c_str());
    return 2;
  }
  o.retain = *retain_ms;
  o.register_timeout = std::chrono::milliseconds(register_ms);
  o.heartbeat_timeout = std::chrono::milliseconds(heartbeat_ms);
  o.stop_grace = std::chrono::milliseconds(grace_ms);
  o.adoption_grace = std::chrono::milliseconds(adoption_ms);

  // Block the signals in every thread (gRPC's included); the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto coordinator = cyclr::Coordinator::Start(o);
  if (!coordinator.ok()) {
    std::fprintf(stderr, "cyclr-coordinator: %s\n", coordinator.status().message().c_str());
    return 1;
  }
  std::string metrics = MetricsUrl(o, (*coordinator)->metrics_port());
  std::printf("cyclr-coordinator listening on %s metrics on %s state %s\n",
              (*coordinator)->address().c_str(), metrics.c_str(), o.state_path.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "cyclr-coordinator: %s, shutting down\n", strsignal(sig));
  (*coordinator)->Shutdown();
  return 0;
}
