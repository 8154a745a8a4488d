// ScheduleService: cyclr.v1.ScheduleService over gRPC; converts and delegates to the
// ScheduleManager. Every request passes CheckRequest (request_limits.h) first: INVALID_ARGUMENT
// naming the field.
//
// WatchTimeline runs on gRPC's callback API (the other methods stay sync): an open stream holds
// no thread. Each stream subscribes to its job in the ScheduleManager; the manager's feed thread
// offers every watcher of the job the same snapshot, converted to proto once per generation
// (GenerationCache) and shared by all of them (WatchReactor keeps one write in flight and then
// sends only the newest state).
#pragma once

#include <memory>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/authenticator.h"
#include "server/generation_cache.h"
#include "server/metrics_exporter.h"
#include "server/schedule_manager.h"
#include "server/watch_streams.h"

namespace cyclr {

class ScheduleService final
    : public v1::ScheduleService::WithCallbackMethod_WatchTimeline<v1::ScheduleService::Service> {
 public:
  // `schedules` and `auth` must outlive this; `metrics` may be null. Reads need a viewer or the
  // job's worker credential; UpdateSchedule an operator (its name is the author) or the job's
  // worker credential (a rollback's revision).
  ScheduleService(ScheduleManager* schedules, Authenticator* auth, MetricsExporter* metrics);

  grpc::Status GetTimeline(grpc::ServerContext* ctx, const v1::GetTimelineRequest* req,
                           v1::Timeline* resp) override;
  // The whole timeline first, then again after changes (the newest one when several came during
  // a write); ends OK when the job ends, NOT_FOUND for an unknown job, CANCELLED when the client
  // cancels, UNAVAILABLE on Shutdown().
  grpc::ServerWriteReactor<v1::Timeline>* WatchTimeline(grpc::CallbackServerContext* ctx,
                                                        const v1::GetTimelineRequest* req) override;
  // Replies once the revision is durable.
  grpc::Status UpdateSchedule(grpc::ServerContext* ctx, const v1::UpdateScheduleRequest* req,
                              v1::Revision* resp) override;
  grpc::Status PreviewSchedule(grpc::ServerContext* ctx, const v1::PreviewScheduleRequest* req,
                               v1::PreviewScheduleResponse* resp) override;

  // Ends every watch stream with UNAVAILABLE, now and from now on. Call before the server's
  // Shutdown(), which waits for the streams to be done.
  void Shutdown() { watches_.Shutdown(); }
  size_t open_watches() const { return watches_.open(); }
  // Timelines converted to proto for watchers so far (once per job and generation).
  int64_t watch_conversions() const { return protos_->builds(); }

 private:
  ScheduleManager* schedules_;
  Authenticator* auth_;
  MetricsExporter* metrics_;
  WatchStreams<v1::Timeline> watches_;
  // Shared with the manager's listeners, which may outlive a stream by one delivery.
  std::shared_ptr<GenerationCache<v1::Timeline>> protos_ =
      std::make_shared<GenerationCache<v1::Timeline>>();
};

}  // namespace cyclr
