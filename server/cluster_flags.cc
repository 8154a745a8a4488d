#include "server/cluster_flags.h"

#include "core/host_port.h"

namespace cyclr {

void AddClusterFlags(CLI::App* app, ClusterOptions* o, int64_t* poll_ms) {
  app->add_flag("--slurm", o->slurm,
                "run jobs launched with --scheduler slurm as Slurm batch jobs (sbatch from this "
                "host; --work-dir must be shared with the nodes)");
  app->add_option("--slurm-bin-dir", o->slurm_bin_dir,
                  "folder of sbatch, scontrol, sacct and scancel (default: PATH)");
  app->add_flag("--kubernetes", o->kubernetes,
                "run jobs launched with --scheduler kubernetes as Indexed Jobs (kubectl)");
  app->add_option("--kubectl", o->kubectl, "the kubectl to run")->capture_default_str();
  app->add_option("--k8s-namespace", o->k8s_namespace, "namespace of jobs that name none")
      ->capture_default_str();
  app->add_option("--k8s-image", o->k8s_image,
                  "worker image of jobs that name none (it must have cyclr-worker on PATH)");
  app->add_option("--k8s-tls-ca-secret", o->k8s_tls_ca_secret,
                  "a Secret (key ca.crt) with the CA the pods trust for this coordinator's TLS");
  app->add_option("--cluster-worker-address", o->worker_address,
                  "HOST:PORT that workers started by Slurm or Kubernetes dial (default: "
                  "--listen's address, right on one host)");
  app->add_option("--cluster-poll-ms", *poll_ms, "how often an allocation's state is read")
      ->check(CLI::Range(int64_t{10}, int64_t{600000}))
      ->capture_default_str();
}

Status CheckClusterOptions(const ClusterOptions& o) {
  if (!o.worker_address.empty()) {
    CYCLR_RETURN_IF_ERROR(ParseHostPort(o.worker_address, "--cluster-worker-address").status());
  }
  if (o.kubernetes && o.worker_address.empty()) {
    return Status::InvalidArgument(
        "--kubernetes needs --cluster-worker-address HOST:PORT: the address the worker pods dial "
        "(a Service in front of this coordinator)");
  }
  return Status::Ok();
}

}  // namespace cyclr
