#include "client/job_file.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <google/protobuf/descriptor.h>

#include "client/job_field_rules.h"
#include "core/limits.h"
#include "proto/proto_convert.h"

namespace cyclr::client {
namespace {

using google::protobuf::FieldDescriptor;

constexpr char kScheduleField[] = "schedule";

Status NotA(const std::string& name, const std::string& text, const std::string& what) {
  return Status::InvalidArgument(name + " " + limits::Echo(text) + " is not " + what);
}

// An integer in the field's range (job_field_rules.h) within [lo, hi], its proto type's range.
StatusOr<long long> ParseInteger(const std::string& name, const std::string& text, long long lo,
                                 long long hi) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) return NotA(name, text, "an integer");
  const IntRange range = JobIntRange(name, {lo, hi});
  if (v < range.lo || v > range.hi) {
    return Status::InvalidArgument(name + " (" + std::to_string(v) + ") must be in [" +
                                   std::to_string(range.lo) + ", " + std::to_string(range.hi) +
                                   "]");
  }
  return v;
}

StatusOr<double> ParseDouble(const std::string& name, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
    return NotA(name, text, "a finite number");
  }
  return v;
}

StatusOr<bool> ParseBool(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return NotA(name, text, "a boolean; expected true, false, 1 or 0");
}

// Sets one scalar field of `spec` from text, by the field's type.
Status SetField(v1::JobSpec* spec, const FieldDescriptor* f, const std::string& text) {
  const auto* r = spec->GetReflection();
  const std::string& name = f->name();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      CYCLR_RETURN_IF_ERROR(CheckJobString(name, text));
      r->SetString(spec, f, text);
      return Status::Ok();
    case FieldDescriptor::CPPTYPE_INT32: {
      CYCLR_ASSIGN_OR_RETURN(long long v, ParseInteger(name, text, std::numeric_limits<int32_t>::min(),
                                                       std::numeric_limits<int32_t>::max()));
      r->SetInt32(spec, f, static_cast<int32_t>(v));
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      CYCLR_ASSIGN_OR_RETURN(long long v, ParseInteger(name, text, std::numeric_limits<int64_t>::min(),
                                                       std::numeric_limits<int64_t>::max()));
      r->SetInt64(spec, f, v);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      CYCLR_ASSIGN_OR_RETURN(long long v,
                             ParseInteger(name, text, 0, std::numeric_limits<int64_t>::max()));
      r->SetUInt64(spec, f, static_cast<uint64_t>(v));
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      CYCLR_ASSIGN_OR_RETURN(double v, ParseDouble(name, text));
      CYCLR_RETURN_IF_ERROR(CheckJobDouble(name, v));
      r->SetDouble(spec, f, v);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      CYCLR_ASSIGN_OR_RETURN(bool v, ParseBool(name, text));
      r->SetBool(spec, f, v);
      return Status::Ok();
    }
    default:
      return Status::Internal("job field " + name + " has a type the CLI cannot set");
  }
}

}  // namespace

const std::map<std::string, std::string>& JobOptionHelp() {
  static const std::map<std::string, std::string> help = {
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
      {"resume_from", "a checkpoint file to continue from (its step, optimizer and data position)"},
      {"init_from", "a checkpoint whose model weights start a new run (not with resume_from)"},
      {"max_restarts", "worker-group restarts before the job fails"},
      {"divergence_policy", "fail | rollback (to the last checkpoint, with a lowered peak LR)"},
      {"divergence_factor", "loss above factor x its running minimum diverges (0 = 10)"},
      {"rollback_lr_factor", "rollback multiplies max_lr by this (0 = 0.5)"},
      {"max_steps", "end the job after this many steps (0 = the epochs decide)"},
  };
  return help;
}

const std::vector<std::string>& JobOptionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    const auto* d = v1::JobSpec::descriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->name() != kScheduleField) out.push_back(d->field(i)->name());
    }
    return out;
  }();
  return names;
}

const std::set<std::string>& JobBoolOptionNames() {
  static const std::set<std::string> names = [] {
    std::set<std::string> out;
    const auto* d = v1::JobSpec::descriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) out.insert(d->field(i)->name());
    }
    return out;
  }();
  return names;
}

StatusOr<JobFile> LoadJobFile(const std::string& path) {
  CYCLR_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  JobFile out;
  CYCLR_ASSIGN_OR_RETURN(out.job, ScalarOptions(root, path, JobOptionNames(), {kScheduleField}));
  YAML::Node schedule = root[kScheduleField];
  if (schedule) {
    CYCLR_ASSIGN_OR_RETURN(out.schedule,
                           ScalarOptions(schedule, std::string("schedule: in ") + path,
                                         SpecOptionNames()));
  }
  return out;
}

StatusOr<v1::JobSpec> BuildJobSpec(const OptionMap& job, const ScheduleSpec& schedule,
                                   const std::vector<std::string>& required) {
  for (const std::string& name : required) {
    if (job.count(name) == 0) {
      std::string flag = name;
      for (char& c : flag) c = c == '_' ? '-' : c;
      return Status::InvalidArgument(name + " is required: give --" + flag + " or " + name +
                                     ": in the job file");
    }
  }
  v1::JobSpec spec;
  const auto* d = v1::JobSpec::descriptor();
  for (const auto& [name, text] : job) {
    const FieldDescriptor* f = d->FindFieldByName(name);
    if (f == nullptr || name == kScheduleField) {
      return Status::InvalidArgument("job option " + limits::Echo(name) +
                                     " is unknown; expected one of " + JoinNames(JobOptionNames()));
    }
    CYCLR_RETURN_IF_ERROR(SetField(&spec, f, text));
  }
  *spec.mutable_schedule() = ToProto(schedule);
  return spec;
}

}  // namespace cyclr::client
