// cyclr-worker: one data-parallel training process (one per GPU, or --workers N on CPU).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "worker/train/worker_runner.h"

int main(int argc, char** argv) {
  cyclr::WorkerRunnerOptions o;
  CLI::App app{"cyclr-worker: trains one rank of a cyclr job"};
  app.add_option("--coordinator", o.coordinator, "coordinator HOST:PORT");
  app.add_option("--job", o.job, "job name (required unless --standalone)");
  app.add_option("--rank", o.rank, "rank (default: RANK or SLURM_PROCID, else assigned)");
  app.add_option("--world-size", o.world_size, "world size (default: WORLD_SIZE or SLURM_NTASKS)");
  app.add_option("--log-dir", o.log_dir, "where to write per-rank logs and final parameters");
  app.add_option("--threads", o.threads, "intra-op threads (default: cores / local workers)");
  app.add_option("--standalone", o.standalone_spec,
                 "run without a coordinator: JobSpec as JSON (benchmarks)");
  app.add_option("--rendezvous-dir", o.rendezvous_dir, "standalone: folder shared by the ranks");
  CLI11_PARSE(app, argc, argv);
  cyclr::Status st =
      o.standalone_spec.empty() ? cyclr::RunWorker(o) : cyclr::RunStandaloneWorker(o);
  if (!st.ok()) {
    std::fprintf(stderr, "cyclr-worker: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
