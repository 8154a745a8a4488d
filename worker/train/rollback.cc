#include "worker/train/rollback.h"

#include <algorithm>
#include <thread>

namespace cyclr {

ScheduleSpec LoweredSpec(const ScheduleSpec& spec, double factor) {
  ScheduleSpec out = spec;
  if (out.max_lr) {
    out.max_lr = *out.max_lr * factor;
    if (out.base_lr && *out.base_lr > *out.max_lr) out.base_lr = out.max_lr;
  } else if (out.base_lr) {
    out.base_lr = *out.base_lr * factor;
  }
  return out;
}

StatusOr<int64_t> ShareVersion(Communicator* comm, int64_t version_on_rank0,
                               std::chrono::milliseconds timeout) {
  int64_t v = comm->rank() == 0 ? version_on_rank0 : 0;
  // MAX and MIN of the same value tell "rank 0 failed" (<= 0) apart without a second round.
  CYCLR_RETURN_IF_ERROR(comm->AllReduce(&v, 1, DataType::kInt64, ReduceOp::kMax)->Wait(timeout));
  if (v <= 0) return Status::Unavailable("rank 0 could not append the rollback revision");
  return v;
}

Status WaitUntilAllHold(Communicator* comm, const ScheduleAgreement& agreement, int64_t version,
                        std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int64_t held = agreement.held_version();
    CYCLR_RETURN_IF_ERROR(
        comm->AllReduce(&held, 1, DataType::kInt64, ReduceOp::kMin)->Wait(timeout));
    if (held >= version) return Status::Ok();
    // Every rank saw the same minimum, so every rank takes the same branch here.
    int64_t late = std::chrono::steady_clock::now() > deadline ? 1 : 0;
    CYCLR_RETURN_IF_ERROR(
        comm->AllReduce(&late, 1, DataType::kInt64, ReduceOp::kMax)->Wait(timeout));
    if (late) {
      return Status::DeadlineExceeded("revision " + std::to_string(version) +
                                      " did not reach every rank in time");
    }
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace cyclr
