// CoordinatorStore: the production rendezvous Store, backed by the coordinator's
// cyclr.v1.WorkerService StoreSet / StoreGet RPCs. Keys are sent as "<key_prefix>/<key>" under
// the job's name; the prefix is RegisterResponse.store_prefix, so each incarnation of a job
// rendezvouses in its own namespace.
//
// Both calls retry UNAVAILABLE (coordinator restarting or not up yet) with exponential backoff
// until their deadline: Get's is the caller's timeout (also sent as timeout_ms, so the
// coordinator waits server-side), Set's is options.set_timeout. Other errors return at once.
// Thread-safe (a gRPC stub is).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "cyclr/v1/service.grpc.pb.h"
#include "worker/comm/store.h"

namespace cyclr {

struct CoordinatorStoreOptions {
  std::chrono::milliseconds set_timeout{30000};   // Set() gives up after this long
  std::chrono::milliseconds initial_backoff{50};  // first wait after UNAVAILABLE
  std::chrono::milliseconds max_backoff{2000};    // backoff doubles up to this
};

class CoordinatorStore : public Store {
 public:
  // REQUIRES: channel != nullptr, job not empty.
  CoordinatorStore(std::shared_ptr<grpc::ChannelInterface> channel, std::string job,
                   std::string key_prefix, CoordinatorStoreOptions options = {});

  Status Set(const std::string& key, const std::string& value) override;
  StatusOr<std::vector<std::string>> Get(const std::vector<std::string>& keys,
                                         std::chrono::milliseconds timeout) override;

 private:
  using Clock = std::chrono::steady_clock;

  std::string FullKey(const std::string& key) const;
  // Sleeps the current backoff (clipped to `deadline`) and doubles it. False when no time is left.
  bool Backoff(std::chrono::milliseconds* backoff, Clock::time_point deadline) const;

  const std::unique_ptr<v1::WorkerService::Stub> stub_;
  const std::string job_;
  const std::string key_prefix_;
  const CoordinatorStoreOptions options_;
};

}  // namespace cyclr
