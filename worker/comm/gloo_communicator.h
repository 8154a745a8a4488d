// GlooCommunicator: the CPU backend. Collectives on host memory over Gloo's TCP transport.
//
// Create() rendezvouses every rank through a cyclr Store (keys under options.store_prefix) and
// connects a full mesh; it blocks up to options.rendezvous_timeout and fails with
// DEADLINE_EXCEEDED naming the ranks' keys that never appeared.
//
// Collectives are queued on the communicator's own thread (SerialExecutor) and run in issue order;
// each one is bounded by options.op_timeout inside Gloo. Gloo's exceptions become Status:
// timeouts DEADLINE_EXCEEDED, peer I/O failures UNAVAILABLE, anything else INTERNAL; the message
// says which collective failed. After a failure the communicator only returns errors.
//
// Thread-safety: issue collectives from one thread (the contract of Communicator).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "worker/comm/communicator.h"
#include "worker/comm/communicator_options.h"
#include "worker/comm/serial_executor.h"
#include "worker/comm/store.h"

namespace gloo {
class Context;
}

namespace cyclr {

class GlooCommunicator : public Communicator {
 public:
  // REQUIRES: store != nullptr. Validates `options` (INVALID_ARGUMENT naming the field).
  static StatusOr<std::unique_ptr<GlooCommunicator>> Create(const CommunicatorOptions& options,
                                                            std::shared_ptr<Store> store);
  // Cancels queued collectives and waits for the running one (at most op_timeout).
  ~GlooCommunicator() override;

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }
  std::string backend() const override { return "gloo"; }

  std::unique_ptr<Work> AllReduce(void* data, size_t count, DataType type,
                                  ReduceOp op) override;
  std::unique_ptr<Work> Broadcast(void* data, size_t count, DataType type, int root) override;
  Status Barrier(std::chrono::milliseconds timeout) override;

 private:
  GlooCommunicator(const CommunicatorOptions& options, std::shared_ptr<gloo::Context> context);

  Status RunAllReduce(void* data, size_t count, DataType type, ReduceOp op, uint32_t tag);
  Status RunBroadcast(void* data, size_t count, DataType type, int root, uint32_t tag);
  Status RunBarrier(std::chrono::milliseconds timeout, uint32_t tag);
  // "allreduce #3 (1024 float32, sum)" for messages.
  std::string Describe(const char* name, uint64_t seq, const std::string& detail) const;

  const CommunicatorOptions options_;
  const std::shared_ptr<gloo::Context> context_;
  uint64_t next_seq_ = 0;  // issuing thread only; also the Gloo tag (same on every rank)
  // Declared last: destroyed first, so the thread stops before context_ goes away.
  std::unique_ptr<SerialExecutor> executor_;
};

}  // namespace cyclr
