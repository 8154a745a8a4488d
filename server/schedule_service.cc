#include "server/schedule_service.h"

#include "server/request_limits.h"
#include "server/rpc_observer.h"

namespace cyclr {
namespace {

StatusOr<ScheduleUpdate> FromRequest(const v1::UpdateScheduleRequest& req) {
  ScheduleUpdate u;
  u.job = req.job();
  if (req.has_revert_to()) {
    u.revert_to = req.revert_to();
  } else if (req.has_spec()) {
    StatusOr<ScheduleSpec> spec = FromProto(req.spec());
    if (!spec.ok()) return spec.status().WithContext("spec");
    u.spec = std::move(*spec);
  }
  if (req.has_effective_step()) u.effective_step = req.effective_step();
  CYCLR_ASSIGN_OR_RETURN(u.phase, FromProto(req.phase()));
  u.author = req.author();
  u.reason = req.reason();
  return u;
}

}  // namespace

ScheduleService::ScheduleService(ScheduleManager* schedules, Authenticator* auth,
                                 MetricsExporter* metrics)
    : schedules_(schedules), auth_(auth), metrics_(metrics) {}

grpc::Status ScheduleService::GetTimeline(grpc::ServerContext* ctx,
                                          const v1::GetTimelineRequest* req,
                                          v1::Timeline* resp) {
  return Observe(metrics_, "GetTimeline", [&] {
    StatusOr<Identity> who = auth_->RequireReader(*ctx, req->job());
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<TimelineSnapshot> snap = schedules_->Snapshot(req->job());
    if (!snap.ok()) return ToGrpc(snap.status());
    *resp = ToProto(snap->timeline);
    return grpc::Status::OK;
  });
}

grpc::ServerWriteReactor<v1::Timeline>* ScheduleService::WatchTimeline(
    grpc::CallbackServerContext* ctx, const v1::GetTimelineRequest* req) {
  WatchReactor<v1::Timeline>::Ptr reactor = watches_.Open(metrics_, "WatchTimeline");
  if (StatusOr<Identity> who = auth_->RequireReader(*ctx, req->job()); !who.ok()) {
    reactor->End(ToGrpc(who.status()));
    return reactor.get();
  }
  if (Status bad = CheckRequest(*req); !bad.ok()) {
    reactor->End(ToGrpc(bad));
    return reactor.get();
  }
  // Runs on the manager's feed thread (and once here); holds the stream and the cache only by
  // weak/shared pointer, as ChangeFeed's contract asks.
  auto offer = [weak = std::weak_ptr<WatchReactor<v1::Timeline>>(reactor), protos = protos_,
                job = req->job()](const std::shared_ptr<const TimelineSnapshot>& snap) {
    WatchReactor<v1::Timeline>::Ptr r = weak.lock();
    if (!r) return;
    r->Offer(snap->generation,
             protos->Get(job, snap->generation, [&] { return ToProto(snap->timeline); }),
             snap->ended);
  };
  StatusOr<ScheduleManager::Subscription> sub = schedules_->Subscribe(req->job(), offer);
  if (!sub.ok()) {
    reactor->End(ToGrpc(sub.status()));
    return reactor.get();
  }
  reactor->AddCleanup([schedules = schedules_, job = req->job(), id = sub->id] {
    schedules->Unsubscribe(job, id);
  });
  offer(sub->current);
  return reactor.get();
}

grpc::Status ScheduleService::UpdateSchedule(grpc::ServerContext* ctx,
                                             const v1::UpdateScheduleRequest* req,
                                             v1::Revision* resp) {
  return Observe(metrics_, "UpdateSchedule", [&] {
    StatusOr<Identity> who = auth_->Identify(*ctx);
    if (!who.ok()) return ToGrpc(who.status());
    // A worker may append a rollback's revision to its own job only; people need operator.
    Status allowed = who->role == Role::kWorker ? auth_->CheckWorker(*who, req->job())
                                                : auth_->CheckUser(*who, Role::kOperator);
    if (!allowed.ok()) return ToGrpc(allowed);
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<ScheduleUpdate> update = FromRequest(*req);
    if (!update.ok()) return ToGrpc(update.status());
    // The author is the caller: a request may repeat its own name, never claim another's.
    if (auth_->enabled() && !req->author().empty() && req->author() != who->name) {
      return ToGrpc(Status::PermissionDenied("author (\"" + req->author().substr(0, 80) +
                                             "\") must be the caller, " + who->name +
                                             " (or empty)"));
    }
    if (auth_->enabled() || update->author.empty()) update->author = who->name;
    StatusOr<Revision> rev = schedules_->Update(*update);
    if (!rev.ok()) return ToGrpc(rev.status());
    if (metrics_) metrics_->CountRevision(req->job());
    *resp = ToProto(*rev);
    return grpc::Status::OK;
  });
}

grpc::Status ScheduleService::PreviewSchedule(grpc::ServerContext* ctx,
                                              const v1::PreviewScheduleRequest* req,
                                              v1::PreviewScheduleResponse* resp) {
  return Observe(metrics_, "PreviewSchedule", [&] {
    StatusOr<Identity> who = auth_->RequireReader(*ctx, req->job());
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<std::vector<TimelinePoint>> points = Status::InvalidArgument("");
    if (!req->job().empty()) {
      points = schedules_->PreviewJob(req->job(), req->start_step(), req->steps());
    } else {
      StatusOr<ScheduleSpec> spec = FromProto(req->spec());
      if (!spec.ok()) return ToGrpc(spec.status().WithContext("spec"));
      points = ScheduleManager::PreviewSpec(*spec, req->start_step(), req->steps());
    }
    if (!points.ok()) return ToGrpc(points.status());
    for (size_t i = 0; i < points->size(); ++i) {
      *resp->add_points() = ToProto((*points)[i], req->start_step() + static_cast<int64_t>(i));
    }
    return grpc::Status::OK;
  });
}

}  // namespace cyclr
