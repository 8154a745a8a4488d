#include "worker/comm/hierarchical_communicator.h"

#include <utility>

#include "worker/comm/gloo_communicator.h"
#include "worker/comm/shm_communicator.h"

namespace cyclr {

StatusOr<std::unique_ptr<HierarchicalCommunicator>> HierarchicalCommunicator::Create(
    const CommunicatorOptions& options, std::shared_ptr<Store> store, const HostLayout& layout) {
  CYCLR_CHECK(store != nullptr);
  CYCLR_CHECK(static_cast<int>(layout.host_of_rank.size()) == options.world_size);
  const int host = layout.host_of_rank[options.rank];
  CommunicatorOptions lo = options;
  lo.rank = layout.local_rank(options.rank);
  lo.world_size = static_cast<int>(layout.ranks_of_host[host].size());
  lo.store_prefix = options.store_prefix + "/host" + std::to_string(host);
  CYCLR_ASSIGN_OR_RETURN(auto local, ShmCommunicator::Create(lo, store));
  std::unique_ptr<Communicator> leaders;
  if (lo.rank == 0) {
    CommunicatorOptions go = options;
    go.rank = host;
    go.world_size = layout.num_hosts();
    go.store_prefix = options.store_prefix + "/leaders";
    go.shm = ShmMode::kOff;
    CYCLR_ASSIGN_OR_RETURN(auto gloo, GlooCommunicator::Create(go, store));
    leaders = std::move(gloo);
  }
  return std::unique_ptr<HierarchicalCommunicator>(
      new HierarchicalCommunicator(options, layout, std::move(local), std::move(leaders)));
}

HierarchicalCommunicator::HierarchicalCommunicator(const CommunicatorOptions& options,
                                                   const HostLayout& layout,
                                                   std::unique_ptr<Communicator> local,
                                                   std::unique_ptr<Communicator> leaders)
    : options_(options),
      layout_(layout),
      host_(layout.host_of_rank[options.rank]),
      local_(std::move(local)),
      leaders_(std::move(leaders)),
      executor_(std::make_unique<SerialExecutor>()) {}

HierarchicalCommunicator::~HierarchicalCommunicator() { executor_.reset(); }

std::string HierarchicalCommunicator::Describe(const char* name, uint64_t seq,
                                               const std::string& detail) const {
  return DescribeCollective("shm+gloo", name, seq, detail, options_.rank) + " (host " +
         std::to_string(host_) + ")";
}

std::unique_ptr<Work> HierarchicalCommunicator::AllReduce(void* data, size_t count, DataType type,
                                                          ReduceOp op) {
  const uint64_t seq = next_seq_++;
  std::string what = Describe("allreduce", seq, AllReduceDetail(count, type, op));
  return executor_->Submit(std::move(what), [=] { return RunAllReduce(data, count, type, op); });
}

std::unique_ptr<Work> HierarchicalCommunicator::Broadcast(void* data, size_t count, DataType type,
                                                          int root) {
  // Rejected before it takes a sequence number.
  if (Status bad = CheckBroadcastRoot(root, options_.world_size); !bad.ok()) {
    return CompletedWork(bad);
  }
  const uint64_t seq = next_seq_++;
  std::string what = Describe("broadcast", seq, BroadcastDetail(count, type, root));
  return executor_->Submit(std::move(what), [=] { return RunBroadcast(data, count, type, root); });
}

Status HierarchicalCommunicator::Barrier(std::chrono::milliseconds timeout) {
  const uint64_t seq = next_seq_++;
  auto work = executor_->Submit(Describe("barrier", seq, ""), [=] { return RunBarrier(timeout); });
  // Three stages, each bounded by `timeout`.
  return work->Wait(3 * timeout + timeout / 10 + std::chrono::milliseconds(50));
}

Status HierarchicalCommunicator::WaitStage(std::unique_ptr<Work> work, bool local) const {
  const auto t = options_.op_timeout;
  Status s = work->Wait(t + t / 10 + std::chrono::milliseconds(50));
  if (s.ok()) return s;
  // The stage's message speaks of its own ranks: say which global ranks they are.
  std::string ranks;
  if (local) {
    for (int r : layout_.ranks_of_host[host_])
      ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
    return s.WithContext("shm stage on host " + std::to_string(host_) +
                         " (its ranks are global ranks " + ranks + ")");
  }
  for (int h = 0; h < layout_.num_hosts(); ++h) {
    ranks += (ranks.empty() ? "" : ", ") + std::to_string(layout_.leader(h));
  }
  return s.WithContext("gloo stage between hosts (its ranks are global ranks " + ranks + ")");
}

Status HierarchicalCommunicator::RunAllReduce(void* data, size_t count, DataType type,
                                              ReduceOp op) {
  CYCLR_RETURN_IF_ERROR(WaitStage(local_->AllReduce(data, count, type, op), true));
  if (leaders_ != nullptr) {
    CYCLR_RETURN_IF_ERROR(WaitStage(leaders_->AllReduce(data, count, type, op), false));
  }
  return WaitStage(local_->Broadcast(data, count, type, 0), true);
}

Status HierarchicalCommunicator::RunBroadcast(void* data, size_t count, DataType type, int root) {
  const int root_host = layout_.host_of_rank[root];
  if (host_ == root_host) {
    CYCLR_RETURN_IF_ERROR(
        WaitStage(local_->Broadcast(data, count, type, layout_.local_rank(root)), true));
  }
  if (leaders_ != nullptr) {
    CYCLR_RETURN_IF_ERROR(WaitStage(leaders_->Broadcast(data, count, type, root_host), false));
  }
  if (host_ != root_host) return WaitStage(local_->Broadcast(data, count, type, 0), true);
  return Status::Ok();
}

Status HierarchicalCommunicator::RunBarrier(std::chrono::milliseconds timeout) {
  CYCLR_RETURN_IF_ERROR(local_->Barrier(timeout));
  if (leaders_ != nullptr) CYCLR_RETURN_IF_ERROR(leaders_->Barrier(timeout));
  return local_->Barrier(timeout);
}

}  // namespace cyclr
