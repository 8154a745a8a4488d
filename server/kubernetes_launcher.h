// KubernetesLauncher: runs a job's workers as an Indexed Job, one pod per rank (launcher
// `kubernetes`), through kubectl (docs/clusters.md, "Kubernetes").
//
// Every call is a kubectl command run with RunCommand (no shell, a timeout), never while the
// launcher's mutex is held:
//   Launch  kubectl apply -n NS -f -   (RenderKubernetesManifests on stdin; on a relaunch first
//           kubectl delete job,service,secret -n NS -l cyclr.io/job=NAME --ignore-not-found
//           --cascade=foreground --wait=true --timeout=Ts, so the old pods are gone)
//   follow  kubectl get pods -n NS -l cyclr.io/job=NAME -o json   (every poll_interval)
//   Stop    kubectl delete job,service,secret -n NS -l cyclr.io/job=NAME --ignore-not-found
//           --wait=false
//   ReadLog kubectl logs -n NS -l cyclr.io/job=NAME,cyclr.io/submission=K,
//           batch.kubernetes.io/job-completion-index=R --tail=-1 --limit-bytes=B
//
// One thread follows every job: it maps the pods of the current launch (label
// cyclr.io/submission) to a ClusterJob (state Pending/Running/Succeeded/Failed, the pods' nodes,
// a waiting or unschedulable reason, queued while a pod waits to be scheduled or none exists
// yet) and calls the ClusterCallback when that changes; it reports each rank's exit once per
// launch: a Succeeded pod as exit 0, a Failed one with its container's exit code (128+N as
// signal N) and termination message, an image that cannot be pulled for more than
// image_pull_polls polls as exit 127, a pod that vanished as signal 15. After Stop it reports
// every rank not yet reported as killed by signal 15 once the launch's pods are gone (or after
// stop_timeout). Callbacks run on that thread with no lock of the launcher held; they may call
// back into the launcher (a group restart calls Stop and Launch from an exit callback).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/command_runner.h"
#include "server/kubernetes_manifest.h"
#include "server/launcher.h"

namespace cyclr {

class KubernetesLauncher : public Launcher {
 public:
  struct Options {
    std::string kubectl = "kubectl";          // program name (on PATH) or path (--kubectl)
    std::string default_namespace = "cyclr";  // --k8s-namespace
    std::string default_image;                // --k8s-image
    std::string coordinator_address;          // what worker pods dial (--cluster-worker-address)
    std::string tls_ca_secret;                // --k8s-tls-ca-secret ("" = plaintext workers)
    std::chrono::milliseconds poll_interval{2000};
    std::chrono::milliseconds command_timeout{30000};  // each kubectl call
    // Polls a rank's image pull may fail (ErrImagePull, ImagePullBackOff, InvalidImageName)
    // before the rank is reported as failed.
    int image_pull_polls = 5;
    // After Stop: how long to wait for the pods to go before reporting the exits anyway.
    std::chrono::milliseconds stop_timeout{60000};
  };

  KubernetesLauncher(Options options, WorkerExitCallback on_exit, ClusterCallback on_cluster);
  ~KubernetesLauncher() override;  // stops following; leaves the cluster's objects alone

  // INVALID_ARGUMENT: CheckKubernetesOptions. FAILED_PRECONDITION: no image (names
  // kubernetes.image and --k8s-image) or coordinator address, kubectl not found, kubectl
  // refused the manifests (its stderr). The group's first poll reports its ClusterJob.
  Status Launch(const v1::JobSpec& spec, const std::string& worker_token) override;
  // OK and a no-op for a job this launcher does not run. Exits are reported by the follower.
  Status Stop(const std::string& job) override;
  // NOT_FOUND: pods are followed through the cluster, not adopted by pid.
  Status Adopt(const std::string& job, int rank, int pid) override;
  // The last lines of the rank's pod log (kubectl with a timeout of at most 2 s); "" when none.
  std::string LogTail(const std::string& job, int rank) const override;
  // The rank's pod log of the current launch, sliced like ReadLogFile. kubectl cannot start at
  // an offset: it fetches the first offset + max_bytes + 1 bytes (a negative offset: the first
  // 16 MiB, of which the last -offset are kept), and LogChunk.size is what it fetched — more
  // than next_offset() when the log goes on. Bytes past 16 MiB cannot be read this way.
  // NOT_FOUND for a job this launcher does not run or a pod without a log yet.
  StatusOr<LogChunk> ReadLog(const std::string& job, int rank, int64_t offset,
                             int max_bytes) const override;
  // Follows again the launch job.cluster() describes (namespace from the spec or the default,
  // submission job.cluster().submissions()). Its ranks count as seen: a pod missing from the
  // cluster is reported as ended.
  Status Reattach(const v1::Job& job) override;

 private:
  struct RankFollow {
    bool reported = false;
    bool seen = false;      // a pod of this rank was seen (its absence is then an end)
    int pull_failures = 0;  // consecutive polls with an image pull error
  };
  struct Tracked {
    std::string ns;
    int workers = 0;
    int submission = 0;
    std::vector<RankFollow> ranks;
    bool following = false;  // polled while true
    bool stopping = false;
    std::chrono::steady_clock::time_point stop_deadline;
    v1::ClusterJob last;  // as last reported
    std::string last_error;
  };
  struct Events {
    std::vector<std::pair<std::string, v1::ClusterJob>> changes;
    std::vector<WorkerExit> exits;
  };
  struct Poll;  // one job's pods as one poll saw them (kubernetes_launcher.cc)

  // The launch's render options: the spec's values, else the defaults; the next submission.
  StatusOr<KubernetesRenderOptions> RenderOptionsFor(const v1::JobSpec& spec,
                                                     const std::string& worker_token) const;
  StatusOr<CommandResult> Kubectl(const std::vector<std::string>& args, const std::string& input,
                                  std::chrono::milliseconds timeout, size_t max_output) const;
  Status Delete(const std::string& ns, const std::string& job, bool wait) const;
  StatusOr<LogChunk> FetchLog(const std::string& job, int rank, int64_t offset, int max_bytes,
                              std::chrono::milliseconds timeout) const;
  Poll GetPods(const std::string& ns, const std::string& job, int submission, int workers) const;
  void FollowLoop();
  // One poll of every followed job: kubectl without the lock, then Apply under it.
  Events PollAll();
  // Folds a poll into the job's state. REQUIRES mu_ held.
  void Apply(const std::string& job, const Poll& poll, Events* events);
  void ApplyStopping(const std::string& job, Tracked* t, const Poll& poll, Events* events);
  void ApplyRanks(const std::string& job, Tracked* t, const Poll& poll, Events* events);

  Options options_;
  WorkerExitCallback on_exit_;
  ClusterCallback on_cluster_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Tracked> jobs_;  // GUARDED_BY(mu_)
  bool wake_ = false;                    // GUARDED_BY(mu_): poll now
  bool done_ = false;                    // GUARDED_BY(mu_)
  std::thread follower_;
};

}  // namespace cyclr
