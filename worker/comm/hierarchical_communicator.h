// HierarchicalCommunicator: the CPU backend for ranks spread over several hosts, some sharing a
// host. It composes two communicators (as the style guide asks: a twin, not a branch):
//   - `local`: a ShmCommunicator over the ranks of this host (local rank = position among them);
//   - `leaders`: a GlooCommunicator over each host's lowest rank (rank = host index), only on
//     those leaders.
// AllReduce: shm all-reduce within the host, Gloo all-reduce among leaders, shm broadcast from
// the leader. Broadcast: within the root's host, then among leaders, then within the other
// hosts. Barrier: local, leaders, local. Every rank ends with the same bits (each stage does).
//
// Collectives run on this communicator's own thread in issue order; each stage is bounded by
// options.op_timeout and its error (naming the stage's backend and peer) fails the collective.
// Thread-safety: issue collectives from one thread (the contract of Communicator).
#pragma once

#include <memory>
#include <string>

#include "worker/comm/communicator.h"
#include "worker/comm/communicator_options.h"
#include "worker/comm/host_layout.h"
#include "worker/comm/serial_executor.h"
#include "worker/comm/store.h"

namespace cyclr {

class HierarchicalCommunicator : public Communicator {
 public:
  // Builds the local and (on leaders) the leaders' communicator; keys under
  // "<store_prefix>/host<h>" and "<store_prefix>/leaders". REQUIRES: store != nullptr,
  // `layout` from ExchangeHostLayout() for these options.
  static StatusOr<std::unique_ptr<HierarchicalCommunicator>> Create(
      const CommunicatorOptions& options, std::shared_ptr<Store> store, const HostLayout& layout);
  ~HierarchicalCommunicator() override;

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }
  std::string backend() const override { return "shm+gloo"; }

  std::unique_ptr<Work> AllReduce(void* data, size_t count, DataType type, ReduceOp op) override;
  std::unique_ptr<Work> Broadcast(void* data, size_t count, DataType type, int root) override;
  Status Barrier(std::chrono::milliseconds timeout) override;

 private:
  HierarchicalCommunicator(const CommunicatorOptions& options, const HostLayout& layout,
                           std::unique_ptr<Communicator> local,
                           std::unique_ptr<Communicator> leaders);

  Status RunAllReduce(void* data, size_t count, DataType type, ReduceOp op);
  Status RunBroadcast(void* data, size_t count, DataType type, int root);
  Status RunBarrier(std::chrono::milliseconds timeout);
  // Waits for a stage's Work (`local`: the shm one, else the leaders' Gloo one) a little past
  // its own bound, so the stage's message wins; an error names the stage's global ranks.
  Status WaitStage(std::unique_ptr<Work> work, bool local) const;
  std::string Describe(const char* name, uint64_t seq, const std::string& detail) const;

  const CommunicatorOptions options_;
  const HostLayout layout_;
  const int host_;  // index of this rank's host
  std::unique_ptr<Communicator> local_;
  std::unique_ptr<Communicator> leaders_;  // null unless this rank leads its host
  uint64_t next_seq_ = 0;                  // issuing thread only
  // Declared last: destroyed first, so the thread stops before local_ and leaders_ go away.
  std::unique_ptr<SerialExecutor> executor_;
};

}  // namespace cyclr
