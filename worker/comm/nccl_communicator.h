// NcclCommunicator: the CUDA backend. Collectives on device memory, enqueued on the
// communicator's own cudaStream_t. Only compiled with CYCLR_WITH_NCCL.
//
// Create() picks the device (options.cuda_device, or rank % device count), exchanges the NCCL
// unique id through the Store (rank 0 ncclGetUniqueId → Set "<store_prefix>/nccl/unique_id",
// the others Get it) and initialises a non-blocking communicator, polling it for at most
// options.rendezvous_timeout (then ncclCommAbort → DEADLINE_EXCEEDED).
//
// Each collective returns a Work holding a cudaEvent recorded after it on the stream. Wait()
// polls cudaEventQuery and ncclCommGetAsyncError: an asynchronous NCCL error or the timeout
// aborts the communicator (ncclCommAbort, so peers stop waiting too) and every later call fails
// with FAILED_PRECONDITION quoting the first error. Issue collectives from one thread.
#pragma once

#include <memory>
#include <string>

#include "worker/comm/communicator.h"
#include "worker/comm/communicator_options.h"
#include "worker/comm/store.h"

namespace cyclr {

class NcclCommunicator : public Communicator {
 public:
  // Errors: INVALID_ARGUMENT (options), FAILED_PRECONDITION (no CUDA device / bad cuda_device),
  // DEADLINE_EXCEEDED (a rank never joined), UNAVAILABLE/INTERNAL (NCCL, with file:line).
  static StatusOr<std::unique_ptr<NcclCommunicator>> Create(const CommunicatorOptions& options,
                                                            std::shared_ptr<Store> store);
  ~NcclCommunicator() override;

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }
  std::string backend() const override { return "nccl"; }
  int device() const { return device_; }

  std::unique_ptr<Work> AllReduce(void* data, size_t count, DataType type,
                                  ReduceOp op) override;
  std::unique_ptr<Work> Broadcast(void* data, size_t count, DataType type, int root) override;
  Status Barrier(std::chrono::milliseconds timeout) override;

  struct State;  // the NCCL comm, stream and health, shared with Work handles (defined in .cc)

 private:
  NcclCommunicator(const CommunicatorOptions& options, int device, std::shared_ptr<State> state);
  // Enqueues `launch` on the stream and returns its Work (or a failed one).
  template <typename Launch>
  std::unique_ptr<Work> Enqueue(const std::string& what, Launch launch);

  const CommunicatorOptions options_;
  const int device_;
  std::shared_ptr<State> state_;
  void* barrier_scratch_ = nullptr;  // one float on the device, for Barrier()
};

}  // namespace cyclr
