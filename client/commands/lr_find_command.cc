// lr-find: the LR range test — launch a probe (a range-test job) and read its suggestions.
//   cyclrctl lr-find --name probe [job flags] [--start-lr --end-lr --steps --mode]
//                    [--seed-repeats K] [--follow] [--plot F.svg]
//   cyclrctl lr-find get NAME [--output table|json] [--plot F.svg]
#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>

#include "client/cluster_flags.h"
#include "client/commands/commands.h"
#include "client/curve_plot.h"
#include "client/job_file.h"
#include "client/option_flags.h"
#include "client/probe_report.h"
#include "client/svg_plot.h"

namespace cyclr::client {
namespace {

struct ProbeOptions {
  ProbeOptions() : job_flags(JobOptionNames(), JobBoolOptionNames(), JobOptionHelp(), "Job") {}
  std::string job_file;
  OptionFlags job_flags;
  ClusterFlags cluster_flags;  // a probe runs wherever its job would: --scheduler slurm, ...
  double start_lr = 1e-7;      // fastai's lr_find defaults
  double end_lr = 10;
  int64_t steps = 100;
  std::string mode = "exp";
  int seed_repeats = 1;
  bool follow = false;
  std::string plot;
  std::string from_checkpoint;  // init_from: probe a trained model
  // lr-find get
  std::string name;
  std::string output = "table";
  LrSuggestionOptions suggest;
};

// A probe writes nothing a later job could resume from (the coordinator refuses these too).
Status CheckProbeJob(const OptionMap& job) {
  for (const char* field : {"checkpoint_dir", "resume_from", "output_dir", "max_steps"}) {
    if (job.count(field)) {
      return Status::InvalidArgument(std::string(field) +
                                     " cannot be given to lr-find: a probe trains a throwaway "
                                     "copy for exactly --steps steps");
    }
  }
  return Status::Ok();
}

StatusOr<v1::JobSpec> ProbeSpec(const ProbeOptions& o) {
  JobFile file;
  if (!o.job_file.empty()) {
    CYCLR_ASSIGN_OR_RETURN(file, LoadJobFile(o.job_file));
  }
  CYCLR_ASSIGN_OR_RETURN(OptionMap job,
                         o.cluster_flags.Apply(Merge(file.job, o.job_flags.Given())));
  CYCLR_RETURN_IF_ERROR(CheckProbeJob(job));
  // Enough epochs for any dataset: every epoch has at least one step; max_steps ends it.
  if (!job.count("epochs")) job["epochs"] = std::to_string(o.steps);
  job["max_steps"] = std::to_string(o.steps);
  if (!o.from_checkpoint.empty()) {
    std::error_code ec;
    const auto abs = std::filesystem::absolute(o.from_checkpoint, ec);
    job["init_from"] = ec ? o.from_checkpoint : abs.lexically_normal().string();
  }
  char lr[2][40];
  std::snprintf(lr[0], sizeof lr[0], "%.17g", o.start_lr);
  std::snprintf(lr[1], sizeof lr[1], "%.17g", o.end_lr);
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec schedule,
                         SpecFromOptions({{"policy", "range-test"},
                                          {"base_lr", lr[0]},
                                          {"max_lr", lr[1]},
                                          {"total_steps", std::to_string(o.steps)},
                                          {"ramp", o.mode}}));
  return BuildJobSpec(job, schedule, {"name"});
}

Status WritePlot(const ProbeReport& report, const std::string& path) {
  const std::string medians =
      report.repeats > 1 ? " (medians of " + std::to_string(report.repeats) + ")" : "";
  return WritePlotFile(path, RenderLossCurvePlot(report.curve, report.suggestions,
                                                 "LR range test " + report.job.name() + medians));
}

Status Show(const CommandContext& ctx, const ProbeOptions& o, const std::string& name) {
  CYCLR_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(o.output));
  CoordinatorClient client = ctx.Client();
  CYCLR_ASSIGN_OR_RETURN(ProbeReport report, ReadProbe(client, name, o.suggest));
  *ctx.out << FormatProbeReport(report, format) << std::flush;
  if (!o.plot.empty()) CYCLR_RETURN_IF_ERROR(WritePlot(report, o.plot));
  return Status::Ok();
}

Status LaunchProbe(const CommandContext& ctx, const ProbeOptions& o) {
  if (o.seed_repeats < 1 || o.seed_repeats > 16) {
    return Status::InvalidArgument("--seed-repeats (" + std::to_string(o.seed_repeats) +
                                   ") must be between 1 and 16");
  }
  CYCLR_ASSIGN_OR_RETURN(v1::JobSpec spec, ProbeSpec(o));
  CoordinatorClient client = ctx.Client();
  const std::string name = spec.name();
  for (int k = 1; k <= o.seed_repeats; ++k) {
    v1::JobSpec repeat = spec;
    if (k > 1) {
      repeat.set_name(RepeatName(name, k));
      repeat.set_seed((spec.seed() == 0 ? 1 : spec.seed()) + static_cast<uint64_t>(k - 1));
    }
    CYCLR_ASSIGN_OR_RETURN(v1::Job launched, client.LaunchJob(repeat));
    *ctx.out << launched.name() << "\n" << std::flush;
  }
  if (!o.follow) return Status::Ok();
  for (int k = 1; k <= o.seed_repeats; ++k) {
    const std::string probe = k == 1 ? name : RepeatName(name, k);
    CYCLR_ASSIGN_OR_RETURN(v1::Job last, client.WatchJob(probe, [](const v1::Job&) {}));
    if (last.state() != v1::SUCCEEDED) {
      return Status::Aborted("probe " + probe + " ended " + v1::JobState_Name(last.state()) +
                             (last.reason().empty() ? "" : ": " + last.reason()));
    }
    *ctx.out << probe << ": " << (last.reason().empty() ? "ran every step" : last.reason()) << "\n"
             << std::flush;
  }
  return Show(ctx, o, name);
}

void AddSuggestOptions(CLI::App* cmd, ProbeOptions* o) {
  cmd->add_option("--plot", o->plot, "write the curve and the suggestions as an SVG chart");
  cmd->add_option("--base-divisor", o->suggest.base_divisor,
                  "Smith's bounds: base_lr = max_lr / this (3-4 for a cycle, 10-20 one-cycle)")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--half-cycle-epochs", o->suggest.half_cycle_epochs,
                  "Smith's bounds: step_size_up in epochs (Smith: 2-10)")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
}

}  // namespace

void AddLrFindCommand(CLI::App* app, CommandContext* ctx) {
  auto o = std::make_shared<ProbeOptions>();
  CLI::App* find = app->add_subcommand(
      "lr-find",
      "LR range test: launch a probe that raises the LR each step until the loss "
      "diverges; `lr-find get NAME` shows the suggested bounds");
  find->add_option("-f,--file", o->job_file, "job file (YAML or JSON), as for launch");
  find->add_option("--start-lr", o->start_lr, "LR of the first step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  find->add_option("--end-lr", o->end_lr, "LR of the last step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  find->add_option("--steps", o->steps, "steps of the ramp (the probe's length)")
      ->check(CLI::Range(int64_t{20}, int64_t{50000}))
      ->capture_default_str();
  find->add_option("--mode", o->mode, "exp (geometric, fastai) | linear (DeepSpeed)")
      ->check(CLI::IsMember({"exp", "linear"}))
      ->capture_default_str();
  find->add_option("--seed-repeats", o->seed_repeats,
                   "run K probes (seeds seed..seed+K-1, jobs NAME, NAME-r2, ...) and take the "
                   "medians")
      ->capture_default_str();
  find->add_option("--from-checkpoint", o->from_checkpoint,
                   "probe a trained model: start from this checkpoint's weights (the file is "
                   "only read; step, optimizer and data start fresh)");
  find->add_flag("--follow", o->follow, "wait for the probe(s), then show the suggestions");
  AddSuggestOptions(find, o.get());
  o->job_flags.AddTo(find);
  o->cluster_flags.AddTo(find);

  auto g = std::make_shared<ProbeOptions>();
  CLI::App* get = find->add_subcommand("get", "a finished probe's curve and suggestions");
  get->add_option("NAME", g->name, "probe (job) name")->required();
  AddOutputOption(get, &g->output);
  AddSuggestOptions(get, g.get());
  get->callback([ctx, g] { ctx->action = [ctx, g] { return Show(*ctx, *g, g->name); }; });
  find->callback([ctx, o, get] {
    if (get->parsed()) return;  // `lr-find get` set the action
    ctx->action = [ctx, o] { return LaunchProbe(*ctx, *o); };
  });
}

}  // namespace cyclr::client
