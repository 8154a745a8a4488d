#include "worker/comm/communicator_factory.h"

#include <utility>

#include "worker/comm/gloo_communicator.h"
#include "worker/comm/hierarchical_communicator.h"
#include "worker/comm/host_layout.h"
#include "worker/comm/shm_communicator.h"
#ifdef CYCLR_WITH_NCCL
#include <cuda_runtime.h>

#include "worker/comm/nccl_communicator.h"
#endif

namespace cyclr {
namespace {

template <typename T>
StatusOr<std::unique_ptr<Communicator>> Upcast(StatusOr<std::unique_ptr<T>> made) {
  if (!made.ok()) return made.status();
  return std::unique_ptr<Communicator>(std::move(made).value());
}

// The CPU backend: shared memory where ranks share a host, Gloo between hosts.
StatusOr<std::unique_ptr<Communicator>> MakeCpuCommunicator(const CommunicatorOptions& options,
                                                            std::shared_ptr<Store> store) {
  if (options.shm == ShmMode::kOff) return Upcast(GlooCommunicator::Create(options, store));
  CYCLR_ASSIGN_OR_RETURN(HostLayout layout, ExchangeHostLayout(options, *store));
  if (layout.num_hosts() == 1) return Upcast(ShmCommunicator::Create(options, store));
  if (layout.num_hosts() == options.world_size) {
    return Upcast(GlooCommunicator::Create(options, store));
  }
  return Upcast(HierarchicalCommunicator::Create(options, store, layout));
}

}  // namespace

bool NcclCompiledIn() {
#ifdef CYCLR_WITH_NCCL
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#ifdef CYCLR_WITH_NCCL
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
#else
  return 0;
#endif
}

StatusOr<std::unique_ptr<Communicator>> MakeCommunicator(const CommunicatorOptions& options,
                                                         std::shared_ptr<Store> store) {
  CYCLR_RETURN_IF_ERROR(ValidateCommunicatorOptions(options));
  if (options.backend == "gloo") return MakeCpuCommunicator(options, std::move(store));
#ifdef CYCLR_WITH_NCCL
  CYCLR_ASSIGN_OR_RETURN(auto nccl, NcclCommunicator::Create(options, std::move(store)));
  return std::unique_ptr<Communicator>(std::move(nccl));
#else
  return Status::FailedPrecondition(
      "backend \"nccl\" is not available: this build has no NCCL (configure with "
      "-DCYCLR_WITH_NCCL=ON where /usr/local/cuda/include/nccl.h exists), use backend \"gloo\"");
#endif
}

}  // namespace cyclr
