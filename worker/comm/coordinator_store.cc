#include "worker/comm/coordinator_store.h"

#include <algorithm>
#include <thread>
#include <utility>

#include <grpcpp/client_context.h>

#include "proto/proto_convert.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

// Extra time the RPC deadline gets beyond timeout_ms, so the coordinator's own
// DEADLINE_EXCEEDED (which names the missing keys) arrives before gRPC's.
constexpr std::chrono::milliseconds kRpcGrace{1000};

int64_t MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max<int64_t>(0, left.count());
}

// gRPC deadlines are on the system clock; our arithmetic is on the steady one.
std::chrono::system_clock::time_point ToSystem(std::chrono::steady_clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             t - std::chrono::steady_clock::now());
}

}  // namespace

CoordinatorStore::CoordinatorStore(std::shared_ptr<grpc::ChannelInterface> channel,
                                   std::string job, std::string key_prefix,
                                   CoordinatorStoreOptions options)
    : stub_(v1::WorkerService::NewStub(channel)),
      job_(std::move(job)),
      key_prefix_(std::move(key_prefix)),
      options_(options) {
  CYCLR_CHECK(channel != nullptr);
  CYCLR_CHECK(!job_.empty());
}

std::string CoordinatorStore::FullKey(const std::string& key) const {
  return key_prefix_.empty() ? key : key_prefix_ + "/" + key;
}

bool CoordinatorStore::Backoff(std::chrono::milliseconds* backoff,
                               Clock::time_point deadline) const {
  const int64_t left = MillisLeft(deadline);
  if (left <= 0) return false;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(backoff->count(), left)));
  *backoff = std::min(*backoff * 2, options_.max_backoff);
  return true;
}

Status CoordinatorStore::Set(const std::string& key, const std::string& value) {
  if (key.empty()) return Status::InvalidArgument("store key must not be empty");
  v1::StoreSetRequest request;
  request.set_job(job_);
  request.set_key(FullKey(key));
  request.set_value(value);
  const auto deadline = Clock::now() + options_.set_timeout;
  auto backoff = options_.initial_backoff;
  for (;;) {
    grpc::ClientContext context;
    context.set_deadline(ToSystem(deadline));
    v1::StoreSetResponse response;
    grpc::Status status = stub_->StoreSet(&context, request, &response);
    if (status.ok()) return Status::Ok();
    Status s = FromGrpc(status).WithContext("StoreSet of key " + FullKey(key));
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !Backoff(&backoff, deadline)) {
      return s;
    }
  }
}

StatusOr<std::vector<std::string>> CoordinatorStore::Get(const std::vector<std::string>& keys,
                                                         std::chrono::milliseconds timeout) {
  v1::StoreGetRequest request;
  request.set_job(job_);
  for (const auto& k : keys) request.add_keys(FullKey(k));
  const auto deadline = Clock::now() + timeout;
  auto backoff = options_.initial_backoff;
  for (;;) {
    grpc::ClientContext context;
    context.set_deadline(ToSystem(deadline + kRpcGrace));
    request.set_timeout_ms(MillisLeft(deadline));
    v1::StoreGetResponse response;
    grpc::Status status = stub_->StoreGet(&context, request, &response);
    if (status.ok()) {
      if (response.values_size() != static_cast<int>(keys.size())) {
        return Status::Internal("StoreGet returned " + std::to_string(response.values_size()) +
                                " values for " + std::to_string(keys.size()) + " keys");
      }
      return std::vector<std::string>(response.values().begin(), response.values().end());
    }
    Status s = FromGrpc(status).WithContext("StoreGet of keys " + JoinKeys(keys));
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return s;
    if (!Backoff(&backoff, deadline)) {
      return Status::DeadlineExceeded("store keys not read within " +
                                      std::to_string(timeout.count()) + " ms (" + s.message() +
                                      ")");
    }
  }
}

}  // namespace cyclr
