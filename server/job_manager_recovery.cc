// JobManager, third part: recovery from the state store (with quarantine of bad rows) and the
// launch quotas (the policy is in job_manager.h).
#include <cstdio>

#include "server/job_manager.h"
#include "server/job_spec_rules.h"

namespace cyclr {

Status JobManager::Recover() {
  CYCLR_ASSIGN_OR_RETURN(std::vector<JobRow> rows, store_->LoadJobRows());
  for (const JobRow& row : rows) CYCLR_RETURN_IF_ERROR(RecoverJob(row));
  return Status::Ok();
}

Status JobManager::RecoverJob(const JobRow& row) {
  if (!IsValidJobName(row.name)) {
    // Not addressable by any RPC (and not a safe metrics label): left in the file, untouched.
    std::fprintf(stderr, "cyclr: state file: skipping a job row named %s\n",
                 limits::Echo(row.name).c_str());
    return Status::Ok();
  }
  std::string why;
  Timeline timeline;
  StatusOr<v1::Job> decoded = DecodeJobRow(row);
  if (decoded.ok()) {
    CYCLR_ASSIGN_OR_RETURN(std::vector<RevisionRow> revs, store_->LoadRevisionRows(row.name));
    Status built = DecodeTimeline(revs, &timeline);
    if (!built.ok()) why = built.message();
  } else {
    why = decoded.status().message();
  }
  v1::Job job = why.empty() ? std::move(*decoded) : QuarantinedJob(row, why);
  if (!why.empty()) {
    std::fprintf(stderr, "cyclr: job %s: %s\n", row.name.c_str(), job.reason().c_str());
    // Persisted once: the next start decodes the row as this FAILED job (bad revisions are
    // quarantined again, with the same reason, and not written again).
    if (row.state != v1::FAILED || row.reason != job.reason()) {
      Status saved = store_->SaveJob(job);
      if (!saved.ok()) {
        std::fprintf(stderr, "cyclr: saving job %s: %s\n", row.name.c_str(),
                     saved.ToString().c_str());
      }
    }
  }
  Status added = schedules_->AddJob(job.name(), std::move(timeline), job.global_step(),
                                    IsTerminal(job.state()));
  if (!added.ok()) {
    std::fprintf(stderr, "cyclr: state file: %s\n", added.message().c_str());
    return Status::Ok();
  }
  std::lock_guard<std::mutex> lock(mu_);
  AddEntry(std::move(job));
  return Status::Ok();
}

Status JobManager::CheckQuotas(const v1::JobSpec& spec) const {
  if (static_cast<int64_t>(jobs_.size()) >= options_.max_jobs) {
    return Status::ResourceExhausted(
        "the coordinator holds " + std::to_string(jobs_.size()) + " jobs, the most --max-jobs (" +
        std::to_string(options_.max_jobs) + ") allows; delete finished jobs first");
  }
  if (spec.launcher() != "local") return Status::Ok();
  int64_t used = 0;
  for (const auto& [name, e] : jobs_) {
    if (!IsTerminal(e.job.state()) && e.job.spec().launcher() == "local") {
      used += e.job.spec().workers();
    }
  }
  if (used + spec.workers() > options_.max_local_workers) {
    return Status::ResourceExhausted(
        "job \"" + spec.name() + "\" needs " + std::to_string(spec.workers()) +
        " local workers but unfinished local jobs use " + std::to_string(used) + " of the " +
        std::to_string(options_.max_local_workers) + " that --max-local-workers allows");
  }
  return Status::Ok();
}

}  // namespace cyclr
