#include "worker/comm/communicator_options.h"

namespace cyclr {

Status ValidateCommunicatorOptions(const CommunicatorOptions& o) {
  if (o.backend != "gloo" && o.backend != "nccl") {
    return Status::InvalidArgument("backend (\"" + o.backend + "\") must be \"gloo\" or \"nccl\"");
  }
  if (o.world_size < 1) {
    return Status::InvalidArgument("world_size (" + std::to_string(o.world_size) +
                                   ") must be >= 1");
  }
  if (o.rank < 0 || o.rank >= o.world_size) {
    return Status::InvalidArgument("rank (" + std::to_string(o.rank) + ") must be in [0, " +
                                   std::to_string(o.world_size) + ")");
  }
  if (o.backend == "gloo" && o.hostname.empty() && o.iface.empty()) {
    return Status::InvalidArgument("hostname must not be empty when iface is not set");
  }
  if (o.rendezvous_timeout.count() <= 0) {
    return Status::InvalidArgument(
        "rendezvous_timeout (" + std::to_string(o.rendezvous_timeout.count()) + " ms) must be > 0");
  }
  if (o.op_timeout.count() <= 0) {
    return Status::InvalidArgument("op_timeout (" + std::to_string(o.op_timeout.count()) +
                                   " ms) must be > 0");
  }
  if (o.shm_workspace_bytes < 4096 || o.shm_workspace_bytes % 64 != 0) {
    return Status::InvalidArgument("shm_workspace_bytes (" + std::to_string(o.shm_workspace_bytes) +
                                   ") must be >= 4096 and a multiple of 64");
  }
  if (o.shm_spin_iterations < 0 || o.shm_yield_for.count() < 0) {
    return Status::InvalidArgument("shm_spin_iterations and shm_yield_for must be >= 0");
  }
  if (o.shm_check_every.count() <= 0) {
    return Status::InvalidArgument("shm_check_every (" + std::to_string(o.shm_check_every.count()) +
                                   " ms) must be > 0");
  }
  return Status::Ok();
}

const char* ShmModeName(ShmMode mode) { return mode == ShmMode::kOff ? "off" : "auto"; }

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return 4;
    case DataType::kInt64:
      return 8;
  }
  return 0;
}

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kInt64:
      return "int64";
  }
  return "?";
}

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMin:
      return "min";
    case ReduceOp::kMax:
      return "max";
  }
  return "?";
}

std::string DescribeCollective(const std::string& backend, const char* name, uint64_t seq,
                               const std::string& detail, int rank) {
  return backend + " " + name + " #" + std::to_string(seq) + " (" + detail + ") on rank " +
         std::to_string(rank);
}

std::string AllReduceDetail(size_t count, DataType type, ReduceOp op) {
  return std::to_string(count) + " " + DataTypeName(type) + ", " + ReduceOpName(op);
}

std::string BroadcastDetail(size_t count, DataType type, int root) {
  return std::to_string(count) + " " + DataTypeName(type) + " from rank " + std::to_string(root);
}

Status CheckBroadcastRoot(int root, int world_size) {
  if (root >= 0 && root < world_size) return Status::Ok();
  return Status::InvalidArgument("broadcast root (" + std::to_string(root) + ") must be in [0, " +
                                 std::to_string(world_size) + ")");
}

}  // namespace cyclr
