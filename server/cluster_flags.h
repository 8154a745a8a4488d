// The coordinator's command-line flags of ClusterOptions (its main only).
#pragma once

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "server/cluster_options.h"

namespace cyclr {

// Adds --slurm, --slurm-bin-dir, --kubernetes, --kubectl, --k8s-namespace, --k8s-image,
// --k8s-tls-ca-secret, --cluster-worker-address and --cluster-poll-ms; `poll_ms` receives the
// last (the caller converts it).
void AddClusterFlags(CLI::App* app, ClusterOptions* o, int64_t* poll_ms);

// After parsing: --cluster-worker-address is HOST:PORT, and given with --kubernetes (pods cannot
// dial the coordinator's loopback address). INVALID_ARGUMENT naming the flag.
Status CheckClusterOptions(const ClusterOptions& o);

}  // namespace cyclr
