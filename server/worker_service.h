// WorkerService: cyclr.v1.WorkerService over gRPC, the workers' side of the coordinator.
// Register -> WorkerRegistry (+ JobManager::OnRegister, the timeline from the ScheduleManager);
// StoreSet/StoreGet -> the registry's rendezvous store; ReportProgress -> JobManager::Report
// (progress, applied revisions, finish/error) and a heartbeat.
#pragma once

#include <chrono>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/job_manager.h"
#include "server/metrics_exporter.h"
#include "server/schedule_manager.h"
#include "server/worker_registry.h"

namespace cyclr {

class WorkerService final : public v1::WorkerService::Service {
 public:
  // The managers must outlive this; `metrics` may be null. StoreGet with timeout_ms <= 0 waits
  // `default_store_timeout`; no wait is longer than kMaxStoreTimeout.
  WorkerService(JobManager* jobs, ScheduleManager* schedules, WorkerRegistry* registry,
                MetricsExporter* metrics, std::chrono::milliseconds default_store_timeout);

  static constexpr std::chrono::milliseconds kMaxStoreTimeout{600000};

  grpc::Status Register(grpc::ServerContext* ctx, const v1::RegisterRequest* req,
                        v1::RegisterResponse* resp) override;
  grpc::Status StoreSet(grpc::ServerContext* ctx, const v1::StoreSetRequest* req,
                        v1::StoreSetResponse* resp) override;
  grpc::Status StoreGet(grpc::ServerContext* ctx, const v1::StoreGetRequest* req,
                        v1::StoreGetResponse* resp) override;
  grpc::Status ReportProgress(grpc::ServerContext* ctx, const v1::ReportProgressRequest* req,
                              v1::ReportProgressResponse* resp) override;

 private:
  JobManager* jobs_;
  ScheduleManager* schedules_;
  WorkerRegistry* registry_;
  MetricsExporter* metrics_;
  std::chrono::milliseconds default_store_timeout_;
};

}  // namespace cyclr
