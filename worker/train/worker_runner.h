// WorkerRunner: one cyclr-worker process from registration to exit.
//
// Registers with the coordinator (retrying with backoff while it is unreachable), learns its
// rank, the job spec and the schedule timeline; starts the timeline watcher and the progress
// reporter; rendezvouses with its peers through the coordinator's key-value store; trains; and
// reports the end (finished, or the error). The coordinator is needed to start and for
// rendezvous; after that training goes on whether or not it answers.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace cyclr {

struct WorkerRunnerOptions {
  std::string coordinator = "127.0.0.1:7070";
  std::string job;
  int rank = -1;        // -1: from the environment or assigned by the coordinator
  int world_size = -1;  // -1: from the environment or the job
  std::string log_dir;
  int threads = 0;      // intra-op threads; 0 = the job's setting or cores / local workers
  std::chrono::milliseconds register_timeout{60000};
  // Standalone mode (benchmarks, debugging): no coordinator at all. The job spec comes from a
  // JSON file (the proto's JSON form of cyclr.v1.JobSpec), the schedule is the spec's alone, and
  // ranks rendezvous through files in `rendezvous_dir` (a FileStore).
  std::string standalone_spec;
  std::string rendezvous_dir;
};

// Fills rank and world size from RANK/WORLD_SIZE, or SLURM_PROCID/SLURM_NTASKS, when unset.
void RankFromEnvironment(WorkerRunnerOptions* options);

// Runs the worker; the Status is what the process reports and exits with.
Status RunWorker(WorkerRunnerOptions options);
// Runs one rank without a coordinator (see WorkerRunnerOptions::standalone_spec).
Status RunStandaloneWorker(WorkerRunnerOptions options);

}  // namespace cyclr
