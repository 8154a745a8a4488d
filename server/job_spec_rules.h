// The rules a JobSpec must follow, and its defaults.
//
// NormalizeJobSpec fills the defaults and then checks every field; the first violation comes
// back as INVALID_ARGUMENT naming the field, its value (cut by limits::Echo) and the rule, e.g.
// "workers (0) must be between 1 and 64". Rules:
//   name        [a-z0-9][a-z0-9-]{0,62}
//   workers     1..64
//   model       mlp | cnn, or empty with model_file (a TorchScript file; at most kMaxPathBytes)
//   model_sha256 empty or 64 lowercase hex digits, only with model_file
//   dataset     fashion-mnist | synthetic | npy (needs data_dir)
//   loss        cross-entropy (default) | mse (needs dataset npy and model_file)
//   normalize   "MEAN,STD" (finite, STD > 0), dataset npy only
//   output_dir  at most kMaxPathBytes
//   epochs      1..kMaxEpochs;  batch_size 1..kMaxBatchSize;  threads 0..kMaxThreads
//   train_limit, test_limit, checkpoint_every  0..kMaxStep
//   data_dir, checkpoint_dir, resume_from      at most kMaxPathBytes (core/limits.h)
//   optimizer   sgd | adamw               (default sgd)
//   momentum    [0, 1)                    (default 0.9 when unset; 0 = plain SGD)
//   weight_decay finite, >= 0
//   backend     "" | gloo | nccl
//   launcher    local | external | slurm | kubernetes (default local); slurm and kubernetes
//               options only with their launcher, checked by CheckSlurmOptions and
//               CheckKubernetesOptions
//   data_dir    default /usr/share/datasets/fashion-mnist (except for dataset npy)
//   bucket_mb   > 0                       (default 25)
//   seed        default 1 when 0
//   checkpoint_keep 0..kMaxCheckpointKeep;  max_restarts 0..kMaxRestarts
//   divergence_policy fail (default); "rollback" is rejected until the workers implement it
//   divergence_factor 0 (default) or finite > 1;  rollback_lr_factor 0 (default) or in (0, 1]
//   schedule    required, valid (errors are prefixed "schedule: ")
#pragma once

#include "core/limits.h"
#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

inline constexpr int kMaxWorkers = limits::kMaxWorkersPerJob;
inline constexpr const char* kDefaultDataDir = "/usr/share/datasets/fashion-mnist";
inline constexpr double kDefaultMomentum = 0.9;
inline constexpr double kDefaultBucketMb = 25.0;

// Drops unknown fields and fills defaults in `spec`, then validates it. On error `spec` may hold
// defaults (and have lost unknown fields) but nothing else has changed.
Status NormalizeJobSpec(v1::JobSpec* spec);

// True for [a-z0-9][a-z0-9-]{0,62}.
bool IsValidJobName(const std::string& name);

}  // namespace cyclr
