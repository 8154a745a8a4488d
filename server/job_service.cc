#include "server/job_service.h"

#include "server/request_limits.h"
#include "server/rpc_observer.h"

namespace cyclr {

JobService::JobService(JobManager* jobs, Authenticator* auth, MetricsExporter* metrics)
    : jobs_(jobs), auth_(auth), metrics_(metrics) {}

grpc::Status JobService::LaunchJob(grpc::ServerContext* ctx, const v1::LaunchJobRequest* req,
                                   v1::Job* resp) {
  return Observe(metrics_, "LaunchJob", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kOperator);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    const bool external = req->spec().launcher() == "external";
    if (!req->worker_token().empty()) {
      if (!external) {
        return ToGrpc(
            Status::InvalidArgument("worker_token is for launcher external (local workers get "
                                    "theirs from the coordinator)"));
      }
      if (Status bad = CheckWorkerSecret(req->worker_token()); !bad.ok()) return ToGrpc(bad);
    }
    StatusOr<v1::Job> job = jobs_->Launch(req->spec());
    if (!job.ok()) return ToGrpc(job.status());
    *resp = std::move(*job);
    if (external) {
      // The caller starts the workers: they need the job's credential (never shown again).
      StatusOr<std::string> token = req->worker_token();
      if (req->worker_token().empty()) {
        token = auth_->MintWorkerToken(resp->name());
      } else if (Status set = auth_->SetWorkerToken(resp->name(), req->worker_token()); !set.ok()) {
        token = set;
      }
      if (!token.ok()) return ToGrpc(token.status().WithContext("worker credential"));
      if (auth_->enabled()) resp->set_worker_token(*token);
    }
    return grpc::Status::OK;
  });
}

grpc::Status JobService::GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                                v1::Job* resp) {
  return Observe(metrics_, "GetJob", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kViewer);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<v1::Job> job = jobs_->Get(req->name());
    if (!job.ok()) return ToGrpc(job.status());
    *resp = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::GetLossCurve(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                                      v1::LossCurve* resp) {
  return Observe(metrics_, "GetLossCurve", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kViewer);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<v1::LossCurve> curve = jobs_->LossCurve(req->name());
    if (!curve.ok()) return ToGrpc(curve.status());
    *resp = std::move(*curve);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::GetWorkerLog(grpc::ServerContext* ctx, const v1::GetWorkerLogRequest* req,
                                      v1::WorkerLog* resp) {
  return Observe(metrics_, "GetWorkerLog", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kViewer);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    const int max = req->max_bytes() == 0 ? kDefaultLogReadBytes : req->max_bytes();
    StatusOr<LogChunk> chunk = jobs_->ReadWorkerLog(req->job(), req->rank(), req->offset(), max);
    if (!chunk.ok()) return ToGrpc(chunk.status());
    resp->set_data(std::move(chunk->data));
    resp->set_offset(chunk->offset);
    resp->set_next_offset(chunk->offset + static_cast<int64_t>(resp->data().size()));
    resp->set_size(chunk->size);
    resp->set_source(chunk->source);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                                  v1::ListJobsResponse* resp) {
  return Observe(metrics_, "ListJobs", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kViewer);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<v1::ListJobsResponse> page = jobs_->ListPage(req->page_size(), req->page_token());
    if (!page.ok()) return ToGrpc(page.status());
    *resp = std::move(*page);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::StopJob(grpc::ServerContext* ctx, const v1::StopJobRequest* req,
                                 v1::Job* resp) {
  return Observe(metrics_, "StopJob", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kOperator);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    StatusOr<v1::Job> job = jobs_->Stop(req->name(), req->reason());
    if (!job.ok()) return ToGrpc(job.status());
    *resp = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::DeleteJob(grpc::ServerContext* ctx, const v1::DeleteJobRequest* req,
                                   v1::DeleteJobResponse*) {
  return Observe(metrics_, "DeleteJob", [&] {
    StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kOperator);
    if (!who.ok()) return ToGrpc(who.status());
    if (Status bad = CheckRequest(*req); !bad.ok()) return ToGrpc(bad);
    return ToGrpc(jobs_->Delete(req->name()));
  });
}

grpc::ServerWriteReactor<v1::Job>* JobService::WatchJob(grpc::CallbackServerContext* ctx,
                                                        const v1::GetJobRequest* req) {
  WatchReactor<v1::Job>::Ptr reactor = watches_.Open(metrics_, "WatchJob");
  if (StatusOr<Identity> who = auth_->RequireUser(*ctx, Role::kViewer); !who.ok()) {
    reactor->End(ToGrpc(who.status()));
    return reactor.get();
  }
  if (Status bad = CheckRequest(*req); !bad.ok()) {
    reactor->End(ToGrpc(bad));
    return reactor.get();
  }
  // Runs on the manager's feed thread (and once here); holds the stream by weak pointer, as
  // ChangeFeed's contract asks. The message aliases the shared snapshot: no copy per watcher.
  auto offer = [weak = std::weak_ptr<WatchReactor<v1::Job>>(reactor)](
                   const std::shared_ptr<const JobSnapshot>& snap) {
    WatchReactor<v1::Job>::Ptr r = weak.lock();
    if (!r) return;
    r->Offer(snap->generation, std::shared_ptr<const v1::Job>(snap, &snap->job),
             JobManager::IsTerminal(snap->job.state()));
  };
  StatusOr<JobManager::Subscription> sub = jobs_->Subscribe(req->name(), offer);
  if (!sub.ok()) {
    reactor->End(ToGrpc(sub.status()));
    return reactor.get();
  }
  reactor->AddCleanup(
      [jobs = jobs_, name = req->name(), id = sub->id] { jobs->Unsubscribe(name, id); });
  offer(sub->current);
  return reactor.get();
}

}  // namespace cyclr
