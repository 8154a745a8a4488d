// RpcObserver: times one RPC handler and records its method and status code in the metrics.
// Used by the services as `return Observe(metrics_, "GetJob", [&] { ... });`; streams on the
// callback API call RecordRpc when they finish.
#pragma once

#include <grpcpp/support/status.h>

#include <chrono>

#include "proto/proto_convert.h"
#include "server/metrics_exporter.h"

namespace cyclr {

// Records one finished RPC of `method` that started at `start`; no-op when `metrics` is null.
inline void RecordRpc(MetricsExporter* metrics, const char* method, const grpc::Status& status,
                      std::chrono::steady_clock::time_point start) {
  if (!metrics) return;
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  metrics->ObserveRpc(method, StatusCodeName(FromGrpc(status).code()), took.count());
}

// Runs `handler` (returning grpc::Status), records it when `metrics` is set, returns its status.
template <typename F>
grpc::Status Observe(MetricsExporter* metrics, const char* method, F&& handler) {
  auto start = std::chrono::steady_clock::now();
  grpc::Status status = handler();
  RecordRpc(metrics, method, status, start);
  return status;
}

}  // namespace cyclr
