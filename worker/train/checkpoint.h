// Checkpoints: everything a job needs to resume exactly — the model (parameters and buffers), the
// optimizer state (momentum buffers, Adam moments), the data position, the global step, the
// applied schedule timeline (with the step each revision was applied at) and the CPU random
// generator's state (dropout masks).
//
// Written atomically: to "<name>.tmp", fsync'd, renamed to "ckpt-<step>.pt", the folder fsync'd,
// so a reader sees a whole checkpoint or none, even across a crash. The newest `keep` are kept.
// Ranks hold identical parameters and optimizer state, so rank 0 alone writes; every rank reads.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "cyclr/v1/schedule.pb.h"

namespace cyclr {

struct CheckpointMeta {
  int64_t step = 0;           // steps completed (the next step to run)
  int64_t epoch = 0;          // epoch of the next step
  int64_t step_in_epoch = 0;  // batches of `epoch` already trained
  uint64_t seed = 0;          // the shuffle seed (must match the job's)
  v1::Timeline timeline;      // applied revisions, with applied steps
};

// Writes ckpt-<step>.pt into `dir` (created 0700 if missing; safe_file.h) and deletes all but
// the newest `keep` of the checkpoints `owner` (a job name) wrote there: each one is recorded in
// `dir`/.cyclr-owner-<owner> before it is written, so jobs sharing a folder never prune each
// other's (a resumed job keeps its name and its record). An empty or non-job-name owner prunes
// every checkpoint of this user in the folder. Returns the path written.
StatusOr<std::string> SaveCheckpoint(const std::string& dir, const CheckpointMeta& meta,
                                     torch::nn::Module& model,
                                     const torch::optim::Optimizer& optimizer, int keep,
                                     const std::string& owner = "");

// The newest complete checkpoint in `dir` (NOT_FOUND if there is none; temporary files of an
// interrupted write are ignored).
StatusOr<std::string> NewestCheckpoint(const std::string& dir);
// The checkpoint a restarted worker of job `owner` resumes from: the newest of those its ledger
// records when it recorded any that still exist (a job sharing the folder may have written newer
// ones: they are another run's), else the newest in `dir` (a first start: e.g. `cyclrctl resume
// --as NEW` continues the old job's). NOT_FOUND if there is none.
StatusOr<std::string> NewestCheckpointOf(const std::string& dir, const std::string& owner);
// The newest complete checkpoint in `dir` written at or before `step` (NOT_FOUND if none).
StatusOr<std::string> CheckpointAtOrBefore(const std::string& dir, int64_t step);
// All complete checkpoints in `dir`, oldest first.
std::vector<std::string> ListCheckpoints(const std::string& dir);

// Loads only the model's parameters and buffers from the checkpoint at `path` (JobSpec.init_from:
// a new run from trained weights). INVALID_ARGUMENT for a file that is not a checkpoint or holds
// other shapes; NOT_FOUND for a missing one.
Status LoadModelWeights(const std::string& path, torch::nn::Module& model);

// Loads `path` into `model` and `optimizer` (built the same way as when it was saved).
// INVALID_ARGUMENT for a file that is not a checkpoint, whose parameters have other shapes than
// `model`'s, or whose step, epoch or step_in_epoch is negative or past limits.h's bounds; then
// `model` and `optimizer` may be partly overwritten.
StatusOr<CheckpointMeta> LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                                        torch::optim::Optimizer& optimizer);

}  // namespace cyclr
