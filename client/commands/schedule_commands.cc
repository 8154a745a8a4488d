// schedule get | set | undo: a job's timeline and changes to it.
#include <memory>

#include <CLI/CLI.hpp>

#include "client/commands/commands.h"
#include "client/spec_flags.h"
#include "core/limits.h"
#include "core/timeline.h"
#include "proto/proto_convert.h"

namespace cyclr::client {
namespace {

struct ScheduleOptions {
  std::string job;
  std::string output = "table";
  int64_t at_step = 0;
  CLI::Option* at_step_option = nullptr;
  std::string phase = "continue";
  std::string reason;
  std::string author;
  int64_t revert_to = 0;
  SpecFlags spec_flags;
};

// --reason and --author are kept in the timeline: at most limits::kMaxTextBytes each.
Status CheckText(const std::string& flag, const std::string& text) {
  if (text.size() <= limits::kMaxTextBytes) return Status::Ok();
  return Status::InvalidArgument(flag + " (" + limits::Echo(text) + ") must be at most " +
                                 std::to_string(limits::kMaxTextBytes) + " bytes");
}

Status GetTimeline(const CommandContext& ctx, const ScheduleOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(o.output));
  CYCLR_ASSIGN_OR_RETURN(v1::Timeline timeline, ctx.Client().GetTimeline(o.job));
  *ctx.out << FormatTimeline(timeline, format);
  return Status::Ok();
}

// The fields `set` and `undo` share.
StatusOr<v1::UpdateScheduleRequest> BaseRequest(const ScheduleOptions& o) {
  v1::UpdateScheduleRequest request;
  request.set_job(o.job);
  StatusOr<PhaseMode> phase = ParsePhaseMode(o.phase);
  if (!phase.ok()) return phase.status().WithContext("--phase");
  request.set_phase(*phase == PhaseMode::kRestart ? v1::PHASE_MODE_RESTART
                                                  : v1::PHASE_MODE_CONTINUE);
  if (o.at_step_option != nullptr && o.at_step_option->count() > 0) {
    if (o.at_step < 0 || o.at_step > limits::kMaxStep) {
      return Status::InvalidArgument("--at-step (" + std::to_string(o.at_step) +
                                     ") must be in [0, " + std::to_string(limits::kMaxStep) +
                                     "]");
    }
    request.set_effective_step(o.at_step);
  }
  CYCLR_RETURN_IF_ERROR(CheckText("--reason", o.reason));
  CYCLR_RETURN_IF_ERROR(CheckText("--author", o.author));
  // The coordinator records the caller's token name as the author; --author may only repeat it.
  request.set_author(o.author);
  request.set_reason(o.reason);
  return request;
}

Status SendUpdate(const CommandContext& ctx, const ScheduleOptions& o,
                  const v1::UpdateScheduleRequest& request) {
  CYCLR_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(o.output));
  CYCLR_ASSIGN_OR_RETURN(v1::Revision revision, ctx.Client().UpdateSchedule(request));
  *ctx.out << FormatRevision(revision, format);
  return Status::Ok();
}

Status SetSchedule(const CommandContext& ctx, const ScheduleOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec spec, o.spec_flags.Resolve());
  CYCLR_ASSIGN_OR_RETURN(v1::UpdateScheduleRequest request, BaseRequest(o));
  *request.mutable_spec() = ToProto(spec);
  return SendUpdate(ctx, o, request);
}

Status UndoSchedule(const CommandContext& ctx, const ScheduleOptions& o) {
  if (o.revert_to < 1 || o.revert_to > limits::kMaxRevisionsPerJob) {
    return Status::InvalidArgument("--to (" + std::to_string(o.revert_to) + ") must be in [1, " +
                                   std::to_string(limits::kMaxRevisionsPerJob) + "]");
  }
  CYCLR_ASSIGN_OR_RETURN(v1::UpdateScheduleRequest request, BaseRequest(o));
  request.set_revert_to(o.revert_to);
  return SendUpdate(ctx, o, request);
}

void Bind(CLI::App* command, CommandContext* ctx, std::shared_ptr<ScheduleOptions> o,
          Status (*run)(const CommandContext&, const ScheduleOptions&)) {
  command->callback([ctx, o, run] { ctx->action = [ctx, o, run] { return run(*ctx, *o); }; });
}

// --at-step, --phase, --reason, --author: where and how a change takes effect.
void AddChangeOptions(CLI::App* command, ScheduleOptions* o) {
  o->at_step_option = command->add_option(
      "--at-step", o->at_step, "first step of the change (default: the job's current step)");
  command->add_option("--phase", o->phase,
                      "continue (keep the cycle's phase) | restart (cycle starts at --at-step)")
      ->capture_default_str();
  command->add_option("--reason", o->reason, "why, kept in the timeline");
  command->add_option("--author", o->author,
                      "who, kept in the timeline: your token's name (the default; another name "
                      "is refused)");
  AddOutputOption(command, &o->output);
}

}  // namespace

CLI::App* AddScheduleCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* schedule = app->add_subcommand("schedule", "preview schedules; inspect and change a "
                                                       "job's schedule");
  schedule->require_subcommand(1);

  auto get_opts = std::make_shared<ScheduleOptions>();
  CLI::App* get = schedule->add_subcommand("get", "a job's timeline of schedule revisions");
  get->add_option("NAME", get_opts->job, "job name")->required();
  AddOutputOption(get, &get_opts->output);
  Bind(get, ctx, get_opts, GetTimeline);

  auto set_opts = std::make_shared<ScheduleOptions>();
  CLI::App* set = schedule->add_subcommand("set", "append a new schedule revision; prints it");
  set->add_option("NAME", set_opts->job, "job name")->required();
  set_opts->spec_flags.AddTo(set);
  AddChangeOptions(set, set_opts.get());
  Bind(set, ctx, set_opts, SetSchedule);

  auto undo_opts = std::make_shared<ScheduleOptions>();
  CLI::App* undo = schedule->add_subcommand(
      "undo", "append revision VERSION's spec again as a new revision; prints it");
  undo->add_option("NAME", undo_opts->job, "job name")->required();
  undo->add_option("--to", undo_opts->revert_to, "the revision to go back to")->required();
  AddChangeOptions(undo, undo_opts.get());
  Bind(undo, ctx, undo_opts, UndoSchedule);
  return schedule;
}

}  // namespace cyclr::client
