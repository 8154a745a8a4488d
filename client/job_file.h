// Job specs from the command line and from job files (`launch -f job.yaml`).
//
// A job file holds the JobSpec's fields in snake_case at the top level and the schedule in a
// nested `schedule:` map:
//   name: fmnist-clr
//   workers: 2
//   epochs: 3
//   schedule: {policy: triangular2, base_lr: 0.001, max_lr: 0.1, step_size_up: 200}
// JSON with the same shape works too. Flags override the file, field by field. A cluster
// scheduler's options are sections of their own:
//   launcher: slurm
//   slurm: {partition: gpu, time: "2:00:00", gpus_per_task: 1}
//   kubernetes: {image: ghcr.io/me/cyclr:1, node_selector: {gpu: h200}}
// and travel as dotted options ("slurm.partition", "kubernetes.node_selector" as K=V,K=V).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "client/option_file.h"
#include "core/schedule_spec.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr::client {

struct JobFile {
  OptionMap job;       // JobSpec fields except `schedule`
  OptionMap schedule;  // the `schedule:` map (may be empty)
};

// The JobSpec field names a file or flags may set (every field but the sections: schedule, slurm,
// kubernetes), in proto order.
const std::vector<std::string>& JobOptionNames();
// The dotted names of the scheduler sections' fields: "slurm.partition", ...,
// "kubernetes.node_selector".
const std::vector<std::string>& ClusterOptionNames();
// The help text of each of them (cyclrctl's flags).
const std::map<std::string, std::string>& JobOptionHelp();
// Those of them that are booleans (flags without a value mean true).
const std::set<std::string>& JobBoolOptionNames();

// Reads a job file; unknown keys (top level or in `schedule:`) are INVALID_ARGUMENT naming them.
StatusOr<JobFile> LoadJobFile(const std::string& path);

// Builds the JobSpec. Each value is parsed by its field's type ("workers 'two' is not an
// integer"); `required` names fields that must be present ("name is required: give --name or
// name: in the job file"). The schedule must already be validated.
StatusOr<v1::JobSpec> BuildJobSpec(const OptionMap& job, const ScheduleSpec& schedule,
                                   const std::vector<std::string>& required = {});

}  // namespace cyclr::client
