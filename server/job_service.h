// JobService: cyclr.v1.JobService over gRPC; converts and delegates to the JobManager. Every
// request passes CheckRequest (request_limits.h) first: INVALID_ARGUMENT naming the field.
//
// WatchJob runs on gRPC's callback API (the other methods stay sync): an open stream holds no
// thread. Each stream subscribes to its job in the JobManager, whose feed thread hands every
// watcher of the job the same v1::Job, built once per generation (see WatchReactor).
#pragma once

#include <cstddef>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/authenticator.h"
#include "server/job_manager.h"
#include "server/metrics_exporter.h"
#include "server/watch_streams.h"

namespace cyclr {

class JobService final
    : public v1::JobService::WithCallbackMethod_WatchJob<v1::JobService::Service> {
 public:
  // `jobs` and `auth` must outlive this; `metrics` may be null. Reads need a viewer, LaunchJob,
  // StopJob and DeleteJob an operator (authenticator.h).
  JobService(JobManager* jobs, Authenticator* auth, MetricsExporter* metrics);

  grpc::Status LaunchJob(grpc::ServerContext* ctx, const v1::LaunchJobRequest* req,
                         v1::Job* resp) override;
  grpc::Status GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                      v1::Job* resp) override;
  grpc::Status ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                        v1::ListJobsResponse* resp) override;
  grpc::Status StopJob(grpc::ServerContext* ctx, const v1::StopJobRequest* req,
                       v1::Job* resp) override;
  grpc::Status DeleteJob(grpc::ServerContext* ctx, const v1::DeleteJobRequest* req,
                         v1::DeleteJobResponse* resp) override;
  // The loss curve of an LR range test (JobManager::LossCurve).
  grpc::Status GetLossCurve(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                            v1::LossCurve* resp) override;
  // A piece of a rank's log (JobManager::ReadWorkerLog); viewers may read it.
  grpc::Status GetWorkerLog(grpc::ServerContext* ctx, const v1::GetWorkerLogRequest* req,
                            v1::WorkerLog* resp) override;
  // Sends the job, then the job again after changes (the newest one when several came during a
  // write); ends OK after a terminal state, NOT_FOUND for an unknown job, CANCELLED when the
  // client cancels, UNAVAILABLE on Shutdown().
  grpc::ServerWriteReactor<v1::Job>* WatchJob(grpc::CallbackServerContext* ctx,
                                              const v1::GetJobRequest* req) override;

  // Ends every watch stream with UNAVAILABLE, now and from now on. Call before the server's
  // Shutdown(), which waits for the streams to be done.
  void Shutdown() { watches_.Shutdown(); }
  size_t open_watches() const { return watches_.open(); }

 private:
  JobManager* jobs_;
  Authenticator* auth_;
  MetricsExporter* metrics_;
  WatchStreams<v1::Job> watches_;
};

}  // namespace cyclr
