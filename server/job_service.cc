#include "server/job_service.h"

#include "server/rpc_observer.h"

namespace cyclr {

JobService::JobService(JobManager* jobs, MetricsExporter* metrics,
                       std::chrono::milliseconds watch_poll)
    : jobs_(jobs), metrics_(metrics), watch_poll_(watch_poll) {}

grpc::Status JobService::LaunchJob(grpc::ServerContext*, const v1::LaunchJobRequest* req,
                                   v1::Job* resp) {
  return Observe(metrics_, "LaunchJob", [&] {
    StatusOr<v1::Job> job = jobs_->Launch(req->spec());
    if (!job.ok()) return ToGrpc(job.status());
    *resp = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::GetJob(grpc::ServerContext*, const v1::GetJobRequest* req,
                                v1::Job* resp) {
  return Observe(metrics_, "GetJob", [&] {
    StatusOr<v1::Job> job = jobs_->Get(req->name());
    if (!job.ok()) return ToGrpc(job.status());
    *resp = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*,
                                  v1::ListJobsResponse* resp) {
  return Observe(metrics_, "ListJobs", [&] {
    for (v1::Job& job : jobs_->List()) *resp->add_jobs() = std::move(job);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::StopJob(grpc::ServerContext*, const v1::StopJobRequest* req,
                                 v1::Job* resp) {
  return Observe(metrics_, "StopJob", [&] {
    StatusOr<v1::Job> job = jobs_->Stop(req->name(), req->reason());
    if (!job.ok()) return ToGrpc(job.status());
    *resp = std::move(*job);
    return grpc::Status::OK;
  });
}

grpc::Status JobService::WatchJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                                  grpc::ServerWriter<v1::Job>* writer) {
  return Observe(metrics_, "WatchJob", [&] {
    StatusOr<JobSnapshot> snap = jobs_->Snapshot(req->name());
    if (!snap.ok()) return ToGrpc(snap.status());
    int64_t sent = snap->generation;
    if (!writer->Write(snap->job)) return grpc::Status::CANCELLED;
    while (!JobManager::IsTerminal(snap->job.state())) {
      if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
      if (shutdown_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator shutting down");
      snap = jobs_->WaitForChange(req->name(), sent, watch_poll_);
      if (!snap.ok()) return ToGrpc(snap.status());
      if (snap->generation == sent) continue;
      sent = snap->generation;
      if (!writer->Write(snap->job)) return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  });
}

}  // namespace cyclr
