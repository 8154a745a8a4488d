// TestBuffer<T>: a collective's buffer in the memory the backend wants (host for Gloo, device
// for NCCL), with host-side staging so tests fill and check values the same way on both.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#ifdef CYCLR_WITH_NCCL
#include <cuda_runtime.h>
#endif

namespace cyclr {
namespace testing {

template <typename T>
class TestBuffer {
 public:
  TestBuffer(const std::string& backend, size_t count)
      : on_device_(backend == "nccl"), host_(count) {
#ifdef CYCLR_WITH_NCCL
    if (on_device_) cudaMalloc(&device_, count * sizeof(T) + 1);
#endif
  }
  ~TestBuffer() {
#ifdef CYCLR_WITH_NCCL
    if (device_ != nullptr) cudaFree(device_);
#endif
  }
  TestBuffer(const TestBuffer&) = delete;
  TestBuffer& operator=(const TestBuffer&) = delete;

  std::vector<T>& host() { return host_; }
  size_t size() const { return host_.size(); }
  // The pointer to hand to the communicator (after Upload()).
  void* data() { return on_device_ ? device_ : static_cast<void*>(host_.data()); }
  void Upload() {
#ifdef CYCLR_WITH_NCCL
    if (on_device_) cudaMemcpy(device_, host_.data(), size() * sizeof(T), cudaMemcpyHostToDevice);
#endif
  }
  // Call after Work::Wait() returned OK.
  std::vector<T>& Download() {
#ifdef CYCLR_WITH_NCCL
    if (on_device_) cudaMemcpy(host_.data(), device_, size() * sizeof(T), cudaMemcpyDeviceToHost);
#endif
    return host_;
  }

 private:
  const bool on_device_;
  std::vector<T> host_;
  void* device_ = nullptr;
};

}  // namespace testing
}  // namespace cyclr
