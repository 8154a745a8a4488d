// CommunicatorOptions: everything MakeCommunicator() needs to build a backend. Timing knobs are
// fields so tests can make them milliseconds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "worker/comm/communicator.h"

namespace cyclr {

// Whether the CPU backend ("gloo") may use shared memory between ranks on one host.
enum class ShmMode {
  kAuto,  // ranks on one host: ShmCommunicator; on several: shm within hosts + Gloo across
  kOff,   // plain Gloo over TCP for every rank (the A/B baseline; CYCLR_SHM=0 in the worker)
};

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

  // Shared memory ("gloo" backend only). MakeCommunicator() groups ranks by `host_id`, exchanged
  // through the Store; empty means this machine's id (boot id, hostname and the /dev/shm file
  // system, see host_layout.h). Tests set it to pretend ranks live on several hosts.
  ShmMode shm = ShmMode::kAuto;
  std::string host_id;
  // Per-rank shared workspace; larger buffers go through it in chunks of this size. 256 KiB,
  // 1 MiB and 4 MiB were within run-to-run noise here (allreduce_bench, docs/performance.md);
  // 1 MiB keeps a chunk and its reduced slice within a core's L2.
  size_t shm_workspace_bytes = size_t{1} << 20;
  // Chunks up to this size skip reduce-scatter: every rank reduces the whole chunk itself.
  size_t shm_small_bytes = size_t{32} << 10;
  // Waiting for a peer: spin this many polls, then yield for `shm_yield_for`, then sleep on a
  // futex the peer wakes, looking every `shm_check_every` whether its process is still there.
  int shm_spin_iterations = 500;
  std::chrono::microseconds shm_yield_for{50};
  std::chrono::milliseconds shm_check_every{10};

  // NCCL: the CUDA device to use; -1 picks rank % device count.
  int cuda_device = -1;

  // How long creating the communicator waits for every rank to join.
  std::chrono::milliseconds rendezvous_timeout{30000};
  // How long one collective may run on the communicator's thread before it fails.
  std::chrono::milliseconds op_timeout{30000};
};

// INVALID_ARGUMENT naming the field and the rule, or OK.
Status ValidateCommunicatorOptions(const CommunicatorOptions& options);

// "auto" | "off", for messages.
const char* ShmModeName(ShmMode mode);

// Bytes per element of `type`, and its name for messages ("float32", "int64").
size_t DataTypeSize(DataType type);
const char* DataTypeName(DataType type);
const char* ReduceOpName(ReduceOp op);

// How every backend names a collective in its errors, e.g.
// "gloo allreduce #7 (1024 float32, sum) on rank 1" (`detail` from the two helpers below).
std::string DescribeCollective(const std::string& backend, const char* name, uint64_t seq,
                               const std::string& detail, int rank);
std::string AllReduceDetail(size_t count, DataType type, ReduceOp op);  // "1024 float32, sum"
std::string BroadcastDetail(size_t count, DataType type, int root);     // "3 int64 from rank 0"
// INVALID_ARGUMENT for a broadcast root outside [0, world_size).
Status CheckBroadcastRoot(int root, int world_size);

}  // namespace cyclr
