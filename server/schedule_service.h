// ScheduleService: cyclr.v1.ScheduleService over gRPC; converts and delegates to the
// ScheduleManager.
#pragma once

#include <atomic>
#include <chrono>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/metrics_exporter.h"
#include "server/schedule_manager.h"

namespace cyclr {

class ScheduleService final : public v1::ScheduleService::Service {
 public:
  // `schedules` must outlive this; `metrics` may be null.
  ScheduleService(ScheduleManager* schedules, MetricsExporter* metrics,
                  std::chrono::milliseconds watch_poll);

  grpc::Status GetTimeline(grpc::ServerContext* ctx, const v1::GetTimelineRequest* req,
                           v1::Timeline* resp) override;
  // The whole timeline first, then again on every change; ends when the job ends, the client
  // cancels, or on Shutdown().
  grpc::Status WatchTimeline(grpc::ServerContext* ctx, const v1::GetTimelineRequest* req,
                             grpc::ServerWriter<v1::Timeline>* writer) override;
  // Replies once the revision is durable.
  grpc::Status UpdateSchedule(grpc::ServerContext* ctx, const v1::UpdateScheduleRequest* req,
                              v1::Revision* resp) override;
  grpc::Status PreviewSchedule(grpc::ServerContext* ctx, const v1::PreviewScheduleRequest* req,
                               v1::PreviewScheduleResponse* resp) override;

  void Shutdown() { shutdown_ = true; }

 private:
  ScheduleManager* schedules_;
  MetricsExporter* metrics_;
  std::chrono::milliseconds watch_poll_;
  std::atomic<bool> shutdown_{false};
};

}  // namespace cyclr
