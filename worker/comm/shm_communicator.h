// ShmCommunicator: the CPU backend for ranks on one host. Collectives go through POSIX shared
// memory (ShmGroup) instead of loopback TCP, after DeepSpeed's CPU all-reduce
// (csrc/cpu/comm/shm.cpp) and gloo's allreduce_shm.cc.
//
// All-reduce, per chunk of at most options.shm_workspace_bytes:
//   1. wait until every peer is done with the previous step (it no longer reads my workspace),
//      copy my input into my workspace, post 'copied';
//   2. wait for every peer's 'copied'; then
//      - small chunk (<= options.shm_small_bytes): every rank reduces the whole chunk itself;
//      - otherwise reduce-scatter + all-gather: rank r (which skipped copying its own slice r in
//        step 1) reduces slice r of every input (its own from its buffer) into its workspace,
//        copies that into its output, posts 'reduced'; then copies each peer's reduced slice
//        once that peer posted 'reduced';
//   3. post 'done'.
// Every element is reduced in rank order 0, 1, ..., n-1 (ReduceInOrder), by whichever rank does
// it, so all ranks end with the same bits.
//
// Collectives run on the communicator's own thread (SerialExecutor) in issue order, each bounded
// by options.op_timeout (Barrier by its argument): a peer that stops participating gives
// DEADLINE_EXCEEDED, one whose process died or that gave up gives UNAVAILABLE; the message names
// the collective and the peer rank. After a failure the communicator only returns errors (and
// tells its peers, so they fail at once instead of at their deadline).
//
// Thread-safety: issue collectives from one thread (the contract of Communicator).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/comm/communicator.h"
#include "worker/comm/communicator_options.h"
#include "worker/comm/serial_executor.h"
#include "worker/comm/shm_group.h"
#include "worker/comm/store.h"

namespace cyclr {

class ShmCommunicator : public Communicator {
 public:
  // Rendezvouses options.world_size ranks through `store` (keys under options.store_prefix) and
  // maps their workspaces. REQUIRES: store != nullptr; every rank on this host (the factory
  // checks it). INVALID_ARGUMENT for bad options; DEADLINE_EXCEEDED when a rank never joins.
  static StatusOr<std::unique_ptr<ShmCommunicator>> Create(const CommunicatorOptions& options,
                                                           std::shared_ptr<Store> store);
  // Cancels queued collectives, waits for the running one (at most op_timeout), tells the peers
  // this rank is gone and unmaps the workspaces.
  ~ShmCommunicator() override;

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }
  std::string backend() const override { return "shm"; }

  std::unique_ptr<Work> AllReduce(void* data, size_t count, DataType type, ReduceOp op) override;
  std::unique_ptr<Work> Broadcast(void* data, size_t count, DataType type, int root) override;
  Status Barrier(std::chrono::milliseconds timeout) override;

  // The shm names of this communicator's segments (unlinked once every rank mapped them).
  std::vector<std::string> segment_names() const;

 private:
  ShmCommunicator(const CommunicatorOptions& options, std::unique_ptr<ShmGroup> group);

  Status RunAllReduce(char* data, size_t count, DataType type, ReduceOp op);
  Status AllReduceChunk(char* data, size_t count, DataType type, ReduceOp op,
                        const ShmDeadline& deadline);
  // Reduce-scatter + all-gather of one chunk already copied in (step `step`).
  Status ReduceScatterGather(char* data, size_t count, DataType type, ReduceOp op, uint64_t step,
                             const ShmDeadline& deadline);
  Status RunBroadcast(char* data, size_t bytes, int root);
  Status RunBarrier(std::chrono::milliseconds timeout);
  // Tells the peers when `s` is an error; returns `s`.
  Status Finish(Status s);
  ShmDeadline DeadlineIn(std::chrono::milliseconds budget) const;
  // "shm allreduce #3 (1024 float32, sum) on rank 0" for messages.
  std::string Describe(const char* name, uint64_t seq, const std::string& detail) const;

  const CommunicatorOptions options_;
  const std::unique_ptr<ShmGroup> group_;  // null when world_size == 1
  uint64_t step_ = 0;      // communicator thread only: the last step (flag value) used
  uint64_t next_seq_ = 0;  // issuing thread only: numbers collectives for messages
  // Declared last: destroyed first, so the thread stops before group_ goes away.
  std::unique_ptr<SerialExecutor> executor_;
};

}  // namespace cyclr
