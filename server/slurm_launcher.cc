#include "server/slurm_launcher.h"

#include <cctype>
#include <cstdio>

#include "core/limits.h"
#include "core/safe_file.h"
#include "server/command_runner.h"
#include "server/log_file.h"
#include "server/manager_util.h"

namespace cyclr {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool AllDigits(const std::string& s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The exit every rank gets when the allocation ended with `info`.
WorkerExit AllocationExit(const std::string& job, int rank, const std::string& id,
                          const SlurmJobInfo& info, const std::string& rank_log) {
  WorkerExit x;
  x.job = job;
  x.rank = rank;
  x.last_log_line = "Slurm job " + id + " " + info.state;
  if (!info.reason.empty()) x.last_log_line += " (" + info.reason + ")";
  if (!rank_log.empty()) x.last_log_line += "; rank log ends: " + rank_log;
  if (info.state == "UNKNOWN") {  // Slurm forgot it: ended, somehow
    x.status_known = false;
    return x;
  }
  x.exit_code = info.exit_code;
  x.signal = info.signal;
  // Only COMPLETED is a clean end; NODE_FAIL and the like may carry ExitCode=0:0.
  if (info.state != "COMPLETED" && x.exit_code == 0 && x.signal == 0) x.exit_code = 1;
  return x;
}

}  // namespace

SlurmLauncher::SlurmLauncher(Options options, WorkerExitCallback on_exit, ClusterCallback on_change)
    : options_(std::move(options)), on_exit_(std::move(on_exit)), on_change_(std::move(on_change)) {
  follower_ = std::thread([this] { FollowLoop(); });
}

SlurmLauncher::~SlurmLauncher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  follower_.join();
}

std::string SlurmLauncher::Tool(const std::string& name) const {
  return options_.bin_dir.empty() ? name : options_.bin_dir + "/" + name;
}

std::string SlurmLauncher::JobDir(const std::string& job) const {
  return options_.work_dir + "/jobs/" + job;
}

std::string SlurmLauncher::LogPath(const std::string& job, int rank) const {
  return JobDir(job) + "/worker-" + std::to_string(rank) + ".log";
}

StatusOr<std::string> SlurmLauncher::Submit(const v1::JobSpec& spec,
                                            const std::string& worker_token) {
  CYCLR_ASSIGN_OR_RETURN(std::string dir, MakeJobFolder(options_.work_dir, spec.name()));
  SlurmScriptOptions so{options_.worker_binary, options_.coordinator_address, dir,
                        options_.worker_tls, ""};
  if (!worker_token.empty()) {
    so.token_file = dir + "/worker.token";
    CYCLR_RETURN_IF_ERROR(WriteFileAtomically(so.token_file, worker_token + "\n"));
  }
  const std::string script = dir + "/slurm-job.sh";
  CYCLR_RETURN_IF_ERROR(WriteFileAtomically(script, RenderSlurmScript(spec, so)));
  CommandOptions co;
  co.timeout = options_.command_timeout;
  StatusOr<CommandResult> r =
      RunCommand({Tool("sbatch"), "--parsable", "--output=" + dir + "/slurm-%j.out", script}, co);
  if (!r.ok()) {
    return Status::FailedPrecondition(r.status().message() +
                                      " (install Slurm's commands or give --slurm-bin-dir)");
  }
  if (!r->ok()) return Status::FailedPrecondition(r->Describe("sbatch"));
  // --parsable: "ID" or "ID;CLUSTER".
  std::string id = Trim(r->out.substr(0, r->out.find_first_of(";\n")));
  if (!AllDigits(id)) {
    return Status::Internal("sbatch --parsable answered " + limits::Echo(r->out));
  }
  return id;
}

Status SlurmLauncher::Launch(const v1::JobSpec& spec, const std::string& worker_token) {
  CYCLR_ASSIGN_OR_RETURN(std::string id, Submit(spec, worker_token));
  std::fprintf(stderr, "cyclr: job %s: submitted Slurm job %s\n", spec.name().c_str(), id.c_str());
  {
    std::lock_guard<std::mutex> lock(mu_);
    Allocation& a = jobs_[spec.name()];
    a.submissions = ++submissions_[spec.name()];
    a.id = id;
    a.workers = spec.workers();
    a.last = v1::ClusterJob();
  }
  cv_.notify_all();  // the first look at once: PENDING, and on which partition
  return Status::Ok();
}

Status SlurmLauncher::Stop(const std::string& job) {
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job);
    if (it == jobs_.end() || it->second.id.empty()) return Status::Ok();
    id = it->second.id;
  }
  CommandOptions co;
  co.timeout = options_.command_timeout;
  StatusOr<CommandResult> r = RunCommand({Tool("scancel"), id}, co);
  if (!r.ok()) return r.status();
  if (!r->ok()) return Status::FailedPrecondition(r->Describe("scancel"));
  cv_.notify_all();
  return Status::Ok();
}

Status SlurmLauncher::Adopt(const std::string& job, int rank, int pid) {
  (void)rank, (void)pid;
  std::lock_guard<std::mutex> lock(mu_);
  if (jobs_.count(job)) return Status::Ok();
  return Status::NotFound("no Slurm allocation of job \"" + job + "\" is followed");
}

std::string SlurmLauncher::LogTail(const std::string& job, int rank) const {
  return std::string(limits::CutUtf8(LastLines(LogPath(job, rank), 5), 1024));
}

StatusOr<LogChunk> SlurmLauncher::ReadLog(const std::string& job, int rank, int64_t offset,
                                          int max_bytes) const {
  return ReadLogFile(LogPath(job, rank), offset, max_bytes);
}

Status SlurmLauncher::Reattach(const v1::Job& job) {
  if (!AllDigits(job.cluster().id())) {
    return Status::NotFound("job \"" + job.name() + "\" has no Slurm job id recorded");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    Allocation& a = jobs_[job.name()];
    a.id = job.cluster().id();
    a.workers = job.spec().workers();
    a.submissions = submissions_[job.name()] = job.cluster().submissions();
    a.last = job.cluster();
  }
  cv_.notify_all();
  return Status::Ok();
}

StatusOr<SlurmJobInfo> SlurmLauncher::Query(const std::string& id) const {
  CommandOptions co;
  co.timeout = options_.command_timeout;
  StatusOr<CommandResult> r = RunCommand({Tool("scontrol"), "show", "job", "-o", id}, co);
  if (r.ok() && r->ok()) {
    StatusOr<SlurmJobInfo> info = ParseScontrolJob(r->out);
    if (info.ok()) return info;
  }
  // scontrol forgets a job MinJobAge after it ended; accounting (when configured) remembers.
  StatusOr<CommandResult> a =
      RunCommand({Tool("sacct"), "-n", "-P", "-X", "-j", id, "-o", "State,ExitCode,NodeList"}, co);
  if (a.ok() && a->ok()) {
    StatusOr<SlurmJobInfo> info = ParseSacctJob(a->out);
    if (info.ok()) return info;
  }
  if (r.ok() && (r->err + r->out).find("Invalid job id") != std::string::npos) {
    return Status::NotFound("Slurm no longer knows job " + id);
  }
  return Status::Unavailable(r.ok() ? r->Describe("scontrol") : r.status().message());
}

void SlurmLauncher::FollowLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    lock.unlock();
    PollOnce();
    lock.lock();
    cv_.wait_for(lock, options_.poll_interval);
  }
}

void SlurmLauncher::PollOnce() {
  std::vector<std::pair<std::string, std::string>> followed;  // job, Slurm id
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [job, a] : jobs_) followed.emplace_back(job, a.id);
  }
  for (const auto& [job, id] : followed) Report(Observe(job, id, Query(id)));
}

SlurmLauncher::Event SlurmLauncher::Observe(const std::string& job, const std::string& id,
                                            const StatusOr<SlurmJobInfo>& info) {
  Event e;
  e.job = job;
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return e;  // ask again later
  e.info = info.ok() ? *info : SlurmJobInfo{"UNKNOWN", info.status().message(), "", 0, 0};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.id != id) return e;  // stopped following, or resubmitted
  Allocation& a = it->second;
  v1::ClusterJob& c = e.cluster;
  c.set_scheduler("slurm");
  c.set_id(id);
  c.set_state(e.info.state);
  c.set_nodes(e.info.nodes);
  c.set_reason(e.info.reason);
  c.set_queued(SlurmQueued(e.info.state));
  c.set_submissions(a.submissions);
  e.changed = c.state() != a.last.state() || c.nodes() != a.last.nodes() ||
              c.reason() != a.last.reason() || c.id() != a.last.id();
  c.set_updated_unix_ms(e.changed ? NowUnixMs() : a.last.updated_unix_ms());
  a.last = c;
  if (SlurmEnded(e.info.state)) {
    e.ended = true;
    e.workers = a.workers;
    jobs_.erase(it);  // before the exits: a relaunch from their callback follows a new id
  }
  return e;
}

void SlurmLauncher::Report(const Event& e) {
  if (e.changed && on_change_) on_change_(e.job, e.cluster);
  if (!e.ended) return;
  std::fprintf(stderr, "cyclr: job %s: Slurm job %s ended %s\n", e.job.c_str(),
               e.cluster.id().c_str(), e.info.state.c_str());
  for (int r = 0; r < e.workers; ++r) {
    if (on_exit_)
      on_exit_(AllocationExit(e.job, r, e.cluster.id(), e.info, LastLines(LogPath(e.job, r), 1)));
  }
}

}  // namespace cyclr
