// RpcObserver: times one RPC handler and records its method and status code in the metrics.
// Used by the services as `return Observe(metrics_, "GetJob", [&] { ... });`.
#pragma once

#include <chrono>

#include <grpcpp/support/status.h>

#include "proto/proto_convert.h"
#include "server/metrics_exporter.h"

namespace cyclr {

// Runs `handler` (returning grpc::Status), records it when `metrics` is set, returns its status.
template <typename F>
grpc::Status Observe(MetricsExporter* metrics, const char* method, F&& handler) {
  auto start = std::chrono::steady_clock::now();
  grpc::Status status = handler();
  if (metrics) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    metrics->ObserveRpc(method, StatusCodeName(FromGrpc(status).code()), took.count());
  }
  return status;
}

}  // namespace cyclr
