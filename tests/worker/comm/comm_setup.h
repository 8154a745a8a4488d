// How the parameterised tests build a communicator for a named setup:
//   "gloo"     — the CPU backend with shared memory off (GlooCommunicator over loopback TCP);
//   "shm"      — the CPU backend, every rank on this host (ShmCommunicator);
//   "shm+gloo" — the CPU backend with ranks on two pretend hosts (host_id "host<rank % 2>"), so
//                HierarchicalCommunicator: shm within a host, Gloo between the hosts' leaders;
//   "nccl"     — the CUDA backend.
// The shm workspace is made small so the tests also cover chunking and both reduce paths.
#pragma once

#include <string>

#include "worker/comm/communicator_options.h"

namespace cyclr {
namespace testing {

inline void ApplyCommSetup(const std::string& setup, int rank, CommunicatorOptions* o) {
  if (setup == "nccl") {
    o->backend = "nccl";
    return;
  }
  o->backend = "gloo";
  o->shm = setup == "gloo" ? ShmMode::kOff : ShmMode::kAuto;
  if (setup == "shm+gloo") o->host_id = "host" + std::to_string(rank % 2);
  o->shm_workspace_bytes = 64 << 10;
  o->shm_small_bytes = 8 << 10;
}

}  // namespace testing
}  // namespace cyclr
