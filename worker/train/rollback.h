// The pieces of the `rollback` divergence policy: when the ranks agree that the loss diverged at
// step s, they reload the newest checkpoint's model, optimizer and data position (the step
// counter goes on: the timeline stays a function of the step), rank 0 asks the coordinator to
// append a revision with a lowered max_lr effective at step s, and every rank waits until all of
// them hold it, so step s is redone by all with the lowered LR. This is the one place where
// training waits for the control plane: a recovery, never a normal step.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/schedule_spec.h"
#include "worker/comm/communicator.h"
#include "worker/train/schedule_agreement.h"

namespace cyclr {

// Appends a revision (spec, effective step, reason) to the job's timeline and returns its version.
using RevisionRequester =
    std::function<StatusOr<int64_t>(const ScheduleSpec&, int64_t effective_step,
                                    const std::string& reason)>;

// `spec` with its peak LR multiplied by `factor` (0 < factor < 1): max_lr for the cyclic
// policies, one-cycle and cosine-restarts (a base_lr above the new max_lr is lowered to it),
// base_lr for constant.
ScheduleSpec LoweredSpec(const ScheduleSpec& spec, double factor);

// Every rank calls it; rank 0 passes the version it obtained (<= 0 if it failed), the others 0.
// Returns the version on every rank, or an error on every rank when rank 0 failed.
StatusOr<int64_t> ShareVersion(Communicator* comm, int64_t version_on_rank0,
                               std::chrono::milliseconds timeout);

// Blocks until every rank holds `version` (a MIN all-reduce every `poll`), or `timeout` passes
// (DEADLINE_EXCEEDED on every rank, since they all see the same minimum).
Status WaitUntilAllHold(Communicator* comm, const ScheduleAgreement& agreement, int64_t version,
                        std::chrono::milliseconds timeout,
                        std::chrono::milliseconds poll = std::chrono::milliseconds(20));

}  // namespace cyclr
