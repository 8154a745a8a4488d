#include "client/job_file.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

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

// Sets one scalar field of `spec` (a JobSpec or one of its sections) from text, by the field's
// type; `name` is how errors and the field rules call it ("workers", "slurm.time").
Status SetField(google::protobuf::Message* spec, const FieldDescriptor* f, const std::string& name,
                const std::string& text) {
  const auto* r = spec->GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      CYCLR_RETURN_IF_ERROR(CheckJobString(name, text));
      r->SetString(spec, f, text);
      return Status::Ok();
    case FieldDescriptor::CPPTYPE_INT32: {
      CYCLR_ASSIGN_OR_RETURN(long long v,
                             ParseInteger(name, text, std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int32_t>::max()));
      r->SetInt32(spec, f, static_cast<int32_t>(v));
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      CYCLR_ASSIGN_OR_RETURN(long long v,
                             ParseInteger(name, text, std::numeric_limits<int64_t>::min(),
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

// kubernetes.node_selector "KEY=VALUE,KEY=VALUE" (labels hold neither ',' nor '=').
Status SetNodeSelector(v1::KubernetesOptions* k, const std::string& text) {
  std::stringstream in(text);
  for (std::string pair; std::getline(in, pair, ',');) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("kubernetes.node_selector " + limits::Echo(pair) +
                                     " is not KEY=VALUE");
    }
    (*k->mutable_node_selector())[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return Status::Ok();
}

// "slurm.partition" -> spec.slurm.partition.
Status SetSectionField(v1::JobSpec* spec, const std::string& name, const std::string& text) {
  const size_t dot = name.find('.');
  const FieldDescriptor* section = v1::JobSpec::descriptor()->FindFieldByName(name.substr(0, dot));
  const std::vector<std::string>& known = ClusterOptionNames();
  if (section == nullptr || std::find(known.begin(), known.end(), name) == known.end()) {
    return Status::InvalidArgument("job option " + limits::Echo(name) + " is unknown; expected " +
                                   "one of " + JoinNames(known));
  }
  google::protobuf::Message* sub = spec->GetReflection()->MutableMessage(spec, section);
  if (name == "kubernetes.node_selector") {
    return SetNodeSelector(static_cast<v1::KubernetesOptions*>(sub), text);
  }
  return SetField(sub, sub->GetDescriptor()->FindFieldByName(name.substr(dot + 1)), name, text);
}

// The `slurm:` or `kubernetes:` map of a job file as dotted options; node_selector may be a map.
StatusOr<OptionMap> SectionOptions(const YAML::Node& root, const std::string& section,
                                   const std::string& path) {
  OptionMap out;
  YAML::Node node = root[section];
  if (!node) return out;
  std::vector<std::string> known;
  for (const std::string& n : ClusterOptionNames()) {
    if (n.rfind(section + ".", 0) == 0) known.push_back(n.substr(section.size() + 1));
  }
  const std::string where = section + ": in " + path;
  CYCLR_ASSIGN_OR_RETURN(OptionMap plain, ScalarOptions(node, where, known, {"node_selector"}));
  for (const auto& [k, v] : plain) out[section + "." + k] = v;
  if (node.IsMap() && node["node_selector"]) {
    CYCLR_ASSIGN_OR_RETURN(
        OptionMap labels,
        ScalarOptions(node["node_selector"], "node_selector: in " + where, {}, {}, true));
    std::string joined;
    for (const auto& [k, v] : labels) joined += (joined.empty() ? "" : ",") + k + "=" + v;
    out[section + ".node_selector"] = joined;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& ClusterOptionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const char* section : {"slurm", "kubernetes"}) {
      const auto* f = v1::JobSpec::descriptor()->FindFieldByName(section);
      const auto* d = f->message_type();
      for (int i = 0; i < d->field_count(); ++i)
        out.push_back(std::string(section) + "." + d->field(i)->name());
    }
    return out;
  }();
  return names;
}

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
      {"launcher", "local | slurm | kubernetes (started by the coordinator) | external (by you)"},
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
      // (schedule, slurm and kubernetes are sections: their own maps in a file)
      if (d->field(i)->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        out.push_back(d->field(i)->name());
      }
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
  CYCLR_ASSIGN_OR_RETURN(out.job, ScalarOptions(root, path, JobOptionNames(),
                                                {kScheduleField, "slurm", "kubernetes"}));
  for (const char* section : {"slurm", "kubernetes"}) {
    CYCLR_ASSIGN_OR_RETURN(OptionMap options, SectionOptions(root, section, path));
    out.job = Merge(std::move(out.job), options);
  }
  YAML::Node schedule = root[kScheduleField];
  if (schedule) {
    CYCLR_ASSIGN_OR_RETURN(
        out.schedule,
        ScalarOptions(schedule, std::string("schedule: in ") + path, SpecOptionNames()));
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
    if (name.find('.') != std::string::npos) {
      CYCLR_RETURN_IF_ERROR(SetSectionField(&spec, name, text));
      continue;
    }
    const FieldDescriptor* f = d->FindFieldByName(name);
    if (f == nullptr || name == kScheduleField) {
      return Status::InvalidArgument("job option " + limits::Echo(name) +
                                     " is unknown; expected one of " + JoinNames(JobOptionNames()));
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return Status::InvalidArgument("job option " + name + " is a section: give its fields (" +
                                     name + ".FIELD, or a " + name + ": map in the job file)");
    }
    CYCLR_RETURN_IF_ERROR(SetField(&spec, f, name, text));
  }
  *spec.mutable_schedule() = ToProto(schedule);
  return spec;
}

}  // namespace cyclr::client
