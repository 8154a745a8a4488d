// launch: a job from flags and/or a job file, optionally followed to its end.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <memory>

#include "client/cluster_flags.h"
#include "client/commands/commands.h"
#include "client/job_file.h"
#include "client/option_flags.h"
#include "client/probe_report.h"
#include "client/progress_printer.h"
#include "client/spec_flags.h"
#include "proto/authorized_channel.h"

namespace cyclr::client {
namespace {

struct LaunchOptions {
  LaunchOptions() : job_flags(JobOptionNames(), JobBoolOptionNames(), JobOptionHelp(), "Job") {}
  std::string job_file;
  bool follow = false;
  std::string lr_from;
  std::string worker_token_file;
  LrSuggestionOptions suggest;
  OptionFlags job_flags;
  SpecFlags spec_flags;
  ClusterFlags cluster_flags;
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
  for (const char* name :
       {"data_dir", "checkpoint_dir", "resume_from", "init_from", "model_file", "output_dir"}) {
    const auto* f = d->FindFieldByName(name);
    const std::string value = r->GetString(*spec, f);
    if (value.empty() || value[0] == '/') continue;
    std::error_code ec;
    const auto abs = std::filesystem::absolute(value, ec);
    if (!ec) r->SetString(spec, f, abs.lexically_normal().string());
  }
}

int IntOr(const OptionMap& m, const char* key, int fallback) {
  auto it = m.find(key);
  if (it == m.end()) return fallback;
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    return fallback;  // BuildJobSpec reports the bad value
  }
}

// --lr-from PROBE: the probe's suggested bounds under the job file's schedule, the flags above
// both (policy triangular2 unless one is given); step_size_up for this job's workers and batch.
StatusOr<OptionMap> BoundsFromProbe(const CommandContext& ctx, const LaunchOptions& o,
                                    const OptionMap& job, const OptionMap& file_schedule) {
  CoordinatorClient client = ctx.Client();
  CYCLR_ASSIGN_OR_RETURN(ProbeReport probe, ReadProbe(client, o.lr_from, o.suggest));
  LrSuggestions s = probe.suggestions;
  const int64_t spe =
      StepsPerEpoch(probe.train_examples, IntOr(job, "workers", probe.job.spec().workers()),
                    IntOr(job, "batch_size", probe.job.spec().batch_size()));
  s.step_size_up =
      spe > 0 ? std::max<int64_t>(1, std::llround(o.suggest.half_cycle_epochs * spe)) : 0;
  CYCLR_ASSIGN_OR_RETURN(OptionMap given, o.spec_flags.Options(file_schedule));
  const std::string policy = given.count("policy") ? given["policy"] : "triangular2";
  CYCLR_ASSIGN_OR_RETURN(OptionMap bounds, LrFromOptions(policy, s));
  bounds["policy"] = policy;
  *ctx.err << "cyclrctl: bounds from probe " << o.lr_from << ":";
  for (const auto& [k, v] : bounds) *ctx.err << " " << k << " " << v;
  *ctx.err << "\n" << std::flush;
  return Merge(bounds, file_schedule);
}

// An external job's worker credential: the file's when it exists (chosen by the operator, e.g.
// a Kubernetes Secret mounted in the workers too), else "" (the coordinator makes one).
StatusOr<std::string> ChosenWorkerToken(const v1::JobSpec& spec, const std::string& file) {
  if (file.empty()) return std::string();
  if (spec.launcher() != "external") {
    return Status::InvalidArgument(
        "--worker-token-file is for --launcher external (local workers get theirs from the "
        "coordinator)");
  }
  if (::access(file.c_str(), F_OK) != 0) return std::string();
  return ReadTokenFile(file, "--worker-token-file");
}

// The credential the coordinator made: into the file (created 0600, never overwritten), or, with
// no file, on stderr once.
Status HandOverWorkerToken(const CommandContext& ctx, const std::string& file, const v1::Job& job) {
  if (job.worker_token().empty()) return Status::Ok();
  if (file.empty()) {
    *ctx.err << "cyclrctl: worker credential of job " << job.name() << ": " << job.worker_token()
             << " (its workers need it as CYCLR_WORKER_TOKEN; it is not shown again)\n";
    return Status::Ok();
  }
  if (::access(file.c_str(), F_OK) == 0) return Status::Ok();  // the operator's own
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const std::string line = job.worker_token() + "\n";
  const bool ok =
      fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0) ::close(fd);
  if (!ok) return Status::Unavailable("cannot write --worker-token-file " + file);
  return Status::Ok();
}

Status Launch(const CommandContext& ctx, const LaunchOptions& o) {
  JobFile file;
  if (!o.job_file.empty()) {
    CYCLR_ASSIGN_OR_RETURN(file, LoadJobFile(o.job_file));
  }
  CYCLR_ASSIGN_OR_RETURN(OptionMap job,
                         o.cluster_flags.Apply(Merge(file.job, o.job_flags.Given())));
  OptionMap schedule_base = file.schedule;
  if (!o.lr_from.empty()) {
    CYCLR_ASSIGN_OR_RETURN(schedule_base, BoundsFromProbe(ctx, o, job, file.schedule));
  }
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec schedule, o.spec_flags.Resolve(schedule_base));
  CYCLR_ASSIGN_OR_RETURN(v1::JobSpec spec, BuildJobSpec(job, schedule, {"name"}));
  AbsolutePaths(&spec);
  CYCLR_ASSIGN_OR_RETURN(std::string chosen, ChosenWorkerToken(spec, o.worker_token_file));
  CYCLR_ASSIGN_OR_RETURN(v1::Job launched, ctx.Client().LaunchJob(spec, chosen));
  *ctx.out << launched.name() << "\n" << std::flush;
  CYCLR_RETURN_IF_ERROR(HandOverWorkerToken(ctx, o.worker_token_file, launched));
  if (launched.state() == v1::FAILED) {  // e.g. sbatch refused: its words are the reason
    return Status::FailedPrecondition("job " + launched.name() +
                                      " FAILED at launch: " + launched.reason());
  }
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
  launch->add_option("--worker-token-file", o->worker_token_file,
                     "--launcher external: the workers' credential; read from this file when it "
                     "exists (yours), else the coordinator's is written to it (0600)");
  launch->add_option("--lr-from", o->lr_from,
                     "take the schedule's bounds from a finished LR range test (cyclrctl "
                     "lr-find): Smith's base_lr/max_lr, step_size_up = --half-cycle-epochs "
                     "epochs; flags and the job file override them");
  launch
      ->add_option("--half-cycle-epochs", o->suggest.half_cycle_epochs,
                   "--lr-from: step_size_up in epochs (Smith: 2-10)")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  launch
      ->add_option("--base-divisor", o->suggest.base_divisor,
                   "--lr-from: base_lr = max_lr / this (3-4 for a cycle, 10-20 one-cycle)")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  o->job_flags.AddTo(launch);
  o->spec_flags.AddTo(launch);
  o->cluster_flags.AddTo(launch);
  launch->callback([ctx, o] { ctx->action = [ctx, o] { return Launch(*ctx, *o); }; });
}

}  // namespace cyclr::client
