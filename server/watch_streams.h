// WatchStreams<Msg>: the open watch streams of one method, so the coordinator's shutdown can end
// them all with UNAVAILABLE before the gRPC server's Shutdown() (which waits for every callback
// RPC to be done) is called.
#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "server/watch_reactor.h"

namespace cyclr {

template <typename Msg>
class WatchStreams {
 public:
  using Reactor = WatchReactor<Msg>;

  // REQUIRES no stream is open any more (the server was shut down).
  ~WatchStreams() = default;

  // A new stream, tracked until its OnDone. After Shutdown() it is returned already ended with
  // UNAVAILABLE. `metrics` and `method` as in WatchReactor::Create.
  typename Reactor::Ptr Open(MetricsExporter* metrics, const char* method) {
    typename Reactor::Ptr r = Reactor::Create(metrics, method);
    int64_t id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) {
        id = -1;
      } else {
        id = next_id_++;
        open_.emplace(id, r);
      }
    }
    if (id < 0) {
      r->End(Unavailable());
      return r;
    }
    r->AddCleanup([this, id] {
      std::lock_guard<std::mutex> lock(mu_);
      open_.erase(id);
    });
    return r;
  }

  // Ends every open stream (and every later one) with UNAVAILABLE. Idempotent.
  void Shutdown() {
    std::vector<typename Reactor::Ptr> streams;
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
      for (const auto& [id, weak] : open_) {
        if (typename Reactor::Ptr r = weak.lock()) streams.push_back(std::move(r));
      }
    }
    for (const auto& r : streams) r->End(Unavailable());
  }

  size_t open() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_.size();
  }

 private:
  static grpc::Status Unavailable() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator shutting down");
  }

  mutable std::mutex mu_;
  std::map<int64_t, std::weak_ptr<Reactor>> open_;  // GUARDED_BY(mu_)
  int64_t next_id_ = 0;                             // GUARDED_BY(mu_)
  bool shutdown_ = false;                           // GUARDED_BY(mu_)
};

}  // namespace cyclr
