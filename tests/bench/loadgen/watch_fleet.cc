#include "tests/bench/loadgen/watch_fleet.h"

namespace cyclr::bench {

WatchFleet::WatchFleet(std::vector<v1::ScheduleService::Stub*> stubs,
                       std::vector<std::string> jobs, int watchers, const std::string& token) {
  for (int i = 0; i < watchers; ++i) {
    auto w = std::make_unique<Watcher>();
    if (!token.empty()) w->ctx.AddMetadata("authorization", "Bearer " + token);
    w->job = jobs[static_cast<size_t>(i) % jobs.size()];
    w->stub = stubs[static_cast<size_t>(i) % stubs.size()];
    watchers_.push_back(std::move(w));
  }
}

WatchFleet::~WatchFleet() { Stop(); }

void WatchFleet::Start() {
  for (auto& w : watchers_) threads_.emplace_back([this, p = w.get()] { Run(p); });
}

void WatchFleet::Stop() {
  for (auto& w : watchers_) w->ctx.TryCancel();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void WatchFleet::Run(Watcher* w) {
  v1::GetTimelineRequest req;
  req.set_job(w->job);
  auto reader = w->stub->WatchTimeline(&w->ctx, req);
  v1::Timeline timeline;
  while (reader->Read(&timeline)) {
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    ++messages_;
    for (const auto& rev : timeline.revisions()) w->first_seen.emplace(rev.version(), now);
    cv_.notify_all();
  }
  grpc::Status st = reader->Finish();
  std::lock_guard<std::mutex> lock(mu_);
  if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) w->failed = true;
  cv_.notify_all();
}

std::vector<WatchFleet::Clock::time_point> WatchFleet::WaitForVersion(
    const std::string& job, int64_t version, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_seen = [&] {
    for (const auto& w : watchers_) {
      if (w->job == job && !w->first_seen.count(version)) return false;
    }
    return true;
  };
  if (!cv_.wait_for(lock, timeout, all_seen)) return {};
  std::vector<Clock::time_point> arrivals;
  for (const auto& w : watchers_) {
    if (w->job == job) arrivals.push_back(w->first_seen.at(version));
  }
  return arrivals;
}

int WatchFleet::failed_streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& w : watchers_) n += w->failed ? 1 : 0;
  return n;
}

int64_t WatchFleet::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

}  // namespace cyclr::bench
