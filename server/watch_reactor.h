// WatchReactor<Msg>: one server-streaming watch RPC (WatchTimeline, WatchJob) on gRPC's callback
// API. It holds no thread while idle: the manager's feed offers it each new state, and it keeps
// at most one write in flight; states offered meanwhile replace each other, so once the write
// completes only the newest is sent (watchers want the latest state, not every step between).
//
// Life cycle: Create() it, return get() from the service method, then Offer() states (the first
// is the current state) and/or End() it. The stream finishes with OK after the write of the
// state offered with `last`, with the status given to End() (pending states are dropped; an
// in-flight write completes first), or with CANCELLED when the client cancels or a write fails.
// Cleanups added with AddCleanup() (unsubscribing from the manager, leaving WatchStreams) run in
// OnDone, or at once when it already ran. The object is owned by a shared_ptr: gRPC's reference
// is dropped in OnDone, so a listener holding a weak_ptr can never reach a freed reactor, and a
// late Offer/End after the finish is ignored.
//
// Locking: mu_ guards the state machine and is never held while calling into gRPC (StartWrite,
// Finish may run reactions inline), into cleanups or into the metrics. Thread-safe.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "server/metrics_exporter.h"
#include "server/rpc_observer.h"

namespace cyclr {

template <typename Msg>
class WatchReactor final : public grpc::ServerWriteReactor<Msg> {
 public:
  using Ptr = std::shared_ptr<WatchReactor>;

  // `metrics` may be null; it and `method` (a literal) must outlive the RPC. The RPC is counted
  // in the metrics with its final status and duration (RecordRpc, as Observe() for unary RPCs).
  static Ptr Create(MetricsExporter* metrics, const char* method) {
    Ptr r(new WatchReactor(metrics, method));
    r->self_ = r;
    return r;
  }

  // Offers the state of `generation`; ignored unless newer than every state offered before.
  // `last`: the watched thing ended; the stream finishes OK once this state is written.
  void Offer(int64_t generation, std::shared_ptr<const Msg> msg, bool last) {
    std::unique_lock<std::mutex> lock(mu_);
    if (end_ || generation <= offered_) return;
    offered_ = generation;
    next_ = std::move(msg);
    if (last) end_ = grpc::Status::OK;
    Pump(std::move(lock));
  }

  // Finishes the stream with `status` (first End/last Offer wins); drops states not yet written.
  void End(grpc::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    if (end_) return;
    end_ = std::move(status);
    next_.reset();
    Pump(std::move(lock));
  }

  void AddCleanup(std::function<void()> cleanup) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!done_) {
        cleanups_.push_back(std::move(cleanup));
        return;
      }
    }
    cleanup();
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    in_flight_.reset();
    if (!ok && !end_) {
      end_ = grpc::Status::CANCELLED;
      next_.reset();
    }
    Pump(std::move(lock));
  }

  void OnCancel() override { End(grpc::Status::CANCELLED); }

  void OnDone() override {
    Ptr keep;  // releases gRPC's reference on return; the object may be freed then
    std::vector<std::function<void()>> cleanups;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      cleanups.swap(cleanups_);
      keep = std::move(self_);
    }
    for (auto& cleanup : cleanups) cleanup();
  }

 private:
  WatchReactor(MetricsExporter* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}

  // Starts the next write, or the finish once nothing is left to write. Takes the held lock and
  // releases it before calling gRPC.
  void Pump(std::unique_lock<std::mutex> lock) {
    if (writing_ || finished_) return;
    if (next_) {
      writing_ = true;
      in_flight_ = std::move(next_);
      const Msg* msg = in_flight_.get();
      lock.unlock();
      this->StartWrite(msg);
      return;
    }
    if (!end_) return;
    finished_ = true;
    grpc::Status status = *end_;
    lock.unlock();
    RecordRpc(metrics_, method_, status, start_);
    this->Finish(status);
  }

  MetricsExporter* const metrics_;
  const char* const method_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  Ptr self_;                                     // gRPC's reference until OnDone; GUARDED_BY(mu_)
  int64_t offered_ = -1;                         // newest generation offered; GUARDED_BY(mu_)
  std::shared_ptr<const Msg> next_;              // newest state not yet written; GUARDED_BY(mu_)
  std::shared_ptr<const Msg> in_flight_;         // kept alive until OnWriteDone; GUARDED_BY(mu_)
  std::optional<grpc::Status> end_;              // how the stream will finish; GUARDED_BY(mu_)
  bool writing_ = false;                         // GUARDED_BY(mu_)
  bool finished_ = false;                        // Finish called; GUARDED_BY(mu_)
  bool done_ = false;                            // OnDone ran; GUARDED_BY(mu_)
  std::vector<std::function<void()>> cleanups_;  // GUARDED_BY(mu_)
};

}  // namespace cyclr
