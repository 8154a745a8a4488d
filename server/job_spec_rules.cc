#include "server/job_spec_rules.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "core/limits.h"
#include "core/npy_dataset_files.h"
#include "proto/proto_convert.h"
#include "server/kubernetes_manifest.h"
#include "server/slurm_script.h"

namespace cyclr {
namespace {

std::string Num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

Status OneOf(const char* field, const std::string& value, const std::vector<std::string>& ok) {
  for (const auto& o : ok) {
    if (value == o) return Status::Ok();
  }
  std::string list;
  for (const auto& o : ok) list += (list.empty() ? "" : ", ") + (o.empty() ? "\"\"" : o);
  return Status::InvalidArgument(std::string(field) + " (" + limits::Echo(value) +
                                 ") must be one of: " + list);
}

Status AtLeast(const char* field, int64_t value, int64_t min) {
  if (value >= min) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " (" + std::to_string(value) +
                                 ") must be >= " + std::to_string(min));
}

// min <= value <= max; the message gives the lower bound alone when only that is broken, so the
// long-standing "must be >= 1" wording stays.
Status Within(const char* field, int64_t value, int64_t min, int64_t max) {
  CYCLR_RETURN_IF_ERROR(AtLeast(field, value, min));
  if (value <= max) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " (" + std::to_string(value) +
                                 ") must be <= " + std::to_string(max));
}

Status MaxBytes(const char* field, const std::string& value, size_t max) {
  if (value.size() <= max) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " (" + limits::Echo(value) +
                                 ") must be at most " + std::to_string(max) + " bytes");
}

// Text fields: paths up to PATH_MAX; the enum-like ones are checked by OneOf.
Status CheckTexts(const v1::JobSpec& s) {
  CYCLR_RETURN_IF_ERROR(MaxBytes("data_dir", s.data_dir(), limits::kMaxPathBytes));
  CYCLR_RETURN_IF_ERROR(MaxBytes("checkpoint_dir", s.checkpoint_dir(), limits::kMaxPathBytes));
  CYCLR_RETURN_IF_ERROR(MaxBytes("resume_from", s.resume_from(), limits::kMaxPathBytes));
  CYCLR_RETURN_IF_ERROR(MaxBytes("init_from", s.init_from(), limits::kMaxPathBytes));
  if (!s.init_from().empty() && !s.resume_from().empty()) {
    return Status::InvalidArgument(
        "init_from and resume_from are exclusive: resume_from continues a run, init_from starts "
        "one from a checkpoint's weights");
  }
  CYCLR_RETURN_IF_ERROR(MaxBytes("model_file", s.model_file(), limits::kMaxPathBytes));
  CYCLR_RETURN_IF_ERROR(MaxBytes("output_dir", s.output_dir(), limits::kMaxPathBytes));
  return Status::Ok();
}

void FillDefaults(v1::JobSpec* s) {
  if (s->optimizer().empty()) s->set_optimizer("sgd");
  if (s->launcher().empty()) s->set_launcher("local");
  if (s->data_dir().empty() && s->dataset() != "npy") s->set_data_dir(kDefaultDataDir);
  if (s->loss().empty()) s->set_loss("cross-entropy");
  if (!s->has_momentum()) s->set_momentum(kDefaultMomentum);
  if (s->bucket_mb() == 0.0) s->set_bucket_mb(kDefaultBucketMb);
  if (s->seed() == 0) s->set_seed(1);
  if (s->divergence_policy().empty()) s->set_divergence_policy("fail");
}

Status CheckNumbers(const v1::JobSpec& s) {
  if (s.workers() < 1 || s.workers() > kMaxWorkers) {
    return Status::InvalidArgument("workers (" + std::to_string(s.workers()) +
                                   ") must be between 1 and " + std::to_string(kMaxWorkers));
  }
  CYCLR_RETURN_IF_ERROR(Within("epochs", s.epochs(), 1, limits::kMaxEpochs));
  CYCLR_RETURN_IF_ERROR(Within("batch_size", s.batch_size(), 1, limits::kMaxBatchSize));
  CYCLR_RETURN_IF_ERROR(Within("train_limit", s.train_limit(), 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(Within("test_limit", s.test_limit(), 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(Within("threads", s.threads(), 0, limits::kMaxThreads));
  if (!(s.momentum() >= 0.0 && s.momentum() < 1.0)) {
    return Status::InvalidArgument("momentum (" + Num(s.momentum()) + ") must be in [0, 1)");
  }
  if (!(s.weight_decay() >= 0.0 && std::isfinite(s.weight_decay()))) {
    return Status::InvalidArgument("weight_decay (" + Num(s.weight_decay()) +
                                   ") must be finite and >= 0");
  }
  if (!(s.bucket_mb() > 0.0 && s.bucket_mb() <= 1024.0)) {
    return Status::InvalidArgument("bucket_mb (" + Num(s.bucket_mb()) +
                                   ") must be > 0 and <= 1024");
  }
  return Status::Ok();
}

// Fault-tolerance fields: 0 means "the worker's default" for the counts and factors.
Status CheckFaultTolerance(const v1::JobSpec& s) {
  CYCLR_RETURN_IF_ERROR(Within("checkpoint_every", s.checkpoint_every(), 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(Within("max_steps", s.max_steps(), 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(
      Within("checkpoint_keep", s.checkpoint_keep(), 0, limits::kMaxCheckpointKeep));
  CYCLR_RETURN_IF_ERROR(Within("max_restarts", s.max_restarts(), 0, limits::kMaxRestarts));
  CYCLR_RETURN_IF_ERROR(OneOf("divergence_policy", s.divergence_policy(), {"fail", "rollback"}));
  if (s.divergence_policy() == "rollback" && s.checkpoint_dir().empty()) {
    return Status::InvalidArgument(
        "divergence_policy (\"rollback\") needs checkpoint_dir: it rolls back to a checkpoint");
  }
  if (s.divergence_factor() != 0.0 &&
      !(s.divergence_factor() > 1.0 && std::isfinite(s.divergence_factor()))) {
    return Status::InvalidArgument("divergence_factor (" + Num(s.divergence_factor()) +
                                   ") must be > 1 and finite (or 0 for the default 10)");
  }
  if (s.rollback_lr_factor() != 0.0 &&
      !(s.rollback_lr_factor() > 0.0 && s.rollback_lr_factor() < 1.0)) {
    return Status::InvalidArgument("rollback_lr_factor (" + Num(s.rollback_lr_factor()) +
                                   ") must be in (0, 1) (or 0 for the default 0.5)");
  }
  return Status::Ok();
}

bool IsHexDigest(const std::string& d) {
  if (d.size() != 64) return false;
  for (char c : d) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The model, the data and the loss: a built-in model or the user's TorchScript file; built-in
// datasets are classification, so mse needs the user's model and npy data.
Status CheckModelAndData(const v1::JobSpec& s) {
  if (s.model_file().empty()) {
    CYCLR_RETURN_IF_ERROR(OneOf("model", s.model(), {"mlp", "cnn"}));
  } else if (!s.model().empty()) {
    return Status::InvalidArgument("model (" + limits::Echo(s.model()) +
                                   ") and model_file are exclusive: give one");
  }
  if (!s.model_sha256().empty() && !IsHexDigest(s.model_sha256())) {
    return Status::InvalidArgument("model_sha256 (" + limits::Echo(s.model_sha256()) +
                                   ") must be 64 lowercase hex digits (sha256sum's output)");
  }
  if (!s.model_sha256().empty() && s.model_file().empty()) {
    return Status::InvalidArgument("model_sha256 is only meaningful with model_file");
  }
  CYCLR_RETURN_IF_ERROR(OneOf("dataset", s.dataset(), {"fashion-mnist", "synthetic", "npy"}));
  CYCLR_RETURN_IF_ERROR(OneOf("loss", s.loss(), {"cross-entropy", "mse"}));
  if (s.loss() == "mse" && (s.dataset() != "npy" || s.model_file().empty())) {
    return Status::InvalidArgument(
        "loss (\"mse\") needs dataset npy with float targets and a model_file: the built-in "
        "models and datasets are classification");
  }
  if (s.dataset() == "npy" && s.data_dir().empty()) {
    return Status::InvalidArgument(
        "data_dir is required for dataset npy (a folder with "
        "train_x.npy and train_y.npy)");
  }
  if (!s.normalize().empty()) {
    if (s.dataset() != "npy") {
      return Status::InvalidArgument(
          "normalize applies to dataset npy only (the built-in "
          "datasets are normalised already)");
    }
    double mean = 0, std = 1;
    CYCLR_RETURN_IF_ERROR(ParseNormalize(s.normalize(), "normalize", &mean, &std));
  }
  return Status::Ok();
}

// The launcher, and the options of a cluster scheduler (only with that scheduler).
Status CheckLauncher(const v1::JobSpec& s) {
  CYCLR_RETURN_IF_ERROR(
      OneOf("launcher", s.launcher(), {"local", "external", "slurm", "kubernetes"}));
  if (s.has_slurm() && s.launcher() != "slurm") {
    return Status::InvalidArgument("slurm options are for launcher slurm, not " + s.launcher());
  }
  if (s.has_kubernetes() && s.launcher() != "kubernetes") {
    return Status::InvalidArgument("kubernetes options are for launcher kubernetes, not " +
                                   s.launcher());
  }
  CYCLR_RETURN_IF_ERROR(CheckSlurmOptions(s.slurm()));
  return CheckKubernetesOptions(s.kubernetes());
}

}  // namespace

bool IsValidJobName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(i > 0 && c == '-')) return false;
  }
  return true;
}

Status NormalizeJobSpec(v1::JobSpec* s) {
  // Fields this coordinator does not know (a newer or hostile client's) would be stored and sent
  // back with every GetJob and ListJobs, unbounded by any rule below.
  s->DiscardUnknownFields();
  FillDefaults(s);
  if (!IsValidJobName(s->name())) {
    return Status::InvalidArgument("name (" + limits::Echo(s->name()) +
                                   ") must match [a-z0-9][a-z0-9-]{0,62}");
  }
  CYCLR_RETURN_IF_ERROR(CheckNumbers(*s));
  CYCLR_RETURN_IF_ERROR(CheckTexts(*s));
  CYCLR_RETURN_IF_ERROR(CheckModelAndData(*s));
  CYCLR_RETURN_IF_ERROR(OneOf("optimizer", s->optimizer(), {"sgd", "adamw"}));
  CYCLR_RETURN_IF_ERROR(OneOf("backend", s->backend(), {"", "gloo", "nccl"}));
  CYCLR_RETURN_IF_ERROR(CheckLauncher(*s));
  CYCLR_RETURN_IF_ERROR(CheckFaultTolerance(*s));
  if (!s->has_schedule()) return Status::InvalidArgument("schedule is required");
  StatusOr<ScheduleSpec> spec = FromProto(s->schedule());
  if (!spec.ok()) return spec.status().WithContext("schedule");
  // A range test records one curve point per step of its ramp, and the stored curve is bounded.
  if (spec->policy == Policy::kRangeTest &&
      spec->total_steps.value_or(0) > limits::kMaxCurvePoints) {
    return Status::InvalidArgument("schedule.total_steps (" + std::to_string(*spec->total_steps) +
                                   ") of a range-test job must be at most " +
                                   std::to_string(limits::kMaxCurvePoints) +
                                   " (one loss-curve point per step is kept)");
  }
  // A probe trains a throwaway model: it must leave nothing a later job would resume from or
  // take as its result, and starts from the step its ramp starts at.
  if (spec->policy == Policy::kRangeTest) {
    for (const auto& [field, value] :
         {std::pair<const char*, const std::string*>{"checkpoint_dir", &s->checkpoint_dir()},
          {"resume_from", &s->resume_from()},
          {"output_dir", &s->output_dir()}}) {
      if (!value->empty()) {
        return Status::InvalidArgument(std::string(field) +
                                       " must be empty for a range-test job: a probe trains a "
                                       "throwaway copy and leaves no model behind");
      }
    }
  }
  // Store the schedule in its canonical form (the one core round-trips).
  *s->mutable_schedule() = ToProto(*spec);
  return Status::Ok();
}

}  // namespace cyclr
