#include "server/kubernetes_launcher.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "core/limits.h"
#include "server/kubernetes_pods.h"
#include "server/log_file.h"

namespace cyclr {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SameCluster(const v1::ClusterJob& a, const v1::ClusterJob& b) {
  return a.id() == b.id() && a.state() == b.state() && a.nodes() == b.nodes() &&
         a.reason() == b.reason() && a.queued() == b.queued() && a.submissions() == b.submissions();
}

}  // namespace

// One job's pods of its current launch, by rank.
struct KubernetesLauncher::Poll {
  int submission = 0;
  Status status;
  std::map<int, PodView> pods;
};

namespace {}  // namespace

KubernetesLauncher::KubernetesLauncher(Options options, WorkerExitCallback on_exit,
                                       ClusterCallback on_cluster)
    : options_(std::move(options)),
      on_exit_(std::move(on_exit)),
      on_cluster_(std::move(on_cluster)) {
  follower_ = std::thread([this] { FollowLoop(); });
}

KubernetesLauncher::~KubernetesLauncher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  follower_.join();
}

StatusOr<CommandResult> KubernetesLauncher::Kubectl(const std::vector<std::string>& args,
                                                    const std::string& input,
                                                    std::chrono::milliseconds timeout,
                                                    size_t max_output) const {
  std::vector<std::string> argv = {options_.kubectl};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions co;
  co.input = input;
  co.timeout = timeout;
  co.max_output = max_output;
  StatusOr<CommandResult> r = RunCommand(argv, co);
  if (!r.ok() && r.status().message().find("not found on PATH") != std::string::npos) {
    return Status::FailedPrecondition(options_.kubectl +
                                      " not found on PATH (install kubernetes-client or give "
                                      "--kubectl)");
  }
  return r;
}

Status KubernetesLauncher::Delete(const std::string& ns, const std::string& job, bool wait) const {
  std::vector<std::string> args = {"delete",
                                   "job,service,secret",
                                   "-n",
                                   ns,
                                   "-l",
                                   std::string(kK8sJobLabel) + "=" + job,
                                   "--ignore-not-found"};
  std::chrono::milliseconds timeout = options_.command_timeout;
  if (wait) {
    const long long seconds = std::max<long long>(1, options_.command_timeout.count() / 1000);
    args.insert(args.end(), {"--cascade=foreground", "--wait=true",
                             "--timeout=" + std::to_string(seconds) + "s"});
    timeout += std::chrono::seconds(5);
  } else {
    args.push_back("--wait=false");
  }
  CYCLR_ASSIGN_OR_RETURN(CommandResult r, Kubectl(args, "", timeout, 1 << 20));
  if (r.ok()) return Status::Ok();
  return Status::Unavailable("deleting the Kubernetes objects of job \"" + job +
                             "\": " + r.Describe(options_.kubectl));
}

StatusOr<KubernetesRenderOptions> KubernetesLauncher::RenderOptionsFor(
    const v1::JobSpec& spec, const std::string& worker_token) const {
  CYCLR_RETURN_IF_ERROR(CheckKubernetesOptions(spec.kubernetes()));
  const v1::KubernetesOptions& k = spec.kubernetes();
  KubernetesRenderOptions r;
  r.k8s_namespace = k.namespace_().empty() ? options_.default_namespace : k.namespace_();
  r.image = k.image().empty() ? options_.default_image : k.image();
  for (const auto& [value, field, flag] :
       {std::tuple(r.image, "image", "--k8s-image"),
        std::tuple(r.k8s_namespace, "namespace", "--k8s-namespace")}) {
    if (!value.empty()) continue;
    return Status::FailedPrecondition("job \"" + spec.name() + "\" has no " + field +
                                      ": set kubernetes." + field + " (cyclrctl launch " + flag +
                                      ") or start the coordinator with " + flag);
  }
  if (options_.coordinator_address.empty()) {
    return Status::FailedPrecondition(
        "the coordinator has no address for worker pods to dial (start it with "
        "--cluster-worker-address)");
  }
  r.coordinator_address = options_.coordinator_address;
  r.worker_token = worker_token;
  r.tls_ca_secret = options_.tls_ca_secret;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(spec.name());
  r.submission = it == jobs_.end() ? 1 : it->second.submission + 1;
  return r;
}

Status KubernetesLauncher::Launch(const v1::JobSpec& spec, const std::string& worker_token) {
  CYCLR_ASSIGN_OR_RETURN(KubernetesRenderOptions r, RenderOptionsFor(spec, worker_token));
  // A relaunch: the previous group's objects must be gone, or apply would patch an ended Job.
  if (r.submission > 1) CYCLR_RETURN_IF_ERROR(Delete(r.k8s_namespace, spec.name(), true));
  CYCLR_ASSIGN_OR_RETURN(CommandResult res, Kubectl({"apply", "-n", r.k8s_namespace, "-f", "-"},
                                                    RenderKubernetesManifests(spec, r),
                                                    options_.command_timeout, 1 << 20));
  Tracked t;
  t.ns = r.k8s_namespace;
  t.workers = spec.workers();
  t.submission = r.submission;
  t.ranks.resize(static_cast<size_t>(spec.workers()));
  t.following = res.ok();
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_[spec.name()] = t;  // also when refused: Stop then deletes what apply may have made
    wake_ = true;
  }
  cv_.notify_all();
  if (res.ok()) return Status::Ok();
  Delete(t.ns, spec.name(), false);  // best effort: the objects apply made before it failed
  return Status::FailedPrecondition("kubectl apply of job \"" + spec.name() +
                                    "\" failed: " + res.Describe(options_.kubectl));
}

Status KubernetesLauncher::Stop(const std::string& job) {
  std::string ns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return Status::Ok();
    Tracked& t = it->second;
    ns = t.ns;
    if (t.following && !t.stopping) {
      t.stopping = true;
      t.stop_deadline = Clock::now() + options_.stop_timeout;
    }
  }
  Status s = Delete(ns, job, false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return s;
}

Status KubernetesLauncher::Adopt(const std::string& job, int rank, int pid) {
  return Status::NotFound("job \"" + job + "\" runs on Kubernetes: rank " + std::to_string(rank) +
                          " (pid " + std::to_string(pid) + ") is followed through its pod, " +
                          "not adopted by pid");
}

Status KubernetesLauncher::Reattach(const v1::Job& job) {
  const std::string& ns = job.spec().kubernetes().namespace_();
  Tracked t;
  t.ns = ns.empty() ? options_.default_namespace : ns;
  t.workers = job.spec().workers();
  t.submission = std::max(1, job.cluster().submissions());
  t.ranks.resize(static_cast<size_t>(std::max(0, t.workers)));
  for (RankFollow& r : t.ranks) r.seen = true;
  t.following = true;
  t.last = job.cluster();
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_[job.name()] = t;
    wake_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

StatusOr<LogChunk> KubernetesLauncher::FetchLog(const std::string& job, int rank, int64_t offset,
                                                int max_bytes,
                                                std::chrono::milliseconds timeout) const {
  std::string ns;
  int submission = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job);
    if (it == jobs_.end() || rank < 0 || rank >= it->second.workers) {
      return Status::NotFound("no pod log of rank " + std::to_string(rank) + " of job \"" + job +
                              "\"");
    }
    ns = it->second.ns;
    submission = it->second.submission;
  }
  // One byte more than asked for: a size past next_offset() tells the reader the log goes on.
  const int64_t kMaxFetch = int64_t{16} << 20;
  const int64_t want = std::clamp<int64_t>(
      offset >= 0 ? offset + std::max(max_bytes, 0) + 1 : kMaxFetch, 1, kMaxFetch);
  const std::vector<std::string> args = {
      "logs",
      "-n",
      ns,
      "-l",
      std::string(kK8sJobLabel) + "=" + job + "," + kK8sSubmissionLabel + "=" +
          std::to_string(submission) + "," + kK8sIndexLabel + "=" + std::to_string(rank),
      "--tail=-1",
      "--limit-bytes=" + std::to_string(want)};
  CYCLR_ASSIGN_OR_RETURN(CommandResult r,
                         Kubectl(args, "", timeout, static_cast<size_t>(want) + 4096));
  LogChunk chunk;
  chunk.source = options_.kubectl;
  for (const auto& a : args) chunk.source += " " + a;
  if (!r.ok() || (r.out.empty() && !r.err.empty())) {
    return Status::NotFound("no log of rank " + std::to_string(rank) + " of job \"" + job +
                            "\" yet: " + r.Describe(options_.kubectl));
  }
  chunk.size = static_cast<int64_t>(r.out.size());
  chunk.offset = offset < 0 ? std::max<int64_t>(0, chunk.size + offset)
                            : std::min<int64_t>(offset, chunk.size);
  chunk.data =
      r.out.substr(static_cast<size_t>(chunk.offset), static_cast<size_t>(std::max(max_bytes, 0)));
  return chunk;
}

StatusOr<LogChunk> KubernetesLauncher::ReadLog(const std::string& job, int rank, int64_t offset,
                                               int max_bytes) const {
  return FetchLog(job, rank, offset, max_bytes, options_.command_timeout);
}

std::string KubernetesLauncher::LogTail(const std::string& job, int rank) const {
  StatusOr<LogChunk> c = FetchLog(
      job, rank, -4096, 4096,
      std::min<std::chrono::milliseconds>(options_.command_timeout, std::chrono::seconds(2)));
  if (!c.ok()) return "";
  return std::string(limits::CutUtf8(LastLinesOf(c->data, 5), 1024));
}

KubernetesLauncher::Poll KubernetesLauncher::GetPods(const std::string& ns, const std::string& job,
                                                     int submission, int workers) const {
  Poll poll;
  poll.submission = submission;
  StatusOr<CommandResult> r =
      Kubectl({"get", "pods", "-n", ns, "-l", std::string(kK8sJobLabel) + "=" + job, "-o", "json"},
              "", options_.command_timeout, 64 << 20);
  if (!r.ok()) {
    poll.status = r.status();
  } else if (!r->ok()) {
    poll.status = Status::Unavailable(r->Describe(options_.kubectl));
  } else {
    poll.status = ParseLaunchPods(r->out, submission, workers, &poll.pods);
  }
  return poll;
}

KubernetesLauncher::Events KubernetesLauncher::PollAll() {
  // The launches to look at, copied under the lock; kubectl then runs without it.
  struct Followed {
    std::string job, ns;
    int submission, workers;
  };
  std::vector<Followed> followed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, t] : jobs_) {
      if (t.following) followed.push_back({name, t.ns, t.submission, t.workers});
    }
  }
  std::vector<Poll> polls;
  for (const Followed& f : followed) {
    polls.push_back(GetPods(f.ns, f.job, f.submission, f.workers));
  }
  Events events;
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < followed.size(); ++i) Apply(followed[i].job, polls[i], &events);
  // The first exit names the failure: a failed rank before the ones that ended well.
  std::stable_sort(events.exits.begin(), events.exits.end(),
                   [](const WorkerExit& a, const WorkerExit& b) { return !a.ok() && b.ok(); });
  return events;
}

void KubernetesLauncher::Apply(const std::string& job, const Poll& poll, Events* events) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.submission != poll.submission || !it->second.following) {
    return;  // relaunched or ended meanwhile
  }
  Tracked& t = it->second;
  if (!poll.status.ok()) {
    if (poll.status.message() != t.last_error) {
      std::fprintf(stderr, "cyclr: job %s: following its pods: %s\n", job.c_str(),
                   poll.status.message().c_str());
    }
    t.last_error = poll.status.message();
    return;
  }
  t.last_error.clear();
  if (t.stopping) {
    ApplyStopping(job, &t, poll, events);
  } else {
    ApplyRanks(job, &t, poll, events);
  }
  t.following =
      std::any_of(t.ranks.begin(), t.ranks.end(), [](const RankFollow& r) { return !r.reported; });
}

void KubernetesLauncher::ApplyStopping(const std::string& job, Tracked* t, const Poll& poll,
                                       Events* events) {
  if (!poll.pods.empty() && Clock::now() < t->stop_deadline) return;
  for (size_t r = 0; r < t->ranks.size(); ++r) {
    if (t->ranks[r].reported) continue;
    t->ranks[r].reported = true;
    WorkerExit x;
    x.job = job;
    x.rank = static_cast<int>(r);
    x.signal = 15;
    x.last_log_line = poll.pods.empty() ? "stopped: its pod was deleted"
                                        : "stopped: its pod was still being deleted";
    events->exits.push_back(x);
  }
}

void KubernetesLauncher::ApplyRanks(const std::string& job, Tracked* t, const Poll& poll,
                                    Events* events) {
  for (size_t r = 0; r < t->ranks.size(); ++r) {
    RankFollow& f = t->ranks[r];
    if (f.reported) continue;
    auto it = poll.pods.find(static_cast<int>(r));
    WorkerExit x;
    bool ended = true;
    if (it == poll.pods.end()) {
      ended = f.seen;
      x.signal = 15;
      x.last_log_line = "its pod was deleted";
    } else {
      const PodView& p = it->second;
      f.seen = true;
      f.pull_failures = IsImagePullError(p.waiting_reason) ? f.pull_failures + 1 : 0;
      if (p.phase == "Failed") {
        x = FailedPodExit(p);
      } else if (f.pull_failures > options_.image_pull_polls) {
        x.exit_code = 127;  // as a local worker whose binary cannot be executed
        x.last_log_line = p.waiting_reason + ": " + p.waiting_message;
      } else {
        ended = p.phase == "Succeeded";
      }
    }
    if (!ended) continue;
    f.reported = true;
    x.job = job;
    x.rank = static_cast<int>(r);
    events->exits.push_back(x);
  }
  v1::ClusterJob c = SummarizePods(poll.pods, t->workers);
  c.set_scheduler("kubernetes");
  c.set_id(t->ns + "/" + KubernetesObjectName(job));
  c.set_submissions(t->submission);
  if (!SameCluster(c, t->last)) {
    c.set_updated_unix_ms(NowUnixMs());
    t->last = c;
    events->changes.emplace_back(job, c);
  }
}

void KubernetesLauncher::FollowLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    wake_ = false;
    lock.unlock();
    Events events = PollAll();
    for (const auto& [job, c] : events.changes) {
      if (on_cluster_) on_cluster_(job, c);
    }
    for (const WorkerExit& x : events.exits) {
      if (on_exit_) on_exit_(x);
    }
    lock.lock();
    cv_.wait_for(lock, options_.poll_interval, [&] { return done_ || wake_; });
  }
}

}  // namespace cyclr
