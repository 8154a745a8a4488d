#include "client/cluster_flags.h"

#include <CLI/CLI.hpp>
#include <map>

namespace cyclr::client {
namespace {

// Flag (snake_case) -> job option.
const std::map<std::string, std::string>& FlagOptions() {
  static const std::map<std::string, std::string> m = {
      {"slurm_partition", "slurm.partition"},
      {"slurm_account", "slurm.account"},
      {"slurm_qos", "slurm.qos"},
      {"slurm_time", "slurm.time"},
      {"slurm_constraint", "slurm.constraint"},
      {"slurm_gpus_per_task", "slurm.gpus_per_task"},
      {"slurm_cpus_per_task", "slurm.cpus_per_task"},
      {"k8s_namespace", "kubernetes.namespace"},
      {"k8s_image", "kubernetes.image"},
      {"k8s_gpus", "kubernetes.gpus_per_worker"},
      {"k8s_node_selector", "kubernetes.node_selector"},
      {"k8s_cpu", "kubernetes.cpu"},
      {"k8s_memory", "kubernetes.memory"},
      {"k8s_service_account", "kubernetes.service_account"},
  };
  return m;
}

std::vector<std::string> FlagNames() {
  std::vector<std::string> out;
  for (const auto& [flag, option] : FlagOptions()) out.push_back(flag);
  return out;
}

std::map<std::string, std::string> FlagHelp() {
  return {
      {"slurm_partition", "Slurm partition(s), comma-separated"},
      {"slurm_account", "Slurm account to charge"},
      {"slurm_qos", "Slurm quality of service"},
      {"slurm_time", "Slurm time limit (MM, HH:MM:SS, D-HH:MM, ...)"},
      {"slurm_constraint", "Slurm node features (--constraint)"},
      {"slurm_gpus_per_task", "GPUs per worker (Slurm --gpus-per-task)"},
      {"slurm_cpus_per_task", "CPUs per worker (Slurm --cpus-per-task)"},
      {"k8s_namespace", "Kubernetes namespace (default: the coordinator's --k8s-namespace)"},
      {"k8s_image", "worker image with cyclr-worker (default: the coordinator's --k8s-image)"},
      {"k8s_gpus", "nvidia.com/gpu per worker pod"},
      {"k8s_node_selector", "KEY=VALUE[,KEY=VALUE...] the pods' nodes must carry"},
      {"k8s_cpu", "CPU per worker pod (a quantity: 2, 500m)"},
      {"k8s_memory", "memory per worker pod (8Gi)"},
      {"k8s_service_account", "the pods' service account"},
  };
}

}  // namespace

ClusterFlags::ClusterFlags() : flags_(FlagNames(), {}, FlagHelp(), "Cluster") {}

void ClusterFlags::AddTo(CLI::App* app) {
  app->add_option("--scheduler", scheduler_,
                  "where the coordinator runs the workers: local (its host, default) | slurm "
                  "(sbatch) | kubernetes (an Indexed Job); --launcher external: you start them")
      ->check(CLI::IsMember({"local", "slurm", "kubernetes"}))
      ->group("Cluster");
  flags_.AddTo(app);
}

StatusOr<OptionMap> ClusterFlags::Apply(OptionMap job) const {
  if (!scheduler_.empty()) {
    auto it = job.find("launcher");
    if (it != job.end() && it->second != scheduler_ && it->second != "local") {
      return Status::InvalidArgument("--scheduler " + scheduler_ + " and launcher " + it->second +
                                     " disagree: give one of them");
    }
    job["launcher"] = scheduler_;
  }
  const std::string launcher = job.count("launcher") ? job.at("launcher") : "local";
  for (const auto& [flag, text] : flags_.Given()) {
    const std::string option = FlagOptions().at(flag);
    const std::string section = option.substr(0, option.find('.'));
    if (section != launcher) {
      return Status::InvalidArgument("--" + OptionFlags::Kebab(flag) + " is for --scheduler " +
                                     section + " (this job's launcher is " + launcher + ")");
    }
    job[option] = text;
  }
  return job;
}

}  // namespace cyclr::client
