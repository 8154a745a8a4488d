// launch: a job from flags and/or a job file, optionally followed to its end.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>

#include "client/commands/commands.h"
#include "client/job_file.h"
#include "client/option_flags.h"
#include "client/progress_printer.h"
#include "client/spec_flags.h"

namespace cyclr::client {
namespace {

std::map<std::string, std::string> JobHelp() {
  return {
      {"name", "job name: [a-z0-9][a-z0-9-]{0,62}"},
      {"workers", "number of worker processes (world size)"},
      {"model", "mlp | cnn (a built-in model; or give model_file)"},
      {"model_file", "your TorchScript model: torch.jit.script(model).save(path)"},
      {"model_sha256", "the model file's SHA-256 (recorded at launch when not given)"},
      {"loss", "cross-entropy (default, classification) | mse (regression)"},
      {"dataset", "fashion-mnist | synthetic | npy (data_dir/train_x.npy, train_y.npy, test_*)"},
      {"data_dir", "dataset folder (default /usr/share/datasets/fashion-mnist)"},
      {"normalize", "MEAN,STD for npy inputs (uint8 inputs are scaled to [0, 1] first)"},
      {"output_dir", "rank 0 writes the trained model_file module here as model.pt"},
      {"train_limit", "use only the first K training samples (0 = all)"},
      {"test_limit", "use only the first K test samples (0 = all)"},
      {"epochs", "passes over the training set"},
      {"batch_size", "samples per step per worker"},
      {"optimizer", "sgd | adamw"},
      {"momentum", "SGD momentum / AdamW beta1 when the schedule does not cycle it"},
      {"weight_decay", "L2 penalty"},
      {"nesterov", "Nesterov momentum (SGD)"},
      {"seed", "random seed"},
      {"backend", "gloo | nccl"},
      {"bucket_mb", "gradient bucket size in MB"},
      {"threads", "intra-op threads per worker (0 = cores / workers)"},
      {"launcher", "local | external"},
      {"checkpoint_dir", "folder for checkpoints (none if empty)"},
      {"checkpoint_every", "steps between checkpoints (0 = only at the end)"},
      {"checkpoint_keep", "newest N checkpoints kept (0 = 3)"},
      {"resume_from", "a checkpoint file to start from"},
      {"max_restarts", "worker-group restarts before the job fails"},
      {"divergence_policy", "fail | rollback (to the last checkpoint, with a lowered peak LR)"},
      {"divergence_factor", "loss above factor x its running minimum diverges (0 = 10)"},
      {"rollback_lr_factor", "rollback multiplies max_lr by this (0 = 0.5)"},
  };
}

struct LaunchOptions {
  LaunchOptions() : job_flags(JobOptionNames(), JobBoolOptionNames(), JobHelp(), "Job") {}
  std::string job_file;
  bool follow = false;
  OptionFlags job_flags;
  SpecFlags spec_flags;
};

Status Follow(const CommandContext& ctx, const std::string& name) {
  ProgressPrinter printer(*ctx.out, ctx.follow_interval);
  auto observe = [&](const v1::Job& job) {
    printer.Observe(job, std::chrono::steady_clock::now());
  };
  auto reconnect = [&](const Status& why) {
    *ctx.err << "cyclrctl: " << why.message() << "; reconnecting\n" << std::flush;
  };
  CYCLR_ASSIGN_OR_RETURN(v1::Job last, ctx.Client().WatchJob(name, observe, reconnect));
  printer.Finish(last);
  if (last.state() == v1::SUCCEEDED) return Status::Ok();
  return Status::Aborted("job " + name + " ended " + v1::JobState_Name(last.state()) +
                         (last.reason().empty() ? "" : ": " + last.reason()));
}

// The coordinator and the workers resolve paths from their own folders; a path the user typed
// relative to where they ran cyclrctl means that folder, so it is made absolute here.
void AbsolutePaths(v1::JobSpec* spec) {
  const auto* d = v1::JobSpec::descriptor();
  const auto* r = spec->GetReflection();
  for (const char* name : {"data_dir", "checkpoint_dir", "resume_from", "model_file", "output_dir"}) {
    const auto* f = d->FindFieldByName(name);
    const std::string value = r->GetString(*spec, f);
    if (value.empty() || value[0] == '/') continue;
    std::error_code ec;
    const auto abs = std::filesystem::absolute(value, ec);
    if (!ec) r->SetString(spec, f, abs.lexically_normal().string());
  }
}

Status Launch(const CommandContext& ctx, const LaunchOptions& o) {
  JobFile file;
  if (!o.job_file.empty()) {
    CYCLR_ASSIGN_OR_RETURN(file, LoadJobFile(o.job_file));
  }
  OptionMap job = Merge(file.job, o.job_flags.Given());
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec schedule, o.spec_flags.Resolve(file.schedule));
  CYCLR_ASSIGN_OR_RETURN(v1::JobSpec spec, BuildJobSpec(job, schedule, {"name"}));
  AbsolutePaths(&spec);
  CYCLR_ASSIGN_OR_RETURN(v1::Job launched, ctx.Client().LaunchJob(spec));
  *ctx.out << launched.name() << "\n" << std::flush;
  if (!o.follow) return Status::Ok();
  return Follow(ctx, launched.name());
}

}  // namespace

void AddLaunchCommand(CLI::App* app, CommandContext* ctx) {
  auto o = std::make_shared<LaunchOptions>();
  CLI::App* launch = app->add_subcommand(
      "launch", "start a training job; prints its name (flags override the job file)");
  launch->add_option("-f,--file", o->job_file,
                     "job file (YAML or JSON): JobSpec fields in snake_case, the schedule in a "
                     "nested schedule: map");
  launch->add_flag("--follow", o->follow,
                   "stream progress until the job ends; exit 0 only if it SUCCEEDED");
  o->job_flags.AddTo(launch);
  o->spec_flags.AddTo(launch);
  launch->callback([ctx, o] { ctx->action = [ctx, o] { return Launch(*ctx, *o); }; });
}

}  // namespace cyclr::client
