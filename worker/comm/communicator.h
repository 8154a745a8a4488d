// Communicator: the collectives a data-parallel worker needs, one implementation per backend
// (GlooCommunicator on CPU, NcclCommunicator on CUDA), chosen by MakeCommunicator().
//
// Contract (as c10d's Backend): collectives are issued from one thread (the caller's) in the same
// order on every rank; each returns a Work handle and runs asynchronously on the communicator's
// own thread (Gloo) or stream (NCCL); Work::Wait() surfaces errors and times out instead of
// hanging forever. Buffers are raw pointers owned by the caller and must stay alive until Wait()
// returns. Host memory for Gloo, device memory for NCCL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace cyclr {

enum class ReduceOp { kSum, kMin, kMax };
enum class DataType { kFloat32, kInt64 };

// A pending collective. Wait() may be called once; it blocks until the collective finished or
// `timeout` passed (DEADLINE_EXCEEDED, after which the communicator is unusable).
class Work {
 public:
  virtual ~Work() = default;
  virtual Status Wait(std::chrono::milliseconds timeout) = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend() const = 0;  // "gloo" | "nccl"

  // In-place all-reduce of `count` elements at `data`.
  virtual std::unique_ptr<Work> AllReduce(void* data, size_t count, DataType type,
                                          ReduceOp op) = 0;
  // In-place broadcast of `count` elements from `root`.
  virtual std::unique_ptr<Work> Broadcast(void* data, size_t count, DataType type, int root) = 0;
  // Blocks until every rank reached the barrier or the timeout passed.
  virtual Status Barrier(std::chrono::milliseconds timeout) = 0;
};

}  // namespace cyclr
