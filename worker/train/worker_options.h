// What a cyclr-worker is told (flags, environment, the job spec) and the checks it makes of it.
//
// Every value is range-checked before it is used; a violation is INVALID_ARGUMENT naming the
// flag or field and the rule ("--threads (1000) must be between 0 and 8 (2 cores × 4)"). The
// flags are checked before the worker contacts anyone; the job spec (from the coordinator or a
// standalone file) before it sets up training. Torch-free, so the checks build and test fast.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

struct WorkerRunnerOptions {
  std::string coordinator = "127.0.0.1:7070";
  // TLS to the coordinator: the CA to trust, and a client certificate for mutual TLS (the local
  // launcher passes the coordinator's; else $CYCLR_TLS_CA/_CERT/_KEY). Empty ca: plaintext.
  std::string tls_ca, tls_cert, tls_key;
  // The job's worker credential: $CYCLR_WORKER_TOKEN (the local launcher sets it), else the first
  // line of --worker-token-file / $CYCLR_WORKER_TOKEN_FILE (external launches).
  std::string worker_token;
  std::string worker_token_file;
  std::string job;
  int rank = -1;        // -1: from the environment or assigned by the coordinator
  int world_size = -1;  // -1: from the environment or the job
  std::string log_dir;
  int threads = 0;  // intra-op threads; 0 = the job's setting or cores / local workers
  std::chrono::milliseconds register_timeout{60000};
  // Standalone mode (benchmarks, debugging): no coordinator at all. The job spec comes from a
  // JSON file (the proto's JSON form of cyclr.v1.JobSpec), the schedule is the spec's alone, and
  // ranks rendezvous through files in `rendezvous_dir` (a FileStore).
  std::string standalone_spec;
  std::string rendezvous_dir;
};

// This machine's cores (at least 1).
int CoreCount();

// Fills rank and world size from RANK/WORLD_SIZE, or SLURM_PROCID/SLURM_NTASKS, when unset; a
// variable that is set but is not an integer in range is an error naming it.
Status RankFromEnvironment(WorkerRunnerOptions* options);

// Checks the flags (after RankFromEnvironment): rank, world size, threads in
// [0, cores × limits::kMaxThreadsPerCore], path lengths; and, unless standalone, --coordinator as
// HOST:PORT and --job as a job name.
Status CheckWorkerOptions(const WorkerRunnerOptions& options, int cores);

// Checks the fields of a job spec the worker relies on: threads (as above), epochs in
// [1, limits::kMaxEpochs], batch_size >= 1, the example limits, bucket_mb, the fault-tolerance
// counts and factors, path lengths. The coordinator checks these too, but a standalone spec
// comes straight from a file.
Status CheckJobSpecForWorker(const v1::JobSpec& spec, int cores);

// The intra-op thread count: the flag, else the job's, else cores / local workers (from
// LOCAL_WORLD_SIZE or SLURM_NTASKS_PER_NODE, else `world_size`; unparsable values are ignored).
// REQUIRES: the flag and the spec passed the checks above.
int WorkerThreads(int flag_threads, const v1::JobSpec& spec, int world_size, int cores);

// The training length: epochs × steps_per_epoch must stay <= limits::kMaxStep.
Status CheckTotalSteps(int64_t epochs, int64_t steps_per_epoch);

// An integer environment variable in [lo, hi]; `fallback` when unset or empty. Not an integer, or
// out of range: INVALID_ARGUMENT naming the variable.
StatusOr<int> EnvInt(const char* name, int fallback, int lo, int hi);
// The same where a bad value only loses a hint (LOCAL_RANK, LOCAL_WORLD_SIZE): `fallback` then.
int EnvIntOr(const char* name, int fallback, int lo, int hi);

}  // namespace cyclr
