#include "worker/comm/nccl_check.h"

namespace cyclr {

std::string NcclVersionString() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  // Since 2.9 the code is major*10000 + minor*100 + patch.
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." +
         std::to_string(v % 100);
}

Status NcclError(ncclResult_t result, const char* call, const char* file, int line,
                 ncclComm_t comm) {
  std::string msg = std::string("NCCL error at ") + file + ":" + std::to_string(line) +
                    " (NCCL " + NcclVersionString() + "): " + call + ": " +
                    ncclGetErrorString(result);
  const char* detail = ncclGetLastError(comm);
  if (detail != nullptr && detail[0] != '\0') msg += std::string(" (") + detail + ")";
  if (result == ncclSystemError || result == ncclRemoteError) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

Status CudaError(cudaError_t error, const char* call, const char* file, int line) {
  return Status::Internal(std::string("CUDA error at ") + file + ":" + std::to_string(line) +
                          ": " + call + ": " + cudaGetErrorName(error) + ": " +
                          cudaGetErrorString(error));
}

}  // namespace cyclr
