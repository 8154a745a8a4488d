// JobService: cyclr.v1.JobService over gRPC; converts and delegates to the JobManager.
#pragma once

#include <atomic>
#include <chrono>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/job_manager.h"
#include "server/metrics_exporter.h"

namespace cyclr {

class JobService final : public v1::JobService::Service {
 public:
  // `jobs` must outlive this; `metrics` may be null. Watch streams re-check cancellation and
  // shutdown every `watch_poll`.
  JobService(JobManager* jobs, MetricsExporter* metrics, std::chrono::milliseconds watch_poll);

  grpc::Status LaunchJob(grpc::ServerContext* ctx, const v1::LaunchJobRequest* req,
                         v1::Job* resp) override;
  grpc::Status GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                      v1::Job* resp) override;
  grpc::Status ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                        v1::ListJobsResponse* resp) override;
  grpc::Status StopJob(grpc::ServerContext* ctx, const v1::StopJobRequest* req,
                       v1::Job* resp) override;
  // Sends the job, then the job again on every change; ends after a terminal state, on client
  // cancellation or on Shutdown().
  grpc::Status WatchJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                        grpc::ServerWriter<v1::Job>* writer) override;

  void Shutdown() { shutdown_ = true; }

 private:
  JobManager* jobs_;
  MetricsExporter* metrics_;
  std::chrono::milliseconds watch_poll_;
  std::atomic<bool> shutdown_{false};
};

}  // namespace cyclr
