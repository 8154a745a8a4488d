#include "worker/train/worker_options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "core/host_port.h"
#include "core/job_name.h"
#include "core/limits.h"
#include "core/npy_dataset_files.h"

namespace cyclr {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status Between(const std::string& field, int64_t value, int64_t lo, int64_t hi,
               const std::string& why = "") {
  if (value >= lo && value <= hi) return Status::Ok();
  return Status::InvalidArgument(field + " (" + std::to_string(value) + ") must be between " +
                                 std::to_string(lo) + " and " + std::to_string(hi) + why);
}

Status CheckThreads(const std::string& field, int64_t threads, int cores) {
  const int64_t hi = int64_t{cores} * limits::kMaxThreadsPerCore;
  return Between(field, threads, 0, hi,
                 " (" + std::to_string(cores) + " cores × " +
                     std::to_string(limits::kMaxThreadsPerCore) + "; 0 = automatic)");
}

Status CheckPath(const std::string& field, const std::string& path) {
  if (path.size() <= limits::kMaxPathBytes) return Status::Ok();
  return Status::InvalidArgument(field + " (" + limits::Echo(path) + ") must be at most " +
                                 std::to_string(limits::kMaxPathBytes) + " bytes");
}

Status CheckCounts(const v1::JobSpec& s, int cores) {
  CYCLR_RETURN_IF_ERROR(CheckThreads("threads", s.threads(), cores));
  CYCLR_RETURN_IF_ERROR(Between("epochs", s.epochs(), 1, limits::kMaxEpochs));
  CYCLR_RETURN_IF_ERROR(Between("batch_size", s.batch_size(), 1, INT32_MAX));
  // A file is clipped to its own size; synthetic data is made at the size asked for.
  const int64_t max_examples =
      s.dataset() == "synthetic" ? limits::kMaxSyntheticExamples : INT64_MAX;
  const std::string why = s.dataset() == "synthetic" ? " for the synthetic dataset" : "";
  CYCLR_RETURN_IF_ERROR(Between("train_limit", s.train_limit(), 0, max_examples, why));
  CYCLR_RETURN_IF_ERROR(Between("test_limit", s.test_limit(), 0, max_examples, why));
  CYCLR_RETURN_IF_ERROR(Between("checkpoint_every", s.checkpoint_every(), 0, limits::kMaxStep));
  CYCLR_RETURN_IF_ERROR(Between("checkpoint_keep", s.checkpoint_keep(), 0, INT32_MAX));
  return Status::Ok();
}

// Real-valued fields: finite and in their range (0 = the default, where the proto says so).
Status CheckFactors(const v1::JobSpec& s) {
  if (s.has_momentum() && !(s.momentum() >= 0.0 && s.momentum() < 1.0)) {
    return Status::InvalidArgument("momentum (" + Num(s.momentum()) + ") must be in [0, 1)");
  }
  if (!(s.weight_decay() >= 0.0 && std::isfinite(s.weight_decay()))) {
    return Status::InvalidArgument("weight_decay (" + Num(s.weight_decay()) +
                                   ") must be finite and >= 0");
  }
  if (!(s.bucket_mb() >= 0.0 && s.bucket_mb() <= 1024.0)) {
    return Status::InvalidArgument("bucket_mb (" + Num(s.bucket_mb()) +
                                   ") must be in (0, 1024] (or 0 for the default)");
  }
  if (s.divergence_factor() != 0.0 &&
      !(s.divergence_factor() > 1.0 && std::isfinite(s.divergence_factor()))) {
    return Status::InvalidArgument("divergence_factor (" + Num(s.divergence_factor()) +
                                   ") must be finite and > 1 (or 0 for the default)");
  }
  if (s.rollback_lr_factor() != 0.0 &&
      !(s.rollback_lr_factor() > 0.0 && s.rollback_lr_factor() < 1.0)) {
    return Status::InvalidArgument("rollback_lr_factor (" + Num(s.rollback_lr_factor()) +
                                   ") must be in (0, 1) (or 0 for the default)");
  }
  return Status::Ok();
}

// strtol into [lo, hi]; nullopt for anything else.
std::optional<int> ParseInt(const char* text, int lo, int hi) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || v < lo || v > hi) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

int CoreCount() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

StatusOr<int> EnvInt(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  std::optional<int> x = ParseInt(v, lo, hi);
  if (!x) {
    return Status::InvalidArgument("$" + std::string(name) + " (" + limits::Echo(v) +
                                   ") must be an integer between " + std::to_string(lo) + " and " +
                                   std::to_string(hi));
  }
  return *x;
}

int EnvIntOr(const char* name, int fallback, int lo, int hi) {
  StatusOr<int> v = EnvInt(name, fallback, lo, hi);
  return v.ok() ? *v : fallback;
}

Status RankFromEnvironment(WorkerRunnerOptions* o) {
  const int max_rank = limits::kMaxWorkersPerJob - 1;
  // RANK wins over SLURM_PROCID (torchrun inside a Slurm allocation), as before: the Slurm
  // variable is read, and checked, only when RANK is unset.
  if (o->rank < 0) {
    CYCLR_ASSIGN_OR_RETURN(o->rank, EnvInt("RANK", -1, 0, max_rank));
  }
  if (o->rank < 0) {
    CYCLR_ASSIGN_OR_RETURN(o->rank, EnvInt("SLURM_PROCID", -1, 0, max_rank));
  }
  if (o->world_size < 0) {
    CYCLR_ASSIGN_OR_RETURN(o->world_size, EnvInt("WORLD_SIZE", -1, 1, limits::kMaxWorkersPerJob));
  }
  if (o->world_size < 0) {
    CYCLR_ASSIGN_OR_RETURN(o->world_size, EnvInt("SLURM_NTASKS", -1, 1, limits::kMaxWorkersPerJob));
  }
  return Status::Ok();
}

Status CheckWorkerOptions(const WorkerRunnerOptions& o, int cores) {
  const std::string unset = " (or -1: from the environment or the coordinator)";
  CYCLR_RETURN_IF_ERROR(Between("--rank", o.rank, -1, limits::kMaxWorkersPerJob - 1, unset));
  if (o.world_size != -1) {
    CYCLR_RETURN_IF_ERROR(Between("--world-size", o.world_size, 1, limits::kMaxWorkersPerJob));
  }
  if (o.rank >= 0 && o.world_size > 0 && o.rank >= o.world_size) {
    return Status::InvalidArgument("--rank (" + std::to_string(o.rank) +
                                   ") must be less than --world-size (" +
                                   std::to_string(o.world_size) + ")");
  }
  CYCLR_RETURN_IF_ERROR(CheckThreads("--threads", o.threads, cores));
  CYCLR_RETURN_IF_ERROR(CheckPath("--log-dir", o.log_dir));
  CYCLR_RETURN_IF_ERROR(CheckPath("--standalone", o.standalone_spec));
  CYCLR_RETURN_IF_ERROR(CheckPath("--rendezvous-dir", o.rendezvous_dir));
  if (!o.standalone_spec.empty()) return Status::Ok();
  if (o.job.empty()) return Status::InvalidArgument("--job is required");
  CYCLR_RETURN_IF_ERROR(CheckJobName(o.job, "--job"));
  return ParseHostPort(o.coordinator, "--coordinator").status();
}

Status CheckJobSpecForWorker(const v1::JobSpec& spec, int cores) {
  CYCLR_RETURN_IF_ERROR(CheckCounts(spec, cores));
  CYCLR_RETURN_IF_ERROR(CheckFactors(spec));
  CYCLR_RETURN_IF_ERROR(CheckPath("data_dir", spec.data_dir()));
  CYCLR_RETURN_IF_ERROR(CheckPath("checkpoint_dir", spec.checkpoint_dir()));
  CYCLR_RETURN_IF_ERROR(CheckPath("model_file", spec.model_file()));
  CYCLR_RETURN_IF_ERROR(CheckPath("output_dir", spec.output_dir()));
  if (!spec.loss().empty() && spec.loss() != "cross-entropy" && spec.loss() != "mse") {
    return Status::InvalidArgument("loss (" + limits::Echo(spec.loss()) +
                                   ") must be cross-entropy or mse");
  }
  if (!spec.normalize().empty()) {
    double mean = 0, std = 1;
    CYCLR_RETURN_IF_ERROR(ParseNormalize(spec.normalize(), "normalize", &mean, &std));
  }
  CYCLR_RETURN_IF_ERROR(CheckPath("init_from", spec.init_from()));
  return CheckPath("resume_from", spec.resume_from());
}

int WorkerThreads(int flag_threads, const v1::JobSpec& spec, int world_size, int cores) {
  if (flag_threads > 0) return flag_threads;
  if (spec.threads() > 0) return spec.threads();
  const int by_slurm = EnvIntOr("SLURM_NTASKS_PER_NODE", world_size, 1, limits::kMaxWorkersPerJob);
  const int local = EnvIntOr("LOCAL_WORLD_SIZE", by_slurm, 1, limits::kMaxWorkersPerJob);
  return std::max(1, cores / std::max(1, local));
}

Status CheckTotalSteps(int64_t epochs, int64_t steps_per_epoch) {
  // Division, not multiplication: the product of two unchecked values may overflow.
  if (epochs >= 0 && epochs <= limits::kMaxStep / std::max<int64_t>(1, steps_per_epoch)) {
    return Status::Ok();
  }
  return Status::InvalidArgument("epochs (" + std::to_string(epochs) + ") × steps per epoch (" +
                                 std::to_string(steps_per_epoch) + ") must be at most " +
                                 std::to_string(limits::kMaxStep) + " steps (2^40)");
}

}  // namespace cyclr
