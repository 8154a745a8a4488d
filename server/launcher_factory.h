// The coordinator's launchers, built by kind behind one LauncherRouter: `local` always, `slurm`
// and `kubernetes` when ClusterOptions enables them (docs/clusters.md).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "proto/tls_credentials.h"
#include "server/cluster_options.h"
#include "server/launcher_router.h"

namespace cyclr {

struct LauncherSetup {
  std::string worker_binary;  // cyclr-worker (the same path on every Slurm node)
  std::string address;        // the coordinator's own address: what local workers dial
  std::string work_dir;       // logs, Slurm scripts and credentials (shared with Slurm nodes)
  TlsFiles worker_tls;        // what workers present and trust (WorkerTls)
  std::chrono::milliseconds stop_grace{5000};
  ClusterOptions cluster;
};

// The TLS files workers use for a coordinator serving `server` (cert, key, client CA): they trust
// `worker_ca` (default: the certificate itself, right when it is self-signed) and, with mutual
// TLS, present the coordinator's pair. Empty when the coordinator serves plaintext.
TlsFiles WorkerTls(const TlsFiles& server, const std::string& worker_ca);

// INVALID_ARGUMENT when kubernetes is enabled without cluster.worker_address (pods cannot dial
// the coordinator's own loopback address).
StatusOr<std::unique_ptr<LauncherRouter>> MakeLaunchers(const LauncherSetup& setup,
                                                        LauncherRouter::KindOf kind_of,
                                                        WorkerExitCallback on_exit,
                                                        ClusterCallback on_change);

}  // namespace cyclr
