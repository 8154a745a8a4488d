#include "server/job_manager.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "proto/proto_convert.h"
#include "server/job_files.h"
#include "server/job_spec_rules.h"
#include "server/manager_util.h"

namespace cyclr {
namespace {

// The latest (highest step) of a batch of step reports; reports may arrive in any order.
const v1::StepReport* Latest(const v1::ReportProgressRequest& r) {
  const v1::StepReport* best = nullptr;
  for (const auto& s : r.steps()) {
    if (!best || s.step() >= best->step()) best = &s;
  }
  return best;
}

}  // namespace

JobManager::JobManager(StateStore* store, ScheduleManager* schedules, Options options,
                       AliveProbe alive)
    : store_(store), schedules_(schedules), options_(options), alive_(std::move(alive)) {}

void JobManager::SetLauncher(Launcher* launcher) {
  std::lock_guard<std::mutex> lock(mu_);
  launcher_ = launcher;
}

StatusOr<v1::Job> JobManager::Launch(v1::JobSpec spec) {
  CYCLR_RETURN_IF_ERROR(NormalizeJobSpec(&spec));
  if (options_.check_paths) CYCLR_RETURN_IF_ERROR(options_.check_paths(spec));
  CYCLR_RETURN_IF_ERROR(CheckJobFiles(&spec));
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec schedule, FromProto(spec.schedule()));
  Revision first;
  first.version = 1;
  first.spec = schedule;
  first.author = "launch";
  first.created_unix_ms = NowUnixMs();
  Timeline timeline;
  CYCLR_RETURN_IF_ERROR(timeline.Append(first));

  Launcher* launcher = nullptr;
  v1::Job out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (jobs_.count(spec.name())) {
      return Status::AlreadyExists("job \"" + spec.name() + "\" already exists");
    }
    CYCLR_RETURN_IF_ERROR(CheckQuotas(spec));
    v1::Job job;
    job.set_name(spec.name());
    *job.mutable_spec() = spec;
    job.set_state(v1::PENDING);
    job.set_lr(timeline.At(0).lr);
    job.set_schedule_version(1);
    job.set_created_unix_ms(first.created_unix_ms);
    job.set_updated_unix_ms(first.created_unix_ms);
    CYCLR_RETURN_IF_ERROR(store_->CreateJob(job, first));
    // Cannot fail: the name is new to this manager, which adds every job it schedules.
    CYCLR_RETURN_IF_ERROR(schedules_->AddJob(spec.name(), std::move(timeline), 0, false));
    Entry& e = AddEntry(std::move(job));
    out = ToJob(e);
    if (spec.launcher() != "external") launcher = launcher_;
    // Before the processes start: an exit may be reported before Launch returns.
    if (launcher) Expect(&e);
  }
  if (launcher) {
    Status s = StartGroup(launcher, spec);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      Entry* e = Find(spec.name());
      Finish(e, v1::FAILED, "starting the workers failed: " + s.message());
      out = ToJob(*e);
    }
  }
  return out;
}

StatusOr<v1::Job> JobManager::Get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(name);
  if (!e) return UnknownJob(name);
  return ToJob(*e);
}

std::vector<v1::Job> JobManager::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Job> out;
  for (const auto& [seq, name] : order_) out.push_back(ToJob(jobs_.at(name)));
  return out;
}

StatusOr<v1::Job> JobManager::Stop(const std::string& name, const std::string& reason) {
  v1::Job out;
  bool stop_workers = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(name);
    if (!e) return UnknownJob(name);
    if (IsTerminal(e->job.state())) {
      return Status::FailedPrecondition("job \"" + name + "\" already ended (" +
                                        v1::JobState_Name(e->job.state()) + ")");
    }
    stop_workers = Finish(e, v1::STOPPED, reason.empty() ? "stopped by user" : reason);
    out = ToJob(*e);
  }
  if (stop_workers) StopWorkers(name);
  return out;
}

StatusOr<v1::JobSpec> JobManager::SpecForWorkers(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(name);
  if (!e) return UnknownJob(name);
  if (IsTerminal(e->job.state())) {
    return Status::FailedPrecondition("job \"" + name + "\" already ended (" +
                                      v1::JobState_Name(e->job.state()) + ")");
  }
  return e->job.spec();
}

StatusOr<bool> JobManager::Report(const v1::ReportProgressRequest& r) {
  bool stop_workers = false;
  bool stop_reply = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(r.job());
    if (!e) return UnknownJob(r.job());
    // The terminal state first: a quarantined job may have no valid spec, and its workers must
    // still hear that they have to stop.
    v1::JobState state = e->job.state();
    if (IsTerminal(state)) return state == v1::STOPPED || state == v1::FAILED;
    int workers = e->job.spec().workers();
    if (r.rank() < 0 || r.rank() >= workers) {
      return Status::InvalidArgument("rank (" + std::to_string(r.rank()) +
                                     ") must be between 0 and " + std::to_string(workers - 1));
    }
    for (const auto& a : r.applied()) {
      CYCLR_RETURN_IF_ERROR(schedules_->MarkApplied(r.job(), a.version(), a.step()));
    }
    CYCLR_RETURN_IF_ERROR(ApplyRangeTest(e, r));
    if (state == v1::PENDING) e->job.set_state(v1::RUNNING);
    ApplySteps(e, r);
    Aggregate(e);
    RankState& rank = e->ranks[r.rank()];
    rank.last_seen = Clock::now();
    rank.heard = true;
    if (e->restarting) {
      // The failed group's last words (errors from losing a peer): its exits decide.
    } else if (!r.error().empty() && (!Managed(*e) || IsFinalWorkerError(r.error()))) {
      stop_workers = Finish(
          e, v1::FAILED, "rank " + std::to_string(r.rank()) + " reported an error: " + r.error());
      stop_reply = true;
    } else if (!r.error().empty()) {
      // The worker exits non-zero next; the exits decide (restart or FAILED), and the first
      // exit is the likelier cause (a killed peer) than this error (losing the peer).
    } else if (r.finished()) {
      rank.finished = true;
      MaybeSucceed(e);
    }
    Changed(e);
    CYCLR_RETURN_IF_ERROR(Persist(e, state != e->job.state()));
  }
  if (stop_workers) StopWorkers(r.job());
  return stop_reply;
}

StatusOr<JobSnapshot> JobManager::Snapshot(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(name);
  if (!e) return UnknownJob(name);
  return JobSnapshot{e->generation, ToJob(*e)};
}

StatusOr<JobManager::Subscription> JobManager::Subscribe(const std::string& name,
                                                         Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(name);
  if (!e) return UnknownJob(name);
  Subscription sub;
  sub.current = std::make_shared<const JobSnapshot>(JobSnapshot{e->generation, ToJob(*e)});
  sub.id = feed_.Add(name, std::move(listener));
  return sub;
}

void JobManager::Unsubscribe(const std::string& name, int64_t id) { feed_.Remove(name, id); }

void JobManager::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, e] : jobs_) {
    if (e.dirty) {
      Status s = Persist(&e, true);
      if (!s.ok())
        std::fprintf(stderr, "cyclr: saving job %s: %s\n", name.c_str(), s.ToString().c_str());
    }
  }
}

JobManager::Entry& JobManager::AddEntry(v1::Job job) {
  std::string name = job.name();
  Entry& e = jobs_[name];
  e.seq = next_seq_++;
  e.job = std::move(job);
  e.last_persist = Clock::now();
  order_.emplace(e.seq, name);
  return e;
}

JobManager::Entry* JobManager::Find(const std::string& name) {
  auto it = jobs_.find(name);
  return it == jobs_.end() ? nullptr : &it->second;
}

const JobManager::Entry* JobManager::Find(const std::string& name) const {
  auto it = jobs_.find(name);
  return it == jobs_.end() ? nullptr : &it->second;
}

v1::Job JobManager::ToJob(const Entry& e) const {
  v1::Job job = e.job;
  // The schedule may have changed since the last report: read the value in force now.
  StatusOr<TimelinePoint> p = schedules_->PointAt(job.name(), job.global_step());
  if (p.ok()) {
    job.set_lr(p->lr);
    if (p->momentum)
      job.set_momentum(*p->momentum);
    else
      job.clear_momentum();
    job.set_schedule_version(p->version);
  }
  for (const auto& [rank, st] : e.ranks) {
    if (!st.reported) continue;
    v1::RankStatus* rs = job.add_ranks();
    *rs = st.status;
    rs->set_alive(alive_ ? alive_(job.name(), rank) : false);
  }
  if (!IsTerminal(job.state()) && !e.restarting && Managed(e)) {
    for (const auto& [rank, st] : e.ranks) {
      if (!st.heard && !st.finished) job.add_waiting_ranks(rank);
    }
    if (job.waiting_ranks_size() > 0) job.set_waiting_since_unix_ms(e.group_started_unix_ms);
  }
  return job;
}

void JobManager::ApplySteps(Entry* e, const v1::ReportProgressRequest& r) {
  RankState& rank = e->ranks[r.rank()];
  rank.status.set_rank(r.rank());
  rank.status.set_last_report_unix_ms(NowUnixMs());
  if (!r.blas().empty()) {
    rank.status.set_blas(r.blas());
    rank.status.set_threads(r.threads());
  }
  if (const v1::StepReport* s = Latest(r)) {
    if (!rank.reported || s->step() >= rank.status.step()) {
      rank.status.set_step(s->step());
      rank.status.set_loss(s->loss());
      rank.status.set_lr(s->lr());
      rank.status.set_momentum(s->momentum());
      rank.status.set_samples_per_second(s->samples_per_second());
    }
    rank.reported = true;
    e->job.set_epoch(std::max(e->job.epoch(), s->epoch()));
  }
  for (const auto& ep : r.epochs()) {
    if (ep.epoch() >= e->job.epoch()) {
      e->job.set_epoch(ep.epoch());
      e->job.set_test_accuracy(ep.test_accuracy());
      e->job.set_test_loss(ep.test_loss());
    }
  }
  if (r.total_steps() > 0) e->job.set_total_steps(r.total_steps());
}

void JobManager::Aggregate(Entry* e) {
  int workers = e->job.spec().workers();
  int reported = 0;
  int finite = 0;
  int64_t min_step = INT64_MAX;
  double loss = 0, sps = 0;
  for (const auto& [rank, st] : e->ranks) {
    if (!st.reported) continue;
    ++reported;
    min_step = std::min(min_step, st.status.step());
    // A diverging rank may report NaN or Inf (kept in its RankStatus); the mean is over the
    // finite losses, so one rank cannot turn the job's loss into NaN.
    if (std::isfinite(st.status.loss())) {
      loss += st.status.loss();
      ++finite;
    }
    sps += st.status.samples_per_second();
  }
  if (reported == 0) return;
  e->job.set_loss(finite > 0 ? loss / finite : std::numeric_limits<double>::quiet_NaN());
  e->job.set_samples_per_second(sps);
  // Reports carry the index of the step a rank just finished; the job's global step counts the
  // steps every rank completed, i.e. the next step to run (where a default revision starts).
  if (reported == workers && min_step + 1 > e->job.global_step()) {
    e->job.set_global_step(min_step + 1);
  }
  schedules_->SetCurrentStep(e->job.name(), e->job.global_step());
}

bool JobManager::Finish(Entry* e, v1::JobState state, const std::string& reason) {
  e->job.set_state(state);
  e->job.set_reason(reason);
  schedules_->EndJob(e->job.name());
  Changed(e);
  Status s = Persist(e, true);
  if (!s.ok())
    std::fprintf(stderr, "cyclr: saving job %s: %s\n", e->job.name().c_str(), s.ToString().c_str());
  return state != v1::SUCCEEDED && Managed(*e);
}

void JobManager::MaybeSucceed(Entry* e) {
  for (int r = 0; r < e->job.spec().workers(); ++r) {
    auto it = e->ranks.find(r);
    if (it == e->ranks.end() || !it->second.finished) return;
    // A watched process must also have exited cleanly (OnWorkerExit takes it out of `live`).
    if (e->live.count(r)) return;
  }
  Finish(e, v1::SUCCEEDED, e->finish_note);
}

Status JobManager::Persist(Entry* e, bool force) {
  e->dirty = true;
  Clock::time_point now = Clock::now();
  if (!force && now - e->last_persist < options_.persist_interval) return Status::Ok();
  e->job.set_updated_unix_ms(NowUnixMs());
  CYCLR_RETURN_IF_ERROR(store_->SaveJob(e->job));
  e->last_persist = now;
  e->dirty = false;
  return Status::Ok();
}

void JobManager::Changed(Entry* e) {
  ++e->generation;
  feed_.Changed(e->job.name());
}

void JobManager::StopWorkers(const std::string& name) {
  Launcher* launcher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    launcher = launcher_;
  }
  if (!launcher) return;
  Status s = launcher->Stop(name);
  if (!s.ok())
    std::fprintf(stderr, "cyclr: stopping workers of %s: %s\n", name.c_str(), s.ToString().c_str());
}

}  // namespace cyclr
