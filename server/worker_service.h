// WorkerService: cyclr.v1.WorkerService over gRPC, the workers' side of the coordinator.
// Register -> WorkerRegistry (+ JobManager::OnRegister, the timeline from the ScheduleManager);
// StoreSet/StoreGet -> the registry's rendezvous store; ReportProgress -> JobManager::Report
// (progress, applied revisions, finish/error) and a heartbeat.
//
// Threads: ReportProgress, the one RPC every worker sends every few steps, runs on gRPC's
// callback API (a short handler: JobManager::Report holds the manager's lock briefly and writes
// SQLite at most once per persist_interval), so many workers do not grow the sync server's
// thread pool. The sync pool is NOT capped with grpc::ResourceQuota::SetMaxThreads: gRPC's sync
// server (1.51 included) does not queue requests when the thread quota is used up, it fails them
// with RESOURCE_EXHAUSTED "Server Threadpool Exhausted" (grpc/grpc#16356), and it does so even
// below the limit (grpc/grpc#32680); StoreGet blocks by design (rendezvous) and must not be
// refused. What is left on the sync pool is Register/StoreSet/StoreGet (once per worker start)
// and the short client RPCs; the watch streams are callback RPCs too (job/schedule services).
#pragma once

#include <chrono>

#include "core/limits.h"
#include "cyclr/v1/service.grpc.pb.h"
#include "server/authenticator.h"
#include "server/job_manager.h"
#include "server/metrics_exporter.h"
#include "server/schedule_manager.h"
#include "server/worker_registry.h"

namespace cyclr {

class WorkerService final
    : public v1::WorkerService::WithCallbackMethod_ReportProgress<v1::WorkerService::Service> {
 public:
  // The managers must outlive this; `metrics` may be null. Every request passes CheckRequest
  // (request_limits.h) first. StoreGet with timeout_ms == 0 waits `default_store_timeout`; no
  // wait is longer than kMaxStoreTimeout, and a wait ends (CANCELLED) within
  // WorkerRegistry::kStoreWaitSlice of its client cancelling or its deadline passing.
  // Every call needs the worker credential of the request's job (authenticator.h).
  WorkerService(JobManager* jobs, ScheduleManager* schedules, WorkerRegistry* registry,
                Authenticator* auth, MetricsExporter* metrics,
                std::chrono::milliseconds default_store_timeout);

  static constexpr std::chrono::milliseconds kMaxStoreTimeout = limits::kMaxStoreTimeout;

  grpc::Status Register(grpc::ServerContext* ctx, const v1::RegisterRequest* req,
                        v1::RegisterResponse* resp) override;
  grpc::Status StoreSet(grpc::ServerContext* ctx, const v1::StoreSetRequest* req,
                        v1::StoreSetResponse* resp) override;
  grpc::Status StoreGet(grpc::ServerContext* ctx, const v1::StoreGetRequest* req,
                        v1::StoreGetResponse* resp) override;
  grpc::ServerUnaryReactor* ReportProgress(grpc::CallbackServerContext* ctx,
                                           const v1::ReportProgressRequest* req,
                                           v1::ReportProgressResponse* resp) override;

 private:
  JobManager* jobs_;
  ScheduleManager* schedules_;
  WorkerRegistry* registry_;
  Authenticator* auth_;
  MetricsExporter* metrics_;
  std::chrono::milliseconds default_store_timeout_;
};

}  // namespace cyclr
