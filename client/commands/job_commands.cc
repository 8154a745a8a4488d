// jobs list, jobs get NAME, jobs delete NAME, stop NAME.
#include <CLI/CLI.hpp>
#include <memory>

#include "client/commands/commands.h"

namespace cyclr::client {
namespace {

struct JobOptions {
  std::string name;
  std::string output = "table";
  std::string reason;
};

Status ListJobs(const CommandContext& ctx, const JobOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(o.output));
  CYCLR_ASSIGN_OR_RETURN(v1::ListJobsResponse jobs, ctx.Client().ListAllJobs());
  *ctx.out << FormatJobList(jobs, format);
  return Status::Ok();
}

Status GetJob(const CommandContext& ctx, const JobOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(o.output));
  CYCLR_ASSIGN_OR_RETURN(v1::Job job, ctx.Client().GetJob(o.name));
  *ctx.out << FormatJob(job, format);
  return Status::Ok();
}

Status StopJob(const CommandContext& ctx, const JobOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(v1::Job job, ctx.Client().StopJob(o.name, o.reason));
  *ctx.out << "job " << job.name() << " " << v1::JobState_Name(job.state()) << "\n";
  return Status::Ok();
}

Status DeleteJob(const CommandContext& ctx, const JobOptions& o) {
  CYCLR_RETURN_IF_ERROR(ctx.Client().DeleteJob(o.name));
  *ctx.out << "job " << o.name << " deleted\n";
  return Status::Ok();
}

// Makes `command`'s callback select `run` as the action.
void Bind(CLI::App* command, CommandContext* ctx, std::shared_ptr<JobOptions> o,
          Status (*run)(const CommandContext&, const JobOptions&)) {
  command->callback([ctx, o, run] { ctx->action = [ctx, o, run] { return run(*ctx, *o); }; });
}

}  // namespace

void AddOutputOption(CLI::App* command, std::string* output) {
  command->add_option("-o,--output", *output, "table | json")->capture_default_str();
}

void AddJobCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* jobs = app->add_subcommand("jobs", "list and inspect jobs");
  jobs->require_subcommand(1);

  auto list_opts = std::make_shared<JobOptions>();
  CLI::App* list = jobs->add_subcommand("list", "one line per job");
  AddOutputOption(list, &list_opts->output);
  Bind(list, ctx, list_opts, ListJobs);

  auto get_opts = std::make_shared<JobOptions>();
  CLI::App* get = jobs->add_subcommand("get", "a job's state, progress and ranks");
  get->add_option("NAME", get_opts->name, "job name")->required();
  AddOutputOption(get, &get_opts->output);
  Bind(get, ctx, get_opts, GetJob);

  auto delete_opts = std::make_shared<JobOptions>();
  CLI::App* del = jobs->add_subcommand(
      "delete", "forget an ended job: its state, timeline and metrics (logs and checkpoints stay)");
  del->add_option("NAME", delete_opts->name, "job name")->required();
  Bind(del, ctx, delete_opts, DeleteJob);

  auto stop_opts = std::make_shared<JobOptions>();
  CLI::App* stop = app->add_subcommand("stop", "stop a job (its workers exit)");
  stop->add_option("NAME", stop_opts->name, "job name")->required();
  stop->add_option("--reason", stop_opts->reason, "why, kept with the job");
  Bind(stop, ctx, stop_opts, StopJob);
}

}  // namespace cyclr::client
