// The coordinator's cluster launchers (launcher slurm and kubernetes), off unless enabled:
// `--slurm`, `--kubernetes` (cluster_flags.h adds the flags). docs/clusters.md.
#pragma once

#include <chrono>
#include <string>

namespace cyclr {

struct ClusterOptions {
  // What workers started by a scheduler dial; they run on other hosts, so it must be an address
  // those reach ("" = the coordinator's own listening address, right for one host).
  std::string worker_address;
  std::chrono::milliseconds poll_interval{2000};  // how often an allocation is looked at

  bool slurm = false;
  std::string slurm_bin_dir;  // sbatch, scontrol, sacct, scancel ("" = PATH)

  bool kubernetes = false;
  std::string kubectl = "kubectl";
  std::string k8s_namespace = "cyclr";  // when a job's kubernetes.namespace is empty
  std::string k8s_image;                // when a job's kubernetes.image is empty
  std::string k8s_tls_ca_secret;        // a Secret with the CA workers trust (ca.crt)
};

}  // namespace cyclr
