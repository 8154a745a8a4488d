#include "worker/comm/gloo_communicator.h"

#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/transport/tcp/device.h>

#include <utility>

#include "worker/comm/gloo_errors.h"
#include "worker/comm/gloo_store_adapter.h"
#include "worker/comm/prefix_store.h"

namespace cyclr {
namespace {

template <typename T>
gloo::AllreduceOptions::Func ReduceFunc(ReduceOp op) {
  void (*fn)(void*, const void*, const void*, size_t) = &gloo::sum<T>;
  if (op == ReduceOp::kMin) fn = &gloo::min<T>;
  if (op == ReduceOp::kMax) fn = &gloo::max<T>;
  return fn;
}

template <typename T>
void SetAllReduceBuffers(gloo::AllreduceOptions& opts, void* data, size_t count, ReduceOp op) {
  opts.setOutput(static_cast<T*>(data), count);
  opts.setReduceFunction(ReduceFunc<T>(op));
}

template <typename T>
void SetBroadcastBuffers(gloo::BroadcastOptions& opts, void* data, size_t count) {
  opts.setOutput(static_cast<T*>(data), count);
}

// Gloo tags are 32 bits; wrapping is fine because collectives run one at a time.
uint32_t Tag(uint64_t seq) { return static_cast<uint32_t>(seq); }

}  // namespace

StatusOr<std::unique_ptr<GlooCommunicator>> GlooCommunicator::Create(
    const CommunicatorOptions& options, std::shared_ptr<Store> store) {
  CYCLR_CHECK(store != nullptr);
  CYCLR_RETURN_IF_ERROR(ValidateCommunicatorOptions(options));
  if (options.backend != "gloo") {
    return Status::InvalidArgument("backend (\"" + options.backend +
                                   "\") must be \"gloo\" for GlooCommunicator");
  }
  gloo::transport::tcp::attr attr;
  if (!options.iface.empty()) {
    attr.iface = options.iface;
  } else {
    attr.hostname = options.hostname;
  }
  std::shared_ptr<gloo::transport::Device> device;
  Status s = CallGloo([&] { device = gloo::transport::tcp::CreateDevice(attr); });
  if (!s.ok()) {
    return Status::InvalidArgument(
        "cannot listen on " +
        (options.iface.empty() ? "hostname \"" + options.hostname : "iface \"" + options.iface) +
        "\": " + s.message());
  }
  auto context = std::make_shared<gloo::rendezvous::Context>(options.rank, options.world_size);
  context->setTimeout(options.rendezvous_timeout);
  GlooStoreAdapter adapter(std::make_shared<PrefixStore>(options.store_prefix + "/gloo", store),
                           options.rendezvous_timeout);
  s = CallGloo([&] { context->connectFullMesh(adapter, device); });
  if (!s.ok()) {
    return s.WithContext("gloo rendezvous of rank " + std::to_string(options.rank) + " of " +
                         std::to_string(options.world_size));
  }
  context->setTimeout(options.op_timeout);
  return std::unique_ptr<GlooCommunicator>(new GlooCommunicator(options, std::move(context)));
}

GlooCommunicator::GlooCommunicator(const CommunicatorOptions& options,
                                   std::shared_ptr<gloo::Context> context)
    : options_(options),
      context_(std::move(context)),
      executor_(std::make_unique<SerialExecutor>()) {}

GlooCommunicator::~GlooCommunicator() { executor_.reset(); }

std::string GlooCommunicator::Describe(const char* name, uint64_t seq,
                                       const std::string& detail) const {
  return DescribeCollective("gloo", name, seq, detail, options_.rank);
}

std::unique_ptr<Work> GlooCommunicator::AllReduce(void* data, size_t count, DataType type,
                                                  ReduceOp op) {
  const uint64_t seq = next_seq_++;
  std::string what = Describe("allreduce", seq, AllReduceDetail(count, type, op));
  return executor_->Submit(std::move(what),
                           [=] { return RunAllReduce(data, count, type, op, Tag(seq)); });
}

std::unique_ptr<Work> GlooCommunicator::Broadcast(void* data, size_t count, DataType type,
                                                  int root) {
  // Rejected before it takes a sequence number.
  if (Status bad = CheckBroadcastRoot(root, options_.world_size); !bad.ok()) {
    return CompletedWork(bad);
  }
  const uint64_t seq = next_seq_++;
  std::string what = Describe("broadcast", seq, BroadcastDetail(count, type, root));
  return executor_->Submit(std::move(what),
                           [=] { return RunBroadcast(data, count, type, root, Tag(seq)); });
}

Status GlooCommunicator::Barrier(std::chrono::milliseconds timeout) {
  const uint64_t seq = next_seq_++;
  auto work = executor_->Submit(Describe("barrier", seq, ""),
                                [=] { return RunBarrier(timeout, Tag(seq)); });
  // A little longer than Gloo's own bound, so Gloo's more precise error wins the race.
  return work->Wait(timeout + timeout / 10 + std::chrono::milliseconds(50));
}

Status GlooCommunicator::RunAllReduce(void* data, size_t count, DataType type, ReduceOp op,
                                      uint32_t tag) {
  if (count == 0) return Status::Ok();
  return CallGloo([&] {
    gloo::AllreduceOptions opts(context_);
    if (type == DataType::kFloat32) {
      SetAllReduceBuffers<float>(opts, data, count, op);
    } else {
      SetAllReduceBuffers<int64_t>(opts, data, count, op);
    }
    opts.setTag(tag);
    opts.setTimeout(options_.op_timeout);
    gloo::allreduce(opts);
  });
}

Status GlooCommunicator::RunBroadcast(void* data, size_t count, DataType type, int root,
                                      uint32_t tag) {
  if (count == 0) return Status::Ok();
  return CallGloo([&] {
    gloo::BroadcastOptions opts(context_);
    if (type == DataType::kFloat32) {
      SetBroadcastBuffers<float>(opts, data, count);
    } else {
      SetBroadcastBuffers<int64_t>(opts, data, count);
    }
    opts.setRoot(root);
    opts.setTag(tag);
    opts.setTimeout(options_.op_timeout);
    gloo::broadcast(opts);
  });
}

Status GlooCommunicator::RunBarrier(std::chrono::milliseconds timeout, uint32_t tag) {
  return CallGloo([&] {
    gloo::BarrierOptions opts(context_);
    opts.setTag(tag);
    opts.setTimeout(timeout);
    gloo::barrier(opts);
  });
}

}  // namespace cyclr
