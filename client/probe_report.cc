#include "client/probe_report.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "client/option_flags.h"

namespace cyclr::client {
namespace {

std::string G(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::vector<LossCurvePoint> FromProto(const v1::LossCurve& curve) {
  std::vector<LossCurvePoint> out;
  for (const v1::CurvePoint& p : curve.points()) out.push_back({p.step(), p.lr(), p.loss()});
  return out;
}

// `job` is the probe as GetJob returned it.
StatusOr<LrSuggestions> SuggestFor(CoordinatorClient& client, v1::Job job,
                                   LrSuggestionOptions options, ProbeReport* first) {
  const std::string name = job.name();
  if (job.state() == v1::PENDING || job.state() == v1::RUNNING) {
    return Status::FailedPrecondition("probe " + name + " is still " +
                                      v1::JobState_Name(job.state()) +
                                      ": wait for it (cyclrctl lr-find get after it ends)");
  }
  CYCLR_ASSIGN_OR_RETURN(v1::LossCurve curve, client.GetLossCurve(name));
  if (options.steps_per_epoch == 0) {
    options.steps_per_epoch = StepsPerEpoch(curve.train_examples(), job.spec().workers(),
                                            job.spec().batch_size());
  }
  std::vector<LossCurvePoint> points = FromProto(curve);
  StatusOr<LrSuggestions> s = SuggestLr(points, options);
  if (!s.ok()) return s.status().WithContext("probe " + name);
  if (first) {
    first->train_examples = curve.train_examples();
    first->job = std::move(job);
    first->curve = std::move(points);
  }
  return s;
}

// Fields of the probe's spec not repeated in the launch line: its own identity, the probe's
// length and schedule, and values equal to the coordinator's defaults.
bool Skipped(const std::string& field, const std::string& value) {
  static const std::set<std::string> kOwn = {"name", "schedule", "max_steps", "epochs",
                                             "model_sha256"};
  static const std::set<std::string> kDefaults = {
      "optimizer=sgd", "launcher=local", "data_dir=/usr/share/datasets/fashion-mnist",
      "loss=cross-entropy", "momentum=0.9", "bucket_mb=25", "divergence_policy=fail", "seed=1"};
  return kOwn.count(field) > 0 || kDefaults.count(field + "=" + value) > 0;
}

std::string Quoted(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \t'\"$\\") == std::string::npos) return v;
  std::string out = "'";
  for (char c : v) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string RepeatName(const std::string& name, int k) { return name + "-r" + std::to_string(k); }

int64_t StepsPerEpoch(int64_t train_examples, int workers, int batch_size) {
  if (train_examples <= 0 || workers <= 0 || batch_size <= 0) return 0;
  return train_examples / workers / batch_size;
}

StatusOr<ProbeReport> ReadProbe(CoordinatorClient& client, const std::string& name,
                                LrSuggestionOptions options) {
  ProbeReport report;
  std::vector<LrSuggestions> each;
  CYCLR_ASSIGN_OR_RETURN(v1::Job probe, client.GetJob(name));
  CYCLR_ASSIGN_OR_RETURN(LrSuggestions first, SuggestFor(client, probe, options, &report));
  each.push_back(std::move(first));
  for (int k = 2;; ++k) {
    StatusOr<v1::Job> repeat = client.GetJob(RepeatName(name, k));
    if (repeat.status().code() == StatusCode::kNotFound) break;
    if (!repeat.ok()) return repeat.status();
    CYCLR_ASSIGN_OR_RETURN(LrSuggestions s, SuggestFor(client, *repeat, options, nullptr));
    each.push_back(std::move(s));
  }
  report.repeats = static_cast<int>(each.size());
  report.suggestions = each.size() == 1 ? each[0] : MedianSuggestions(each);
  return report;
}

StatusOr<OptionMap> LrFromOptions(const std::string& policy, const LrSuggestions& s) {
  char base[40], max[40];
  std::snprintf(base, sizeof base, "%.6g", s.base_lr);
  std::snprintf(max, sizeof max, "%.6g", s.max_lr);
  if (policy == "triangular" || policy == "triangular2" || policy == "exp_range" ||
      policy == "sine") {
    OptionMap out = {{"base_lr", base}, {"max_lr", max}};
    if (s.step_size_up > 0) out["step_size_up"] = std::to_string(s.step_size_up);
    return out;
  }
  if (policy == "one-cycle") return OptionMap{{"max_lr", max}};
  if (policy == "cosine-restarts") return OptionMap{{"base_lr", base}, {"max_lr", max}};
  if (policy == "constant") {
    char lr[40];
    std::snprintf(lr, sizeof lr, "%.6g", s.Rule(s.chosen));
    return OptionMap{{"base_lr", lr}};
  }
  return Status::InvalidArgument("--lr-from cannot set the bounds of policy \"" + policy +
                                 "\" (it sets triangular, triangular2, exp_range, sine, "
                                 "one-cycle, cosine-restarts and constant)");
}

std::string SuggestedLaunchLine(const ProbeReport& r) {
  std::string line = "cyclrctl launch --name " + r.job.name() + "-clr";
  const auto* d = v1::JobSpec::descriptor();
  const auto* refl = r.job.spec().GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->message_type() != nullptr) continue;
    if (!refl->HasField(r.job.spec(), f)) continue;  // proto3: unset or the zero value
    std::string value;
    google::protobuf::TextFormat::PrintFieldValueToString(r.job.spec(), f, -1, &value);
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      value = refl->GetString(r.job.spec(), f);
    }
    if (Skipped(f->name(), value)) continue;
    line += " --" + OptionFlags::Kebab(f->name());
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_BOOL) line += " " + Quoted(value);
  }
  const LrSuggestions& s = r.suggestions;
  line += " --policy triangular2 --base-lr " + G(s.base_lr) + " --max-lr " + G(s.max_lr);
  if (s.step_size_up > 0) line += " --step-size-up " + std::to_string(s.step_size_up);
  return line + " --epochs EPOCHS";
}

std::string FormatProbeReport(const ProbeReport& r, OutputFormat format) {
  const LrSuggestions& s = r.suggestions;
  std::ostringstream out;
  if (format == OutputFormat::kJson) {
    out << "{\n  \"job\": " << JsonString(r.job.name()) << ",\n  \"repeats\": " << r.repeats
        << ",\n  \"stop_step\": " << s.stop_step << ",\n  \"usable_points\": " << s.usable_points
        << ",\n  \"smoothing_beta\": " << JsonNumber(s.smoothing_beta) << ",\n  \"chosen\": "
        << JsonString(s.chosen) << ",\n  \"rules\": {";
    for (size_t i = 0; i < s.rules.size(); ++i) {
      out << (i ? ", " : "") << JsonString(s.rules[i].name) << ": " << JsonNumber(s.rules[i].lr);
    }
    out << "},\n  \"max_lr\": " << JsonNumber(s.max_lr) << ",\n  \"base_lr\": "
        << JsonNumber(s.base_lr) << ",\n  \"step_size_up\": " << s.step_size_up
        << ",\n  \"note\": " << JsonString(s.note) << ",\n  \"launch\": "
        << JsonString(SuggestedLaunchLine(r)) << ",\n  \"points\": [";
    for (size_t i = 0; i < r.curve.size(); ++i) {
      const double smooth = i < s.smoothed.size() ? s.smoothed[i] : NAN;
      out << (i ? "," : "") << "\n    {\"step\": " << r.curve[i].step
          << ", \"lr\": " << JsonNumber(r.curve[i].lr) << ", \"loss\": "
          << JsonNumber(r.curve[i].loss) << ", \"smoothed\": " << JsonNumber(smooth) << "}";
    }
    out << "\n  ]\n}\n";
    return out.str();
  }
  out << "probe " << r.job.name() << " (" << v1::JobState_Name(r.job.state()) << "): "
      << r.curve.size() << " steps recorded, " << s.usable_points << " usable";
  if (r.repeats > 1) out << "; medians of " << r.repeats << " probes";
  out << "\n";
  if (!r.job.reason().empty()) out << "  " << r.job.reason() << "\n";
  out << "\nrule      lr          read at step\n";
  for (const LrRule& rule : s.rules) {
    char row[96];
    std::snprintf(row, sizeof row, "%-9s %-11s %s%s\n", rule.name.c_str(), G(rule.lr).c_str(),
                  rule.step >= 0 ? std::to_string(rule.step).c_str() : "(median)",
                  rule.name == s.chosen ? "   <- chosen" : "");
    out << row;
  }
  out << "\nSmith's bounds for a cycle: base_lr " << G(s.base_lr) << ", max_lr " << G(s.max_lr);
  if (s.step_size_up > 0) out << ", step_size_up " << s.step_size_up;
  out << "\n";
  if (!s.note.empty()) out << "note: " << s.note << "\n";
  out << "\nlaunch with (or: cyclrctl launch --lr-from " << r.job.name() << " ...):\n  "
      << SuggestedLaunchLine(r) << "\n";
  return out.str();
}

}  // namespace cyclr::client
