// ClusterFlags: where `cyclrctl launch` runs the workers — `--scheduler local|slurm|kubernetes`
// and the scheduler's options `--slurm-partition ... --k8s-image ...` (TorchX's `-s` with its
// scheduler args). They become the job options `launcher` and "slurm.partition", ...
// (job_file.h), over the job file's `launcher:`, `slurm:` and `kubernetes:`.
#pragma once

#include <string>

#include "client/option_flags.h"
#include "core/status.h"

namespace cyclr::client {

class ClusterFlags {
 public:
  ClusterFlags();
  ClusterFlags(const ClusterFlags&) = delete;
  ClusterFlags& operator=(const ClusterFlags&) = delete;

  void AddTo(CLI::App* app);  // REQUIRES: called once; `this` outlives the parse

  // After parsing: the options given, as job options over `job` (the job file's and the job
  // flags'). INVALID_ARGUMENT when --scheduler and --launcher disagree, or a scheduler's flags
  // come without that scheduler.
  StatusOr<OptionMap> Apply(OptionMap job) const;

 private:
  std::string scheduler_;
  OptionFlags flags_;
};

}  // namespace cyclr::client
