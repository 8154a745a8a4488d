// MakeCommunicator: the one place a backend is chosen. The trainer calls it with options from
// the job spec and a Store (CoordinatorStore in production) and sees only Communicator.
#pragma once

#include <memory>

#include "worker/comm/communicator.h"
#include "worker/comm/communicator_options.h"
#include "worker/comm/store.h"

namespace cyclr {

// Builds options.backend and rendezvouses with the other ranks (blocks up to
// options.rendezvous_timeout). For "gloo" (the CPU backend) with options.shm == kAuto, the ranks
// first exchange host ids through the store (host_layout.h): all on one host → ShmCommunicator
// (backend() "shm"); every rank on its own host → GlooCommunicator ("gloo"); otherwise
// HierarchicalCommunicator ("shm+gloo"). options.shm == kOff → GlooCommunicator. Errors:
// INVALID_ARGUMENT for bad options (names the field); FAILED_PRECONDITION for "nccl" when this
// build has no NCCL or the machine no CUDA device; DEADLINE_EXCEEDED when some rank never joined.
// REQUIRES: store != nullptr.
StatusOr<std::unique_ptr<Communicator>> MakeCommunicator(const CommunicatorOptions& options,
                                                         std::shared_ptr<Store> store);

// True when this binary was built with the NCCL backend (CYCLR_WITH_NCCL).
bool NcclCompiledIn();

// Number of usable CUDA devices; 0 without NCCL support, a driver or a device.
int CudaDeviceCount();

}  // namespace cyclr
