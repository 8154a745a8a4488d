// What SlurmLauncher writes and reads: the batch script of a job (from its spec) and Slurm's
// answers about an allocation (scontrol, sacct), kept apart from the launcher's threads so that
// both are tested as plain functions.
#pragma once

#include <string>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"
#include "proto/tls_credentials.h"

namespace cyclr {

// Range checks of JobSpec.slurm (every value ends up in a batch script): partition, account,
// qos [A-Za-z0-9_.-] (partition may list several, comma-separated) at most 64 characters; time
// one of Slurm's formats (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS) or UNLIMITED;
// constraint [A-Za-z0-9_.&|,*!()[]-] at most 256; gpus_per_task 0..16; cpus_per_task 0..256.
// INVALID_ARGUMENT naming the field ("slurm.partition") and the rule.
Status CheckSlurmOptions(const v1::SlurmOptions& o);

struct SlurmScriptOptions {
  std::string worker_binary;        // cyclr-worker, at this path on every node
  std::string coordinator_address;  // what the workers dial
  std::string job_dir;              // logs, the credential file, the script (a shared folder)
  TlsFiles worker_tls;              // the workers' --tls-ca/--tls-cert/--tls-key ("" = none)
  std::string token_file;           // the workers' credential (CYCLR_WORKER_TOKEN_FILE; "" = none)
};

// The batch script: #SBATCH lines from the spec (one task per worker, job name cyclr-<job>; the
// batch output's path goes on sbatch's command line, where no parser can split it), the
// credential file (if any) exported as CYCLR_WORKER_TOKEN_FILE, and `srun --kill-on-bad-exit=1` of
// the worker with each rank's output appended to <job_dir>/worker-<rank>.log. Every value is
// shell-quoted; REQUIRES a spec that passed NormalizeJobSpec (name and slurm options checked).
std::string RenderSlurmScript(const v1::JobSpec& spec, const SlurmScriptOptions& o);

// A value as one single-quoted shell word.
std::string ShellQuote(const std::string& value);

// One allocation as Slurm describes it.
struct SlurmJobInfo {
  std::string state;   // JobState: PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, ...
  std::string reason;  // "" for None
  std::string nodes;   // "" while none are allocated
  int exit_code = 0;   // of the batch script (ExitCode=N:S)
  int signal = 0;      // the S of ExitCode
};

// Parses `scontrol show job -o ID` (one line of KEY=VALUE words). INVALID_ARGUMENT when it has
// no JobState.
StatusOr<SlurmJobInfo> ParseScontrolJob(const std::string& text);
// Parses `sacct -n -P -X -j ID -o State,ExitCode,NodeList` ("COMPLETED|0:0|node1"; "CANCELLED
// by 0|0:15|node1"). INVALID_ARGUMENT when empty.
StatusOr<SlurmJobInfo> ParseSacctJob(const std::string& text);

// Waiting for resources: PENDING, CONFIGURING (nodes booting), REQUEUED, RESV_DEL_HOLD.
bool SlurmQueued(const std::string& state);
// Over: every state but the queued ones, RUNNING, COMPLETING, SUSPENDED, STOPPED, SIGNALING,
// STAGE_OUT, RESIZING.
bool SlurmEnded(const std::string& state);

}  // namespace cyclr
