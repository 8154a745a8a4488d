// Reducer: data-parallel gradient averaging in the spirit of PyTorch DDP's reducer.
//
// Parameters are grouped into buckets (bucket_assignment.h). Each parameter's .grad is made a
// view into its bucket's flat tensor, so autograd accumulates straight into the buffer that is
// all-reduced (no copies). A post-hook on each parameter's AccumulateGrad node marks it ready;
// when a bucket's last gradient is ready its AllReduce(sum) is issued on the communicator while
// backward goes on. Buckets are issued strictly in index order (bucket i only after buckets < i),
// so every rank issues the same collectives in the same order even if gradients arrive in a
// different order. FinishBackward() issues what is left (parameters that got no gradient this
// step are all-reduced with their current grad, zeros after zero_grad), waits, and divides by
// the world size.
//
// Per step: zero_grad (either form) → forward → backward (exactly one) → FinishBackward() →
// optimizer step. Every rank must call FinishBackward() once per step.
// Thread-safety: hooks may fire on autograd's thread; all state is guarded by mu_.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/torch.h>

#include "worker/comm/communicator.h"

namespace cyclr {

struct ReducerOptions {
  size_t bucket_cap_bytes = size_t{25} << 20;       // DDP's default 25 MiB
  size_t first_bucket_cap_bytes = size_t{1} << 20;  // small, so communication starts early
  std::chrono::milliseconds timeout{60000};         // bound on every wait for a collective
};

// What one FinishBackward() saw, for the trainer's metrics.
struct ReducerStepStats {
  double allreduce_ms = 0;  // from the first bucket's launch until all buckets were done
  double wait_ms = 0;       // how long FinishBackward() blocked (communication not hidden)
  int buckets = 0;
  int launched_during_backward = 0;  // buckets whose all-reduce overlapped backward
};

class Reducer {
 public:
  // `params`: the trainable tensors, same shapes and order on every rank (float32, on the
  // communicator's device: CPU for gloo, CUDA for nccl); those with requires_grad() false are
  // skipped. `buffers`: extra state (e.g. batch-norm statistics) that BroadcastParameters()
  // also syncs. REQUIRES: comm != nullptr and outlives the Reducer.
  // INVALID_ARGUMENT names the first offending parameter.
  static StatusOr<std::unique_ptr<Reducer>> Create(std::vector<torch::Tensor> params,
                                                   std::vector<torch::Tensor> buffers,
                                                   Communicator* comm, ReducerOptions options);
  // Create() with module.parameters() and module.buffers().
  static StatusOr<std::unique_ptr<Reducer>> ForModule(torch::nn::Module& module,
                                                      Communicator* comm, ReducerOptions options);
  // Removes the hooks. REQUIRES: no backward in flight.
  ~Reducer();
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  // Copies every parameter and buffer from rank `root` to all ranks (call once before training).
  Status BroadcastParameters(int root);
  // Broadcasts only the buffers (batch-norm statistics), as DDP's broadcast_buffers; a no-op
  // collective-free return when the model has none (same on every rank).
  Status BroadcastBuffers(int root);
  // Issues the remaining buckets, waits (ReducerOptions::timeout), averages. On error the
  // communicator is unusable (see Communicator) and the gradients are undefined.
  Status FinishBackward();
  // In-place MIN all-reduce of a few int64 values (e.g. the newest schedule revision each rank
  // holds). Call it at the same point of the step on every rank, outside backward.
  Status AllReduceMin(int64_t* data, size_t n);

  const ReducerStepStats& last_step_stats() const { return stats_; }
  // Parameter indices (into the accepted params) per bucket, in launch order.
  const std::vector<std::vector<size_t>>& buckets() const { return bucket_params_; }

 private:
  class ReadyHook;
  struct Bucket {
    torch::Tensor flat;
    std::vector<torch::Tensor> views;  // views[j] is the grad of bucket_params_[b][j]
    size_t pending = 0;                // params not yet ready this step
    std::unique_ptr<Work> work;
  };
  using Clock = std::chrono::steady_clock;

  Reducer(std::vector<torch::Tensor> params, std::vector<torch::Tensor> buffers,
          Communicator* comm, ReducerOptions options);
  void BuildBuckets();
  void InstallHooks();
  void MarkReady(size_t param);
  // REQUIRES: mu_ held. Points param's .grad at its bucket view, copying/zeroing as needed.
  void AttachGradLocked(size_t param);
  // REQUIRES: mu_ held. Issues every bucket that is complete and next in order.
  void LaunchReadyLocked();
  void ResetStepLocked();

  const std::vector<torch::Tensor> params_;
  const std::vector<torch::Tensor> buffers_;
  Communicator* const comm_;
  const ReducerOptions options_;
  std::vector<std::vector<size_t>> bucket_params_;
  std::vector<std::pair<size_t, size_t>> location_;  // param → (bucket, slot)
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // keeps hooks alive
  std::vector<uintptr_t> hook_keys_;

  std::mutex mu_;
  std::vector<Bucket> buckets_;     // GUARDED_BY(mu_)
  std::vector<bool> ready_;         // GUARDED_BY(mu_)
  size_t next_launch_ = 0;          // GUARDED_BY(mu_)
  Clock::time_point first_launch_;  // GUARDED_BY(mu_)
  Status step_error_;               // GUARDED_BY(mu_)
  ReducerStepStats stats_;
};

}  // namespace cyclr
