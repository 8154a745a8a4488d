// resume NAME [--as NEW]: continues a FAILED or STOPPED job from its newest checkpoint.
//
// The API has no ResumeJob (a terminal state is final on the coordinator), so resuming launches
// a new job: the old one's spec under a new name (default NAME-r1, -r2, ...: the first free one),
// with the same checkpoint_dir, and then replays the old timeline's revisions 2..N onto it with
// the same spec, effective step and phase (so the versions and specs match). The new job's workers
// resume from the newest checkpoint in checkpoint_dir by themselves, and adopt the applied steps
// recorded in it, so the LR continues exactly where the checkpoint left it. Refused (one error,
// nothing launched) for a job that is not FAILED/STOPPED or has no checkpoint_dir.
#include <CLI/CLI.hpp>
#include <memory>
#include <set>

#include "client/commands/commands.h"
#include "core/job_name.h"
#include "core/limits.h"

namespace cyclr::client {
namespace {

struct ResumeOptions {
  std::string name;
  std::string as;
};

Status CheckResumable(const v1::Job& job) {
  if (job.state() != v1::FAILED && job.state() != v1::STOPPED) {
    return Status::FailedPrecondition("job " + job.name() + " is " +
                                      v1::JobState_Name(job.state()) +
                                      ": only a FAILED or STOPPED job can be resumed");
  }
  if (job.spec().checkpoint_dir().empty()) {
    return Status::FailedPrecondition("job " + job.name() +
                                      " has no checkpoint_dir: there is nothing to resume from");
  }
  return Status::Ok();
}

// NAME-r1, NAME-r2, ...: the first name no job has.
StatusOr<std::string> FreeName(const CommandContext& ctx, const std::string& base) {
  CYCLR_ASSIGN_OR_RETURN(v1::ListJobsResponse list, ctx.Client().ListAllJobs());
  std::set<std::string> taken;
  for (const v1::Job& j : list.jobs()) taken.insert(j.name());
  for (int n = 1;; ++n) {
    std::string name = base + "-r" + std::to_string(n);
    if (name.size() > limits::kMaxNameBytes) {
      return Status::InvalidArgument("--as is required: " + name + " is longer than " +
                                     std::to_string(limits::kMaxNameBytes) + " characters");
    }
    if (!taken.count(name)) return name;
  }
}

// Replays revisions 2..N of `from` onto job `to`.
Status ReplayTimeline(const CommandContext& ctx, const std::string& from, const std::string& to) {
  CYCLR_ASSIGN_OR_RETURN(v1::Timeline timeline, ctx.Client().GetTimeline(from));
  for (const v1::Revision& rev : timeline.revisions()) {
    if (rev.version() == 1) continue;  // the spec's schedule: the new job has it already
    v1::UpdateScheduleRequest req;
    req.set_job(to);
    *req.mutable_spec() = rev.spec();
    req.set_effective_step(rev.effective_step());
    req.set_phase(rev.phase());
    req.set_author(rev.author());
    req.set_reason("resumed from " + from + (rev.reason().empty() ? "" : ": " + rev.reason()));
    StatusOr<v1::Revision> copy = ctx.Client().UpdateSchedule(req);
    if (!copy.ok()) {
      return copy.status().WithContext("copying revision " + std::to_string(rev.version()) +
                                       " of " + from + " to " + to);
    }
  }
  return Status::Ok();
}

Status Resume(const CommandContext& ctx, const ResumeOptions& o) {
  // NAME is checked by the driver (cli.cc), --as here: both before anything is sent.
  if (!o.as.empty()) CYCLR_RETURN_IF_ERROR(CheckJobName(o.as, "--as"));
  CYCLR_ASSIGN_OR_RETURN(v1::Job old, ctx.Client().GetJob(o.name));
  CYCLR_RETURN_IF_ERROR(CheckResumable(old));
  std::string name = o.as;
  if (name.empty()) {
    CYCLR_ASSIGN_OR_RETURN(name, FreeName(ctx, o.name));
  }
  v1::JobSpec spec = old.spec();
  spec.set_name(name);
  CYCLR_ASSIGN_OR_RETURN(v1::Job launched, ctx.Client().LaunchJob(spec));
  CYCLR_RETURN_IF_ERROR(ReplayTimeline(ctx, o.name, launched.name()));
  *ctx.out << launched.name() << "\n";
  return Status::Ok();
}

}  // namespace

void AddResumeCommand(CLI::App* app, CommandContext* ctx) {
  auto o = std::make_shared<ResumeOptions>();
  CLI::App* resume = app->add_subcommand(
      "resume",
      "continue a FAILED or STOPPED job from its newest checkpoint, as a new job (prints its "
      "name)");
  resume->add_option("NAME", o->name, "the job to resume")->required();
  resume->add_option("--as", o->as, "name of the new job (default NAME-r1, NAME-r2, ...)");
  resume->callback([ctx, o] { ctx->action = [ctx, o] { return Resume(*ctx, *o); }; });
}

}  // namespace cyclr::client
