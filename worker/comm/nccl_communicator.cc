#include "worker/comm/nccl_communicator.h"

#include <mutex>
#include <thread>
#include <utility>

#include "worker/comm/nccl_check.h"
#include "worker/comm/prefix_store.h"
#include "worker/comm/serial_executor.h"

namespace cyclr {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::microseconds kPollInterval{50};

ncclDataType_t ToNccl(DataType t) { return t == DataType::kInt64 ? ncclInt64 : ncclFloat32; }
ncclRedOp_t ToNccl(ReduceOp op) {
  return op == ReduceOp::kMin ? ncclMin : op == ReduceOp::kMax ? ncclMax : ncclSum;
}

// Polls a non-blocking communicator until its pending operation (init, enqueue, finalize) is done.
Status PollUntilReady(ncclComm_t comm, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    ncclResult_t state = ncclInProgress;
    CYCLR_NCCL_RETURN_IF_ERROR(ncclCommGetAsyncError(comm, &state));
    if (state == ncclSuccess) return Status::Ok();
    if (state != ncclInProgress) return NcclError(state, what.c_str(), __FILE__, __LINE__, comm);
    if (Clock::now() > deadline)
      return Status::DeadlineExceeded(what + " did not complete in time");
    std::this_thread::sleep_for(kPollInterval);
  }
}

StatusOr<int> PickDevice(const CommunicatorOptions& o) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    return Status::FailedPrecondition(
        "backend \"nccl\" needs a CUDA device, and none is visible; "
        "use backend \"gloo\"");
  }
  const int device = o.cuda_device >= 0 ? o.cuda_device : o.rank % count;
  if (device >= count) {
    return Status::FailedPrecondition("cuda_device (" + std::to_string(device) +
                                      ") must be < the number of CUDA devices (" +
                                      std::to_string(count) + ")");
  }
  return device;
}

}  // namespace

struct NcclCommunicator::State {
  int device = 0;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  std::chrono::milliseconds op_timeout{0};
  std::mutex mu;
  Status poison;         // GUARDED_BY(mu): first error, OK while healthy
  bool aborted = false;  // GUARDED_BY(mu)

  // Records the first error and aborts the communicator so no rank waits on it forever.
  void Fail(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (poison.ok()) poison = s;
    if (!aborted && comm != nullptr) {
      ncclCommAbort(comm);
      aborted = true;
    }
  }
  Status Health() {
    std::lock_guard<std::mutex> lock(mu);
    if (poison.ok()) return Status::Ok();
    return Status::FailedPrecondition("communicator unusable after an earlier error: " +
                                      poison.ToString());
  }
  ~State() {
    cudaSetDevice(device);
    if (comm != nullptr && !aborted) {
      // Finalize flushes outstanding work; if that does not finish in time, abort instead.
      bool clean = ncclCommFinalize(comm) != ncclSystemError &&
                   PollUntilReady(comm, Clock::now() + op_timeout, "ncclCommFinalize").ok();
      if (clean) {
        ncclCommDestroy(comm);
      } else {
        ncclCommAbort(comm);
      }
    }
    if (stream != nullptr) cudaStreamDestroy(stream);
  }
};

namespace {

class NcclWork : public Work {
 public:
  NcclWork(std::string what, cudaEvent_t event, std::shared_ptr<NcclCommunicator::State> state)
      : what_(std::move(what)), event_(event), state_(std::move(state)) {}
  ~NcclWork() override { cudaEventDestroy(event_); }

  Status Wait(std::chrono::milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      cudaError_t q = cudaEventQuery(event_);
      if (q == cudaSuccess) return Status::Ok();
      if (q != cudaErrorNotReady) return Fail(CudaError(q, "cudaEventQuery", __FILE__, __LINE__));
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(state_->comm, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        return Fail(NcclError(async, "ncclCommGetAsyncError", __FILE__, __LINE__, state_->comm));
      }
      if (Clock::now() > deadline) {
        return Fail(Status::DeadlineExceeded(what_ + " did not finish within " +
                                             std::to_string(timeout.count()) + " ms"));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

 private:
  Status Fail(Status s) {
    s = s.WithContext(what_);
    state_->Fail(s);
    return s;
  }

  const std::string what_;
  const cudaEvent_t event_;
  const std::shared_ptr<NcclCommunicator::State> state_;
};

}  // namespace

namespace {

// Rank 0 creates the id and publishes it; every other rank reads it (waiting for rank 0).
StatusOr<ncclUniqueId> ExchangeUniqueId(const CommunicatorOptions& o,
                                        std::shared_ptr<Store> store) {
  PrefixStore ids(o.store_prefix + "/nccl", std::move(store));
  ncclUniqueId id;
  if (o.rank == 0) {
    CYCLR_NCCL_RETURN_IF_ERROR(ncclGetUniqueId(&id));
    CYCLR_RETURN_IF_ERROR(ids.Set("unique_id", std::string(id.internal, NCCL_UNIQUE_ID_BYTES)));
    return id;
  }
  CYCLR_ASSIGN_OR_RETURN(auto values, ids.Get({"unique_id"}, o.rendezvous_timeout));
  if (values[0].size() != NCCL_UNIQUE_ID_BYTES) {
    return Status::Internal("NCCL unique id in the store has " + std::to_string(values[0].size()) +
                            " bytes, expected " + std::to_string(NCCL_UNIQUE_ID_BYTES));
  }
  std::copy(values[0].begin(), values[0].end(), id.internal);
  return id;
}

Status InitComm(const CommunicatorOptions& o, const ncclUniqueId& id,
                NcclCommunicator::State* state) {
  CYCLR_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&state->stream, cudaStreamNonBlocking));
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // so a rank that never joins times out instead of hanging
  ncclUniqueId mutable_id = id;
  CYCLR_NCCL_RETURN_IF_ERROR(
      ncclCommInitRankConfig(&state->comm, o.world_size, mutable_id, o.rank, &config));
  Status s =
      PollUntilReady(state->comm, Clock::now() + o.rendezvous_timeout, "ncclCommInitRankConfig");
  if (!s.ok()) state->Fail(s);
  return s;
}

}  // namespace

StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(
    const CommunicatorOptions& options, std::shared_ptr<Store> store) {
  CYCLR_CHECK(store != nullptr);
  CYCLR_RETURN_IF_ERROR(ValidateCommunicatorOptions(options));
  CYCLR_ASSIGN_OR_RETURN(int device, PickDevice(options));
  CYCLR_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  const std::string where = "nccl rendezvous of rank " + std::to_string(options.rank) + " of " +
                            std::to_string(options.world_size);
  auto id = ExchangeUniqueId(options, std::move(store));
  if (!id.ok()) return id.status().WithContext(where);
  auto state = std::make_shared<State>();
  state->device = device;
  state->op_timeout = options.op_timeout;
  Status s = InitComm(options, *id, state.get());
  if (!s.ok()) return s.WithContext(where);
  auto comm = std::unique_ptr<NcclCommunicator>(new NcclCommunicator(options, device, state));
  CYCLR_CUDA_RETURN_IF_ERROR(cudaMalloc(&comm->barrier_scratch_, sizeof(float)));
  return comm;
}

NcclCommunicator::NcclCommunicator(const CommunicatorOptions& options, int device,
                                   std::shared_ptr<State> state)
    : options_(options), device_(device), state_(std::move(state)) {}

NcclCommunicator::~NcclCommunicator() {
  cudaSetDevice(device_);
  if (barrier_scratch_ != nullptr) cudaFree(barrier_scratch_);
}

template <typename Launch>
std::unique_ptr<Work> NcclCommunicator::Enqueue(const std::string& what, Launch launch) {
  Status health = state_->Health();
  if (!health.ok()) return CompletedWork(health);
  auto fail = [&](Status s) {
    s = s.WithContext(what);
    state_->Fail(s);
    return CompletedWork(s);
  };
  cudaError_t e = cudaSetDevice(device_);
  if (e != cudaSuccess) return fail(CudaError(e, "cudaSetDevice", __FILE__, __LINE__));
  ncclResult_t r = launch(state_->comm, state_->stream);
  if (r != ncclSuccess && r != ncclInProgress) {
    return fail(NcclError(r, what.c_str(), __FILE__, __LINE__, state_->comm));
  }
  if (r == ncclInProgress) {
    Status s = PollUntilReady(state_->comm, Clock::now() + options_.op_timeout, what);
    if (!s.ok()) return fail(s);
  }
  cudaEvent_t event;
  e = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
  if (e != cudaSuccess) return fail(CudaError(e, "cudaEventCreateWithFlags", __FILE__, __LINE__));
  e = cudaEventRecord(event, state_->stream);
  if (e != cudaSuccess) {
    cudaEventDestroy(event);
    return fail(CudaError(e, "cudaEventRecord", __FILE__, __LINE__));
  }
  return std::make_unique<NcclWork>(what, event, state_);
}

std::unique_ptr<Work> NcclCommunicator::AllReduce(void* data, size_t count, DataType type,
                                                  ReduceOp op) {
  const std::string what = "nccl allreduce (" + AllReduceDetail(count, type, op) + ") on rank " +
                           std::to_string(options_.rank);
  return Enqueue(what, [&](ncclComm_t comm, cudaStream_t stream) {
    return ncclAllReduce(data, data, count, ToNccl(type), ToNccl(op), comm, stream);
  });
}

std::unique_ptr<Work> NcclCommunicator::Broadcast(void* data, size_t count, DataType type,
                                                  int root) {
  if (Status bad = CheckBroadcastRoot(root, options_.world_size); !bad.ok()) {
    return CompletedWork(bad);
  }
  const std::string what = "nccl broadcast (" + BroadcastDetail(count, type, root) + ") on rank " +
                           std::to_string(options_.rank);
  return Enqueue(what, [&](ncclComm_t comm, cudaStream_t stream) {
    return ncclBroadcast(data, data, count, ToNccl(type), root, comm, stream);
  });
}

Status NcclCommunicator::Barrier(std::chrono::milliseconds timeout) {
  // NCCL has no barrier: a one-element all-reduce that every rank must join is one.
  return AllReduce(barrier_scratch_, 1, DataType::kFloat32, ReduceOp::kSum)->Wait(timeout);
}

}  // namespace cyclr
