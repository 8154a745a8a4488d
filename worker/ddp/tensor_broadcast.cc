#include "worker/ddp/tensor_broadcast.h"

#include <memory>
#include <string>

namespace cyclr {
namespace {

// Broadcasts the tensors of one dtype through one flat buffer and copies the result back.
Status BroadcastGroup(Communicator& comm, const std::vector<torch::Tensor>& group, DataType type,
                      int root, std::chrono::milliseconds timeout) {
  if (group.empty()) return Status::Ok();
  std::vector<torch::Tensor> flat_parts;
  for (const auto& t : group) flat_parts.push_back(t.detach().reshape({-1}));
  torch::Tensor flat = torch::cat(flat_parts).contiguous();
  Status s = comm.Broadcast(flat.data_ptr(), flat.numel(), type, root)->Wait(timeout);
  if (!s.ok()) return s;
  int64_t offset = 0;
  for (const auto& t : group) {
    t.detach().copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
  return Status::Ok();
}

}  // namespace

Status BroadcastTensors(Communicator& comm, const std::vector<torch::Tensor>& tensors, int root,
                        std::chrono::milliseconds timeout) {
  if (root < 0 || root >= comm.world_size()) {
    return Status::InvalidArgument("root (" + std::to_string(root) + ") must be in [0, " +
                                   std::to_string(comm.world_size()) + ")");
  }
  std::vector<torch::Tensor> floats, ints;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (!t.defined() || t.numel() == 0) continue;
    if (t.scalar_type() == torch::kFloat32) {
      floats.push_back(t);
    } else if (t.scalar_type() == torch::kInt64) {
      ints.push_back(t);
    } else {
      return Status::InvalidArgument("tensor " + std::to_string(i) + " has dtype " +
                                     std::string(c10::toString(t.scalar_type())) +
                                     "; only float32 and int64 can be broadcast");
    }
  }
  torch::NoGradGuard no_grad;
  CYCLR_RETURN_IF_ERROR(
      BroadcastGroup(comm, floats, DataType::kFloat32, root, timeout).WithContext("broadcast float32 tensors"));
  return BroadcastGroup(comm, ints, DataType::kInt64, root, timeout)
      .WithContext("broadcast int64 tensors");
}

}  // namespace cyclr
