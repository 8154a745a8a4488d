// One check macro per foreign API, as c10d does: every NCCL and CUDA call in worker/comm goes
// through CYCLR_NCCL_RETURN_IF_ERROR / CYCLR_CUDA_RETURN_IF_ERROR, which return a Status whose
// message carries file:line, the call, the library's error string and the NCCL version.
// Only compiled with CYCLR_WITH_NCCL.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "core/status.h"

namespace cyclr {

// "2.28.9" (the library actually loaded, from ncclGetVersion).
std::string NcclVersionString();

// ncclSystemError / ncclRemoteError → UNAVAILABLE (a peer or the network failed), anything else
// → INTERNAL. `comm` (may be null) adds ncclGetLastError's detail.
Status NcclError(ncclResult_t result, const char* call, const char* file, int line,
                 ncclComm_t comm = nullptr);
Status CudaError(cudaError_t error, const char* call, const char* file, int line);

}  // namespace cyclr

// ncclInProgress is not an error for non-blocking communicators; callers poll for completion.
#define CYCLR_NCCL_RETURN_IF_ERROR(expr)                                      \
  do {                                                                        \
    ncclResult_t _nccl_r = (expr);                                            \
    if (_nccl_r != ncclSuccess && _nccl_r != ncclInProgress)                  \
      return ::cyclr::NcclError(_nccl_r, #expr, __FILE__, __LINE__);          \
  } while (0)

#define CYCLR_CUDA_RETURN_IF_ERROR(expr)                                      \
  do {                                                                        \
    cudaError_t _cuda_e = (expr);                                             \
    if (_cuda_e != cudaSuccess)                                               \
      return ::cyclr::CudaError(_cuda_e, #expr, __FILE__, __LINE__);          \
  } while (0)
