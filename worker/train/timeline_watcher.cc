#include "worker/train/timeline_watcher.h"

#include <algorithm>
#include <cstdio>

#include "proto/proto_convert.h"

namespace cyclr {

TimelineWatcher::TimelineWatcher(std::shared_ptr<grpc::Channel> channel, std::string job,
                                 ScheduleAgreement* agreement,
                                 std::chrono::milliseconds max_backoff)
    : stub_(v1::ScheduleService::NewStub(channel)),
      job_(std::move(job)),
      agreement_(agreement),
      max_backoff_(max_backoff) {}

TimelineWatcher::~TimelineWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    if (active_) active_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TimelineWatcher::Start() { thread_ = std::thread([this] { Run(); }); }

bool TimelineWatcher::WatchOnce() {
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return false;
    active_ = &ctx;
  }
  v1::GetTimelineRequest req;
  req.set_job(job_);
  auto reader = stub_->WatchTimeline(&ctx, req);
  v1::Timeline msg;
  bool got = false;
  while (reader->Read(&msg)) {
    got = true;
    StatusOr<Timeline> timeline = FromProto(msg);
    Status st = timeline.ok() ? agreement_->Offer(*timeline) : timeline.status();
    if (!st.ok()) std::fprintf(stderr, "cyclr-worker: ignoring timeline: %s\n", st.ToString().c_str());
  }
  reader->Finish();
  std::lock_guard<std::mutex> lock(mu_);
  active_ = nullptr;
  return got;
}

void TimelineWatcher::Run() {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    bool got = WatchOnce();
    backoff = got ? std::chrono::milliseconds(100) : std::min(max_backoff_, backoff * 2);
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, backoff, [this] { return shutdown_; })) return;
  }
}

}  // namespace cyclr
