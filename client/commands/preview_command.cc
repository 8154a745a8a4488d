// schedule preview: the LR (and momentum) per step of a spec, offline, or of a job's timeline.
#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>

#include "client/commands/commands.h"
#include "client/spec_flags.h"
#include "client/svg_plot.h"
#include "core/job_name.h"
#include "core/limits.h"
#include "core/schedule.h"

namespace cyclr::client {
namespace {

// An offline preview prints one row per step; a million rows is far more than a person reads or
// plots. A job's preview (--job) is the coordinator's, at most limits::kMaxPreviewSteps.
constexpr int64_t kMaxOfflinePreviewSteps = 1'000'000;

struct PreviewOptions {
  int64_t steps = 0;
  int64_t start_step = 0;
  std::string format = "csv";
  std::string plot;
  std::string job;
  SpecFlags spec_flags;
};

Status CheckRange(const PreviewOptions& o) {
  const int64_t max_steps = o.job.empty() ? kMaxOfflinePreviewSteps : limits::kMaxPreviewSteps;
  if (o.steps < 1 || o.steps > max_steps) {
    return Status::InvalidArgument("--steps (" + std::to_string(o.steps) + ") must be in [1, " +
                                   std::to_string(max_steps) + "]" +
                                   (o.job.empty() ? "" : " with --job"));
  }
  if (o.start_step < 0 || o.start_step > kMaxSteps) {
    return Status::InvalidArgument("--start-step (" + std::to_string(o.start_step) +
                                   ") must be in [0, " + std::to_string(kMaxSteps) + "]");
  }
  if (!o.job.empty()) CYCLR_RETURN_IF_ERROR(CheckJobName(o.job, "--job"));
  if (o.plot.size() > limits::kMaxPathBytes) {
    return Status::InvalidArgument("--plot (" + limits::Echo(o.plot) + ") must be at most " +
                                   std::to_string(limits::kMaxPathBytes) + " bytes");
  }
  return Status::Ok();
}

std::vector<v1::SchedulePoint> Evaluate(const Schedule& schedule, int64_t start, int64_t steps) {
  std::vector<v1::SchedulePoint> points;
  points.reserve(static_cast<size_t>(steps));
  for (int64_t step = start; step < start + steps; ++step) {
    SchedulePoint p = schedule.At(step);
    v1::SchedulePoint out;
    out.set_step(step);
    out.set_lr(p.lr);
    if (p.momentum) out.set_momentum(*p.momentum);
    out.set_cycle(p.cycle);
    out.set_cycle_position(p.cycle_position);
    points.push_back(std::move(out));
  }
  return points;
}

Status WritePlot(const std::string& path, const std::vector<v1::SchedulePoint>& points,
                 const std::string& title) {
  std::vector<PlotPoint> plot;
  plot.reserve(points.size());
  for (const auto& p : points) {
    plot.push_back({p.step(), p.lr(), p.has_momentum() ? std::optional<double>(p.momentum())
                                                       : std::nullopt});
  }
  return WritePlotFile(path, RenderSchedulePlot(plot, title));
}

Status Preview(const CommandContext& ctx, const PreviewOptions& o) {
  CYCLR_RETURN_IF_ERROR(CheckRange(o));
  CYCLR_ASSIGN_OR_RETURN(PreviewFormat format, ParsePreviewFormat(o.format));
  std::vector<v1::SchedulePoint> points;
  std::string title;
  if (!o.job.empty()) {
    if (o.spec_flags.AnyGiven()) {
      return Status::InvalidArgument("--job previews the job's timeline; give no SPEC with it");
    }
    v1::PreviewScheduleRequest request;
    request.set_job(o.job);
    request.set_start_step(o.start_step);
    request.set_steps(o.steps);
    CYCLR_ASSIGN_OR_RETURN(v1::PreviewScheduleResponse response,
                           ctx.Client().PreviewSchedule(request));
    points.assign(response.points().begin(), response.points().end());
    title = "job " + o.job + ": schedule timeline";
  } else {
    CYCLR_ASSIGN_OR_RETURN(ScheduleSpec spec, o.spec_flags.Resolve());
    CYCLR_ASSIGN_OR_RETURN(Schedule schedule, Schedule::Create(spec));
    points = Evaluate(schedule, o.start_step, o.steps);
    title = SpecToString(spec);
  }
  if (!o.plot.empty()) {
    if (points.empty()) return Status::FailedPrecondition("the preview has no points to plot");
    CYCLR_RETURN_IF_ERROR(WritePlot(o.plot, points, title));
  }
  *ctx.out << FormatPreview(points, format);
  return Status::Ok();
}

}  // namespace

void AddPreviewCommand(CLI::App* schedule, CommandContext* ctx) {
  auto o = std::make_shared<PreviewOptions>();
  CLI::App* preview = schedule->add_subcommand(
      "preview", "LR (and momentum) per step of SPEC, computed here without a coordinator; "
                 "or of a running job's timeline with --job");
  preview->add_option("--steps", o->steps, "number of steps to print")->required();
  preview->add_option("--start-step", o->start_step, "first step (steps count from 0)")
      ->capture_default_str();
  preview->add_option("--format", o->format, "csv | table | json")->capture_default_str();
  preview->add_option("--plot", o->plot, "also write an SVG chart to this file");
  preview->add_option("--job", o->job, "preview this job's timeline (asks the coordinator)");
  o->spec_flags.AddTo(preview);
  preview->callback([ctx, o] { ctx->action = [ctx, o] { return Preview(*ctx, *o); }; });
}

}  // namespace cyclr::client
