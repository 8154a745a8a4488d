#include "server/worker_service.h"

#include <algorithm>

#include "core/limits.h"
#include "server/request_limits.h"
#include "server/rpc_observer.h"

namespace cyclr {

WorkerService::WorkerService(JobManager* jobs, ScheduleManager* schedules,
                             WorkerRegistry* registry, Authenticator* auth,
                             MetricsExporter* metrics,
                             std::chrono::milliseconds default_store_timeout)
    : jobs_(jobs),
      schedules_(schedules),
      registry_(registry),
      auth_(auth),
      metrics_(metrics),
      default_store_timeout_(default_store_timeout) {}

grpc::Status WorkerService::Register(grpc::ServerContext* ctx, const v1::RegisterRequest* req,
                                     v1::RegisterResponse* resp) {
  return Observe(metrics_, "Register", [&] {
    StatusOr<Identity> who = auth_->RequireWorker(*ctx, req->job());
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<Registration> reg =
        registry_->Register(req->job(), req->rank(), req->world_size(), req->host(), req->pid());
    if (!reg.ok()) return ToGrpc(reg.status());
    if (reg->restart && metrics_) metrics_->CountWorkerRestart(req->job());
    Status running = jobs_->OnRegister(req->job(), reg->rank, req->pid(), reg->restart);
    if (!running.ok()) return ToGrpc(running);
    StatusOr<TimelineSnapshot> snap = schedules_->Snapshot(req->job());
    if (!snap.ok()) return ToGrpc(snap.status());
    resp->set_rank(reg->rank);
    resp->set_world_size(reg->world_size);
    *resp->mutable_spec() = reg->spec;
    *resp->mutable_timeline() = ToProto(snap->timeline);
    resp->set_store_prefix(reg->store_prefix);
    return grpc::Status::OK;
  });
}

grpc::Status WorkerService::StoreSet(grpc::ServerContext* ctx, const v1::StoreSetRequest* req,
                                     v1::StoreSetResponse*) {
  return Observe(metrics_, "StoreSet", [&] {
    StatusOr<Identity> who = auth_->RequireWorker(*ctx, req->job());
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    return ToGrpc(registry_->StoreSet(req->job(), req->key(), req->value()));
  });
}

grpc::Status WorkerService::StoreGet(grpc::ServerContext* ctx, const v1::StoreGetRequest* req,
                                     v1::StoreGetResponse* resp) {
  return Observe(metrics_, "StoreGet", [&] {
    StatusOr<Identity> who = auth_->RequireWorker(*ctx, req->job());
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    std::chrono::milliseconds timeout =
        req->timeout_ms() > 0 ? std::chrono::milliseconds(req->timeout_ms())
                              : default_store_timeout_;
    timeout = std::min(timeout, kMaxStoreTimeout);
    std::vector<std::string> keys(req->keys().begin(), req->keys().end());
    // The wait also ends when the client cancels or its deadline passes (gRPC then marks the
    // call cancelled): the registry polls this between its wait slices.
    auto cancelled = [ctx] { return ctx != nullptr && ctx->IsCancelled(); };
    StatusOr<std::vector<std::string>> values =
        registry_->StoreGet(req->job(), keys, timeout, cancelled);
    if (!values.ok()) return ToGrpc(values.status());
    for (std::string& v : *values) resp->add_values(std::move(v));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* WorkerService::ReportProgress(grpc::CallbackServerContext* ctx,
                                                        const v1::ReportProgressRequest* req,
                                                        v1::ReportProgressResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Observe(metrics_, "ReportProgress", [&] {
    StatusOr<Identity> who = auth_->RequireWorker(*ctx, req->job());
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<bool> stop = jobs_->Report(*req);
    if (!stop.ok()) return ToGrpc(stop.status());
    registry_->Heartbeat(req->job(), req->rank());
    if (metrics_) {
      for (const auto& s : req->steps()) {
        metrics_->ObserveStep(req->job(), s.step_seconds(), s.allreduce_seconds());
      }
    }
    resp->set_stop(*stop);
    return grpc::Status::OK;
  }));
  return reactor;
}

}  // namespace cyclr
