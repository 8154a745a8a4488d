// WatchFleet: N clients each holding a WatchTimeline stream open on one job (as every worker's
// TimelineWatcher and every dashboard does), recording when each revision first reached each
// watcher. The load generator times how long a new revision takes to reach all of them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cyclr/v1/service.grpc.pb.h"

namespace cyclr::bench {

class WatchFleet {
 public:
  using Clock = std::chrono::steady_clock;

  // Watcher i watches jobs[i % jobs.size()] through stubs[i % stubs.size()]; the stubs must
  // outlive the fleet.
  // `token`: sent by every watcher ("" = none).
  WatchFleet(std::vector<v1::ScheduleService::Stub*> stubs, std::vector<std::string> jobs,
             int watchers, const std::string& token = "");
  ~WatchFleet();  // Stop()s
  WatchFleet(const WatchFleet&) = delete;
  WatchFleet& operator=(const WatchFleet&) = delete;

  void Start();
  // Cancels every stream and joins the threads.
  void Stop();

  // Waits until every watcher of `job` has seen revision `version`; returns each one's arrival
  // time, or an empty vector on timeout.
  std::vector<Clock::time_point> WaitForVersion(const std::string& job, int64_t version,
                                                std::chrono::milliseconds timeout);
  // Streams that ended with an error other than CANCELLED (by Stop()).
  int failed_streams() const;
  int64_t messages() const;

 private:
  struct Watcher {
    std::string job;
    v1::ScheduleService::Stub* stub = nullptr;
    grpc::ClientContext ctx;
    std::map<int64_t, Clock::time_point> first_seen;  // GUARDED_BY(mu_): version -> arrival
    bool failed = false;                               // GUARDED_BY(mu_)
  };
  void Run(Watcher* w);

  std::vector<std::unique_ptr<Watcher>> watchers_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t messages_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace cyclr::bench
