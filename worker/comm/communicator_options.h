// CommunicatorOptions: everything MakeCommunicator() needs to build a backend. Timing knobs are
// fields so tests can make them milliseconds.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"
#include "worker/comm/communicator.h"

namespace cyclr {

struct CommunicatorOptions {
  std::string backend = "gloo";  // "gloo" (CPU tensors) | "nccl" (CUDA tensors)
  int rank = 0;
  int world_size = 1;
  // Namespace of this communicator's rendezvous keys in the Store ("<store_prefix>/...").
  // Two communicators sharing a Store need different prefixes.
  std::string store_prefix = "comm";

  // Gloo: the address this rank listens on and advertises to its peers. `iface` (e.g. "eth0"),
  // when set, wins over `hostname`.
  std::string hostname = "127.0.0.1";
  std::string iface;

  // NCCL: the CUDA device to use; -1 picks rank % device count.
  int cuda_device = -1;

  // How long creating the communicator waits for every rank to join.
  std::chrono::milliseconds rendezvous_timeout{30000};
  // How long one collective may run on the communicator's thread before it fails.
  std::chrono::milliseconds op_timeout{30000};
};

// INVALID_ARGUMENT naming the field and the rule, or OK.
Status ValidateCommunicatorOptions(const CommunicatorOptions& options);

// Bytes per element of `type`, and its name for messages ("float32", "int64").
size_t DataTypeSize(DataType type);
const char* DataTypeName(DataType type);
const char* ReduceOpName(ReduceOp op);

}  // namespace cyclr
