// TimelineWatcher: keeps a rank's held schedule revisions up to date from the coordinator's
// WatchTimeline stream, on its own thread. Reconnects with exponential backoff while the
// coordinator is down or restarting; the training thread never waits for it (it reads what the
// ScheduleAgreement holds).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cyclr/v1/service.grpc.pb.h"
#include "worker/train/schedule_agreement.h"

namespace cyclr {

class TimelineWatcher {
 public:
  // `agreement` must outlive the watcher.
  TimelineWatcher(std::shared_ptr<grpc::Channel> channel, std::string job,
                  ScheduleAgreement* agreement,
                  std::chrono::milliseconds max_backoff = std::chrono::milliseconds(1000));
  ~TimelineWatcher();  // Cancels the stream and joins.

  void Start();

 private:
  void Run();
  // One stream until it ends or fails; returns whether any message arrived.
  bool WatchOnce();

  std::unique_ptr<v1::ScheduleService::Stub> stub_;
  const std::string job_;
  ScheduleAgreement* agreement_;
  const std::chrono::milliseconds max_backoff_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;                 // GUARDED_BY(mu_)
  grpc::ClientContext* active_ = nullptr;  // GUARDED_BY(mu_), to cancel the open stream
  std::thread thread_;
};

}  // namespace cyclr
