#include "client/output_format.h"

#include <google/protobuf/util/json_util.h>

#include <ctime>

#include "client/text_table.h"
#include "proto/proto_convert.h"

namespace cyclr::client {
namespace {

std::string PhaseText(v1::PhaseMode phase) {
  return phase == v1::PHASE_MODE_RESTART ? "restart" : "continue";
}

std::string TimeText(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string OfTotal(int64_t value, int64_t total) {
  return std::to_string(value) + (total > 0 ? "/" + std::to_string(total) : "");
}

std::string AccuracyText(double acc) { return acc > 0 ? FormatG(acc, 4) : "-"; }

void AddField(std::string* out, const std::string& key, const std::string& value) {
  constexpr size_t kWidth = 16;
  std::string label = key + ":";
  if (label.size() < kWidth) label += std::string(kWidth - label.size(), ' ');
  *out += label + value + "\n";
}

std::string RanksTable(const v1::Job& job) {
  TextTable t({"RANK", "STEP", "LOSS", "LR", "MOMENTUM", "SAMPLES/S", "ALIVE", "LAST REPORT"});
  for (const auto& r : job.ranks()) {
    t.AddRow({std::to_string(r.rank()), std::to_string(r.step()), FormatG(r.loss(), 4),
              FormatG(r.lr(), 6), FormatG(r.momentum(), 4), FormatG(r.samples_per_second(), 5),
              r.alive() ? "yes" : "no", TimeText(r.last_report_unix_ms())});
  }
  return t.Render();
}

void AddRevisionRow(const v1::Revision& r, TextTable* t) {
  t->AddRow({std::to_string(r.version()), std::to_string(r.effective_step()),
             r.has_applied_step() ? std::to_string(r.applied_step()) : "-", PhaseText(r.phase()),
             OrDash(r.author()), OrDash(r.reason()), SpecText(r.spec())});
}

TextTable RevisionTable() {
  return TextTable({"VERSION", "EFFECTIVE", "APPLIED", "PHASE", "AUTHOR", "REASON", "SPEC"});
}

}  // namespace

StatusOr<OutputFormat> ParseOutputFormat(const std::string& text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  return Status::InvalidArgument("--output '" + text + "' is unknown; expected table or json");
}

StatusOr<PreviewFormat> ParsePreviewFormat(const std::string& text) {
  if (text == "csv") return PreviewFormat::kCsv;
  if (text == "table") return PreviewFormat::kTable;
  if (text == "json") return PreviewFormat::kJson;
  return Status::InvalidArgument("--format '" + text + "' is unknown; expected csv, table or json");
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  CYCLR_CHECK_MSG(status.ok(), status.ToString());
  if (out.empty() || out.back() != '\n') out += "\n";
  return out;
}

std::string SpecText(const v1::ScheduleSpec& spec) {
  StatusOr<ScheduleSpec> parsed = FromProto(spec);
  if (parsed.ok()) return SpecToString(*parsed);
  return spec.ShortDebugString();
}

std::string WaitingText(const v1::Job& job) {
  if (job.waiting_ranks_size() == 0) return "";
  std::string out = job.waiting_ranks_size() == 1 ? "rank " : "ranks ";
  for (int i = 0; i < job.waiting_ranks_size(); ++i) {
    out += (i ? ", " : "") + std::to_string(job.waiting_ranks(i));
  }
  return out + " (since " + TimeText(job.waiting_since_unix_ms()) + ")";
}

// "job 42 RUNNING on node[1-2]" / "job 42 PENDING (Resources)", "submitted 2 times".
std::string ClusterText(const v1::Job& job) {
  const v1::ClusterJob& c = job.cluster();
  std::string out = "job " + c.id() + " " + OrDash(c.state());
  if (!c.nodes().empty()) out += " on " + c.nodes();
  if (!c.reason().empty()) out += " (" + c.reason() + ")";
  if (c.submissions() > 1) out += ", submitted " + std::to_string(c.submissions()) + " times";
  return out;
}

std::string FormatJob(const v1::Job& job, OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(job);
  const v1::JobSpec& s = job.spec();
  std::string out;
  AddField(&out, "name", job.name());
  AddField(&out, "state", v1::JobState_Name(job.state()));
  if (!job.reason().empty()) AddField(&out, "reason", job.reason());
  if (job.waiting_ranks_size() > 0) AddField(&out, "waiting for", WaitingText(job));
  if (job.restarts() > 0 || s.max_restarts() > 0) {
    AddField(&out, "restarts",
             std::to_string(job.restarts()) + " of " + std::to_string(s.max_restarts()));
  }
  AddField(&out, "epoch", std::to_string(job.epoch() + 1) + "/" + std::to_string(s.epochs()));
  AddField(&out, "step", OfTotal(job.global_step(), job.total_steps()));
  AddField(&out, "lr", FormatG(job.lr(), 6));
  AddField(&out, "momentum", job.has_momentum() ? FormatG(job.momentum(), 4) : "-");
  AddField(&out, "loss", FormatG(job.loss(), 4));
  if (s.loss() == "mse") {
    AddField(&out, "test mse", job.test_loss() > 0 ? FormatG(job.test_loss(), 5) : "not measured");
  } else {
    AddField(&out, "test accuracy", AccuracyText(job.test_accuracy()));
  }
  AddField(&out, "samples/s", FormatG(job.samples_per_second(), 5));
  AddField(
      &out, "schedule",
      "v" + std::to_string(job.schedule_version()) + " (initial: " + SpecText(s.schedule()) + ")");
  AddField(
      &out, "workers",
      std::to_string(s.workers()) + " (" + OrDash(s.backend()) + ", " + OrDash(s.launcher()) + ")");
  if (!job.cluster().id().empty()) AddField(&out, job.cluster().scheduler(), ClusterText(job));
  AddField(&out, "training",
           (s.model_file().empty() ? OrDash(s.model()) : s.model_file()) + " on " +
               OrDash(s.dataset()) + ", " + OrDash(s.optimizer()) + ", batch " +
               std::to_string(s.batch_size()) + " per worker" +
               (s.loss() == "mse" ? ", loss mse" : ""));
  if (!s.model_file().empty() && !s.output_dir().empty()) {
    AddField(&out, "trained model",
             s.output_dir() + "/model.pt" +
                 (job.state() == v1::SUCCEEDED ? "" : " (written at the end)"));
  } else if (!s.model_file().empty() && !s.checkpoint_dir().empty()) {
    AddField(&out, "trained model", s.checkpoint_dir() + "/model.pt (with each checkpoint)");
  }
  AddField(&out, "created", TimeText(job.created_unix_ms()));
  AddField(&out, "updated", TimeText(job.updated_unix_ms()));
  if (job.ranks_size() > 0) out += "\n" + RanksTable(job);
  return out;
}

std::string FormatJobList(const v1::ListJobsResponse& jobs, OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(jobs);
  TextTable t({"NAME", "STATE", "WORKERS", "EPOCH", "STEP", "LR", "LOSS", "ACC", "SCHEDULE"});
  for (const auto& j : jobs.jobs()) {
    t.AddRow({j.name(), v1::JobState_Name(j.state()), std::to_string(j.spec().workers()),
              std::to_string(j.epoch() + 1) + "/" + std::to_string(j.spec().epochs()),
              OfTotal(j.global_step(), j.total_steps()), FormatG(j.lr(), 6), FormatG(j.loss(), 4),
              AccuracyText(j.test_accuracy()), "v" + std::to_string(j.schedule_version())});
  }
  return t.Render();
}

std::string FormatTimeline(const v1::Timeline& timeline, OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(timeline);
  TextTable t = RevisionTable();
  for (const auto& r : timeline.revisions()) AddRevisionRow(r, &t);
  return t.Render();
}

std::string FormatRevision(const v1::Revision& revision, OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(revision);
  TextTable t = RevisionTable();
  AddRevisionRow(revision, &t);
  return t.Render();
}

std::string FormatPreview(const std::vector<v1::SchedulePoint>& points, PreviewFormat format) {
  if (format == PreviewFormat::kJson) {
    v1::PreviewScheduleResponse response;
    for (const auto& p : points) *response.add_points() = p;
    return ToJson(response);
  }
  if (format == PreviewFormat::kCsv) {
    std::string out = "step,lr,momentum\n";
    for (const auto& p : points) {
      out += std::to_string(p.step()) + "," + FormatExact(p.lr()) + "," +
             (p.has_momentum() ? FormatExact(p.momentum()) : "") + "\n";
    }
    return out;
  }
  TextTable t({"STEP", "LR", "MOMENTUM", "CYCLE", "POSITION", "VERSION"});
  for (const auto& p : points) {
    t.AddRow({std::to_string(p.step()), FormatG(p.lr(), 8),
              p.has_momentum() ? FormatG(p.momentum(), 6) : "-", std::to_string(p.cycle()),
              FormatG(p.cycle_position(), 4), p.version() > 0 ? std::to_string(p.version()) : "-"});
  }
  return t.Render();
}

}  // namespace cyclr::client
