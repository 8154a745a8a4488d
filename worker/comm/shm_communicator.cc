#include "worker/comm/shm_communicator.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "worker/comm/shm_reduce.h"

namespace cyclr {
namespace {

constexpr size_t kSliceAlign = 16;  // elements: slices start on their own cache line (float32)

// First element of rank r's slice of a chunk of `count` elements split among `size` ranks.
size_t SliceBegin(size_t count, int r, int size) {
  if (r >= size) return count;
  return std::min(count, count * r / size / kSliceAlign * kSliceAlign);
}

}  // namespace

StatusOr<std::unique_ptr<ShmCommunicator>> ShmCommunicator::Create(
    const CommunicatorOptions& options, std::shared_ptr<Store> store) {
  CYCLR_CHECK(store != nullptr);
  CYCLR_RETURN_IF_ERROR(ValidateCommunicatorOptions(options));
  std::unique_ptr<ShmGroup> group;
  if (options.world_size > 1) {
    auto joined = ShmGroup::Join(options, store);
    if (!joined.ok()) {
      return joined.status().WithContext("shm rendezvous of rank " + std::to_string(options.rank) +
                                         " of " + std::to_string(options.world_size));
    }
    group = std::move(joined).value();
  }
  return std::unique_ptr<ShmCommunicator>(new ShmCommunicator(options, std::move(group)));
}

ShmCommunicator::ShmCommunicator(const CommunicatorOptions& options,
                                 std::unique_ptr<ShmGroup> group)
    : options_(options), group_(std::move(group)), executor_(std::make_unique<SerialExecutor>()) {}

ShmCommunicator::~ShmCommunicator() {
  executor_.reset();
  if (group_ != nullptr) group_->Abort();  // peers still waiting on this rank fail at once
}

std::vector<std::string> ShmCommunicator::segment_names() const {
  return group_ == nullptr ? std::vector<std::string>{} : group_->names();
}

std::string ShmCommunicator::Describe(const char* name, uint64_t seq,
                                      const std::string& detail) const {
  return DescribeCollective("shm", name, seq, detail, options_.rank);
}

std::unique_ptr<Work> ShmCommunicator::AllReduce(void* data, size_t count, DataType type,
                                                 ReduceOp op) {
  const uint64_t seq = next_seq_++;
  std::string what = Describe("allreduce", seq, AllReduceDetail(count, type, op));
  char* bytes = static_cast<char*>(data);
  return executor_->Submit(std::move(what),
                           [=] { return Finish(RunAllReduce(bytes, count, type, op)); });
}

std::unique_ptr<Work> ShmCommunicator::Broadcast(void* data, size_t count, DataType type,
                                                 int root) {
  // Rejected before it takes a sequence number.
  if (Status bad = CheckBroadcastRoot(root, options_.world_size); !bad.ok()) {
    return CompletedWork(bad);
  }
  const uint64_t seq = next_seq_++;
  std::string what = Describe("broadcast", seq, BroadcastDetail(count, type, root));
  char* bytes = static_cast<char*>(data);
  const size_t n = count * DataTypeSize(type);
  return executor_->Submit(std::move(what), [=] { return Finish(RunBroadcast(bytes, n, root)); });
}

Status ShmCommunicator::Barrier(std::chrono::milliseconds timeout) {
  const uint64_t seq = next_seq_++;
  auto work =
      executor_->Submit(Describe("barrier", seq, ""), [=] { return Finish(RunBarrier(timeout)); });
  // A little longer than the barrier's own bound, so its message (naming the peer) wins.
  return work->Wait(timeout + timeout / 10 + std::chrono::milliseconds(50));
}

Status ShmCommunicator::Finish(Status s) {
  if (!s.ok() && group_ != nullptr) group_->Abort();
  return s;
}

ShmDeadline ShmCommunicator::DeadlineIn(std::chrono::milliseconds budget) const {
  return ShmDeadline{std::chrono::steady_clock::now() + budget, budget};
}

Status ShmCommunicator::RunAllReduce(char* data, size_t count, DataType type, ReduceOp op) {
  if (group_ == nullptr || count == 0) return Status::Ok();
  const size_t elem = DataTypeSize(type);
  const size_t chunk = group_->capacity() / elem;
  const ShmDeadline deadline = DeadlineIn(options_.op_timeout);
  for (size_t lo = 0; lo < count; lo += chunk) {
    const size_t n = std::min(chunk, count - lo);
    CYCLR_RETURN_IF_ERROR(AllReduceChunk(data + lo * elem, n, type, op, deadline));
  }
  return Status::Ok();
}

Status ShmCommunicator::AllReduceChunk(char* data, size_t count, DataType type, ReduceOp op,
                                       const ShmDeadline& deadline) {
  const uint64_t step = ++step_;
  const int me = group_->rank();
  const size_t bytes = count * DataTypeSize(type);
  const bool small = bytes <= options_.shm_small_bytes;
  CYCLR_RETURN_IF_ERROR(group_->WaitForAll(ShmFlag::kDone, step - 1, deadline));
  if (small) {
    std::memcpy(group_->buffer(me), data, bytes);
  } else {  // only this rank reads its own slice: it stays out of the workspace
    const size_t elem = DataTypeSize(type);
    const size_t lo = SliceBegin(count, me, group_->size()) * elem;
    const size_t hi = SliceBegin(count, me + 1, group_->size()) * elem;
    std::memcpy(group_->buffer(me), data, lo);
    std::memcpy(group_->buffer(me) + hi, data + hi, bytes - hi);
  }
  group_->Post(ShmFlag::kCopied, step);
  CYCLR_RETURN_IF_ERROR(group_->WaitForAll(ShmFlag::kCopied, step, deadline));
  if (small) {
    std::vector<const char*> srcs;
    for (int r = 0; r < group_->size(); ++r) srcs.push_back(group_->buffer(r));
    ReduceInOrder(data, srcs.data(), group_->size(), count, type, op);
  } else {
    CYCLR_RETURN_IF_ERROR(ReduceScatterGather(data, count, type, op, step, deadline));
  }
  group_->Post(ShmFlag::kDone, step);
  return Status::Ok();
}

Status ShmCommunicator::ReduceScatterGather(char* data, size_t count, DataType type, ReduceOp op,
                                            uint64_t step, const ShmDeadline& deadline) {
  const int me = group_->rank();
  const int size = group_->size();
  const size_t elem = DataTypeSize(type);
  const size_t lo = SliceBegin(count, me, size) * elem;
  const size_t hi = SliceBegin(count, me + 1, size) * elem;
  std::vector<const char*> srcs;
  for (int r = 0; r < size; ++r) srcs.push_back(r == me ? data + lo : group_->buffer(r) + lo);
  // Into the workspace (its slice `me` held nothing yet), then back into the output.
  ReduceInOrder(group_->buffer(me) + lo, srcs.data(), size, (hi - lo) / elem, type, op);
  std::memcpy(data + lo, group_->buffer(me) + lo, hi - lo);
  group_->Post(ShmFlag::kReduced, step);
  for (int p = 0; p < size; ++p) {
    if (p == me) continue;
    CYCLR_RETURN_IF_ERROR(group_->WaitFor(p, ShmFlag::kReduced, step, deadline));
    const size_t plo = SliceBegin(count, p, size) * elem;
    const size_t phi = SliceBegin(count, p + 1, size) * elem;
    std::memcpy(data + plo, group_->buffer(p) + plo, phi - plo);
  }
  return Status::Ok();
}

Status ShmCommunicator::RunBroadcast(char* data, size_t bytes, int root) {
  if (group_ == nullptr || bytes == 0) return Status::Ok();
  const ShmDeadline deadline = DeadlineIn(options_.op_timeout);
  const int me = group_->rank();
  for (size_t lo = 0; lo < bytes; lo += group_->capacity()) {
    const size_t n = std::min(group_->capacity(), bytes - lo);
    const uint64_t step = ++step_;
    if (me == root) {
      CYCLR_RETURN_IF_ERROR(group_->WaitForAll(ShmFlag::kDone, step - 1, deadline));
      std::memcpy(group_->buffer(me), data + lo, n);
      group_->Post(ShmFlag::kCopied, step);
    } else {
      CYCLR_RETURN_IF_ERROR(group_->WaitFor(root, ShmFlag::kCopied, step, deadline));
      std::memcpy(data + lo, group_->buffer(root), n);
    }
    group_->Post(ShmFlag::kDone, step);
  }
  return Status::Ok();
}

Status ShmCommunicator::RunBarrier(std::chrono::milliseconds timeout) {
  if (group_ == nullptr) return Status::Ok();
  const ShmDeadline deadline = DeadlineIn(timeout);
  const uint64_t step = ++step_;
  group_->Post(ShmFlag::kCopied, step);  // the workspace is untouched: nothing to wait for
  CYCLR_RETURN_IF_ERROR(group_->WaitForAll(ShmFlag::kCopied, step, deadline));
  group_->Post(ShmFlag::kDone, step);
  return Status::Ok();
}

}  // namespace cyclr
