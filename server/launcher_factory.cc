#include "server/launcher_factory.h"

#include <filesystem>

#include "server/kubernetes_launcher.h"
#include "server/local_launcher.h"
#include "server/slurm_launcher.h"

namespace cyclr {
namespace {

std::unique_ptr<Launcher> Local(const LauncherSetup& s, WorkerExitCallback on_exit) {
  LocalLauncher::Options o;
  o.worker_binary = s.worker_binary;
  o.coordinator_address = s.address;
  o.work_dir = s.work_dir;
  o.worker_tls = s.worker_tls;
  o.stop_grace = s.stop_grace;
  o.stop_on_destroy = false;  // workers outlive a coordinator restart and report to the next
  return std::make_unique<LocalLauncher>(o, std::move(on_exit));
}

std::string ClusterAddress(const LauncherSetup& s) {
  return s.cluster.worker_address.empty() ? s.address : s.cluster.worker_address;
}

std::unique_ptr<Launcher> Slurm(const LauncherSetup& s, WorkerExitCallback on_exit,
                                ClusterCallback on_change) {
  SlurmLauncher::Options o;
  o.bin_dir = s.cluster.slurm_bin_dir;
  o.worker_binary = s.worker_binary;
  o.coordinator_address = ClusterAddress(s);
  // The script names its files by absolute path: the tasks start in another folder.
  o.work_dir = std::filesystem::absolute(s.work_dir).lexically_normal().string();
  o.worker_tls = s.worker_tls;
  o.poll_interval = s.cluster.poll_interval;
  return std::make_unique<SlurmLauncher>(o, std::move(on_exit), std::move(on_change));
}

std::unique_ptr<Launcher> Kubernetes(const LauncherSetup& s, WorkerExitCallback on_exit,
                                     ClusterCallback on_change) {
  KubernetesLauncher::Options o;
  o.kubectl = s.cluster.kubectl;
  o.default_namespace = s.cluster.k8s_namespace;
  o.default_image = s.cluster.k8s_image;
  o.coordinator_address = ClusterAddress(s);
  o.tls_ca_secret = s.cluster.k8s_tls_ca_secret;
  o.poll_interval = s.cluster.poll_interval;
  return std::make_unique<KubernetesLauncher>(o, std::move(on_exit), std::move(on_change));
}

}  // namespace

TlsFiles WorkerTls(const TlsFiles& server, const std::string& worker_ca) {
  TlsFiles tls;
  if (server.cert.empty()) return tls;
  tls.ca = worker_ca.empty() ? server.cert : worker_ca;
  if (!server.ca.empty()) tls.cert = server.cert, tls.key = server.key;
  return tls;
}

StatusOr<std::unique_ptr<LauncherRouter>> MakeLaunchers(const LauncherSetup& setup,
                                                        LauncherRouter::KindOf kind_of,
                                                        WorkerExitCallback on_exit,
                                                        ClusterCallback on_change) {
  if (setup.cluster.kubernetes && setup.cluster.worker_address.empty()) {
    return Status::InvalidArgument(
        "--kubernetes needs --cluster-worker-address HOST:PORT: the address worker pods dial "
        "(they cannot reach " +
        setup.address + ")");
  }
  auto router = std::make_unique<LauncherRouter>(std::move(kind_of));
  router->Add("local", Local(setup, on_exit));
  if (setup.cluster.slurm) router->Add("slurm", Slurm(setup, on_exit, on_change));
  if (setup.cluster.kubernetes) {
    router->Add("kubernetes", Kubernetes(setup, on_exit, on_change));
  }
  return router;
}

}  // namespace cyclr
