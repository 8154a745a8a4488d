// The CLI's own range check of every JobSpec field it sets from a flag or a job file.
//
// The coordinator checks the whole spec again (server/job_spec_rules.h); the CLI checks what it
// was given first, so a mistake is one local line naming the field and the rule (exit 2) and a
// huge value is never sent. Fields not given keep the coordinator's defaults and are not checked
// here. Rules (the coordinator's, with limits.h's bounds):
//   name          [a-z0-9][a-z0-9-]{0,62}
//   workers       [1, limits::kMaxWorkersPerJob]
//   epochs        [1, limits::kMaxEpochs]
//   batch_size    [1, 2^31-1]
//   threads       [0, limits::kMaxThreads]  (absolute: the workers' hosts may differ from
//                                              this one; each worker checks its own cores)
//   train_limit, test_limit, seed, checkpoint_keep, max_restarts   >= 0
//   checkpoint_every  [0, limits::kMaxStep]
//   momentum [0, 1); weight_decay >= 0; bucket_mb (0, 1024];
//   divergence_factor 0 or > 1; rollback_lr_factor 0 or in (0, 1)
//   data_dir, checkpoint_dir, resume_from   at most limits::kMaxPathBytes
//   other text fields (model, dataset, ...) at most limits::kMaxTextBytes (their values are the
//   coordinator's to check); every text field valid UTF-8 (a proto3 string)
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cyclr::client {

struct IntRange {
  int64_t lo;
  int64_t hi;
};

// The allowed range of integer field `field`, given the range of its proto type.
IntRange JobIntRange(const std::string& field, IntRange type_range);

// INVALID_ARGUMENT naming the field and its rule, or OK.
Status CheckJobDouble(const std::string& field, double value);
Status CheckJobString(const std::string& field, const std::string& value);

}  // namespace cyclr::client
