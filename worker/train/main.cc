// cyclr-worker: one data-parallel training process (one per GPU, or --workers N on CPU).
//
// Exit codes: 0 done; 2 invalid input: a flag (or RANK/WORLD_SIZE) that does not parse or breaks
// its rule, found before anything is contacted, or a job spec or data file the worker refuses
// (INVALID_ARGUMENT); 1 any other failure. Errors are one line on stderr.
#include <CLI/CLI.hpp>
#include <cstdlib>

#include <cstdio>

#include "worker/train/worker_runner.h"

namespace {

constexpr int kUsageExit = 2;

void PrintError(const std::string& message) {
  // Progress lines go to stdout, buffered; flushed first so the error is the log's last line
  // (the coordinator reports a failed worker's last lines as the job's reason).
  std::fflush(stdout);
  std::fprintf(stderr, "cyclr-worker: %s\n", message.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  cyclr::WorkerRunnerOptions o;
  CLI::App app{"cyclr-worker: trains one rank of a cyclr job"};
  app.add_option("--coordinator", o.coordinator, "coordinator HOST:PORT");
  app.add_option("--job", o.job, "job name (required unless --standalone)");
  if (const char* v = std::getenv("CYCLR_TLS_CA")) o.tls_ca = v;
  if (const char* v = std::getenv("CYCLR_TLS_CERT")) o.tls_cert = v;
  if (const char* v = std::getenv("CYCLR_TLS_KEY")) o.tls_key = v;
  if (const char* v = std::getenv("CYCLR_WORKER_TOKEN")) o.worker_token = v;
  if (const char* v = std::getenv("CYCLR_WORKER_TOKEN_FILE")) o.worker_token_file = v;
  app.add_option("--worker-token-file", o.worker_token_file,
                 "the job's worker credential (default $CYCLR_WORKER_TOKEN, which wins)");
  app.add_option("--tls-ca", o.tls_ca, "talk TLS to the coordinator, trusting this CA (PEM)");
  app.add_option("--tls-cert", o.tls_cert, "mutual TLS: this worker's certificate (PEM)");
  app.add_option("--tls-key", o.tls_key, "mutual TLS: its private key (PEM)");
  // CLI::Number first: a word gets "--rank: Value x required to be a number" (the flag named)
  // instead of CLI11's conversion message.
  app.add_option("--rank", o.rank, "rank (default: RANK or SLURM_PROCID, else assigned)")
      ->check(CLI::Number);
  app.add_option("--world-size", o.world_size, "world size (default: WORLD_SIZE or SLURM_NTASKS)")
      ->check(CLI::Number);
  app.add_option("--log-dir", o.log_dir, "where to write per-rank logs and final parameters");
  app.add_option("--threads", o.threads,
                 "intra-op threads, 0 to cores x 4 (default: cores / local workers)")
      ->check(CLI::Number);
  app.add_option("--standalone", o.standalone_spec,
                 "run without a coordinator: JobSpec as JSON (benchmarks)");
  app.add_option("--rendezvous-dir", o.rendezvous_dir, "standalone: folder shared by the ranks");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    PrintError(e.what());
    return kUsageExit;
  }
  cyclr::Status flags = cyclr::RankFromEnvironment(&o);
  if (flags.ok()) flags = cyclr::CheckWorkerOptions(o, cyclr::CoreCount());
  if (!flags.ok()) {
    PrintError(flags.message());
    return kUsageExit;
  }
  cyclr::Status st =
      o.standalone_spec.empty() ? cyclr::RunWorker(o) : cyclr::RunStandaloneWorker(o);
  if (!st.ok()) {
    PrintError(st.ToString());
    return st.code() == cyclr::StatusCode::kInvalidArgument ? kUsageExit : 1;
  }
  return 0;
}
