#include "server/slurm_script.h"

#include <regex>
#include <set>
#include <sstream>

#include "core/limits.h"

namespace cyclr {
namespace {

Status Match(const char* field, const std::string& value, const std::regex& re, size_t max,
             const char* rule) {
  if (value.empty() || (value.size() <= max && std::regex_match(value, re))) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " (" + limits::Echo(value) + ") must be " +
                                 rule);
}

Status Count(const char* field, int value, int max) {
  if (value >= 0 && value <= max) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " (" + std::to_string(value) +
                                 ") must be between 0 and " + std::to_string(max));
}

void Directive(std::ostringstream& s, const char* flag, const std::string& value) {
  if (!value.empty()) s << "#SBATCH --" << flag << "=" << value << "\n";
}

// ExitCode=N:S -> exit code N, signal S.
void ParseExitCode(const std::string& value, SlurmJobInfo* info) {
  size_t colon = value.find(':');
  try {
    info->exit_code = std::stoi(value.substr(0, colon));
    if (colon != std::string::npos) info->signal = std::stoi(value.substr(colon + 1));
  } catch (const std::exception&) {
    info->exit_code = -1;  // unreadable: not a clean end
  }
}

}  // namespace

Status CheckSlurmOptions(const v1::SlurmOptions& o) {
  static const std::regex kName("[A-Za-z0-9_.-]+");
  static const std::regex kNames("[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*");
  static const std::regex kTime(
      "UNLIMITED|INFINITE|[0-9]{1,7}(:[0-9]{1,2}){0,2}|[0-9]{1,4}-[0-9]{1,2}(:[0-9]{1,2}){0,2}");
  static const std::regex kConstraint("[A-Za-z0-9_.&|,*!()\\[\\]-]+");
  const char* name_rule = "at most 64 characters of [A-Za-z0-9_.-]";
  CYCLR_RETURN_IF_ERROR(Match("slurm.partition", o.partition(), kNames, 64,
                              "at most 64 characters of [A-Za-z0-9_.-], comma-separated"));
  CYCLR_RETURN_IF_ERROR(Match("slurm.account", o.account(), kName, 64, name_rule));
  CYCLR_RETURN_IF_ERROR(Match("slurm.qos", o.qos(), kName, 64, name_rule));
  CYCLR_RETURN_IF_ERROR(Match("slurm.time", o.time(), kTime, 32,
                              "a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, "
                              "D-HH:MM:SS or UNLIMITED"));
  CYCLR_RETURN_IF_ERROR(Match("slurm.constraint", o.constraint(), kConstraint, 256,
                              "at most 256 characters of features and & | , * ! ( ) [ ]"));
  CYCLR_RETURN_IF_ERROR(Count("slurm.gpus_per_task", o.gpus_per_task(), 16));
  return Count("slurm.cpus_per_task", o.cpus_per_task(), 256);
}

std::string ShellQuote(const std::string& value) {
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string RenderSlurmScript(const v1::JobSpec& spec, const SlurmScriptOptions& o) {
  const v1::SlurmOptions& so = spec.slurm();
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Written by cyclr-coordinator for job " << spec.name() << "; one task per rank.\n"
    << "#SBATCH --job-name=cyclr-" << spec.name() << "\n"
    << "#SBATCH --ntasks=" << spec.workers() << "\n"
    << "#SBATCH --open-mode=append\n";
  Directive(s, "partition", so.partition());
  Directive(s, "account", so.account());
  Directive(s, "qos", so.qos());
  Directive(s, "time", so.time());
  Directive(s, "constraint", so.constraint());
  if (so.gpus_per_task() > 0) Directive(s, "gpus-per-task", std::to_string(so.gpus_per_task()));
  if (so.cpus_per_task() > 0) Directive(s, "cpus-per-task", std::to_string(so.cpus_per_task()));
  s << "set -u\n"
    << "unset CYCLR_WORKER_TOKEN CYCLR_WORKER_TOKEN_FILE\n";
  if (!o.token_file.empty()) {
    s << "export CYCLR_WORKER_TOKEN_FILE=" << ShellQuote(o.token_file) << "\n";
  }
  s << "worker=(" << ShellQuote(o.worker_binary) << ")\n"
    << "# Gloo ranks on several nodes listen on an address their peers reach: their node's name.\n"
    << "if [[ ${SLURM_JOB_NUM_NODES:-1} -gt 1 && -z ${CYCLR_GLOO_IFNAME:-} ]]; then\n"
    << "  worker=(bash -c 'CYCLR_GLOO_HOSTNAME=$(hostname) exec \"$@\"' cyclr-worker "
    << "\"${worker[@]}\")\n"
    << "fi\n"
    << "echo \"cyclr: job " << spec.name() << ", Slurm job ${SLURM_JOB_ID:-?} on "
    << "${SLURM_JOB_NODELIST:-?}\"\n"
    << "exec srun --kill-on-bad-exit=1 --open-mode=append --output="
    << ShellQuote(o.job_dir + "/worker-%t.log") << " \"${worker[@]}\" --coordinator "
    << ShellQuote(o.coordinator_address) << " --job " << ShellQuote(spec.name()) << " --world-size "
    << spec.workers() << " --log-dir " << ShellQuote(o.job_dir);
  const TlsFiles& tls = o.worker_tls;
  if (!tls.ca.empty()) s << " --tls-ca " << ShellQuote(tls.ca);
  if (!tls.cert.empty()) {
    s << " --tls-cert " << ShellQuote(tls.cert) << " --tls-key " << ShellQuote(tls.key);
  }
  s << "\n";
  return s.str();
}

StatusOr<SlurmJobInfo> ParseScontrolJob(const std::string& text) {
  SlurmJobInfo info;
  bool have_state = false;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "JobState") info.state = value, have_state = true;
    if (key == "Reason") info.reason = value == "None" ? "" : value;
    if (key == "NodeList") info.nodes = value == "(null)" ? "" : value;
    if (key == "ExitCode") ParseExitCode(value, &info);
  }
  if (!have_state) {
    return Status::InvalidArgument("scontrol's answer has no JobState: " + limits::Echo(text));
  }
  return info;
}

StatusOr<SlurmJobInfo> ParseSacctJob(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  std::vector<std::string> parts;
  std::istringstream in(line);
  for (std::string p; std::getline(in, p, '|');) parts.push_back(p);
  if (parts.empty() || parts[0].empty()) {
    return Status::InvalidArgument("sacct knows no such job: " + limits::Echo(text));
  }
  SlurmJobInfo info;
  info.state = parts[0].substr(0, parts[0].find(' '));  // "CANCELLED by 0"
  if (parts.size() > 1) ParseExitCode(parts[1], &info);
  if (parts.size() > 2) info.nodes = parts[2] == "None assigned" ? "" : parts[2];
  return info;
}

bool SlurmQueued(const std::string& state) {
  static const std::set<std::string> kQueued = {"PENDING",      "CONFIGURING", "REQUEUED",
                                                "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"};
  return kQueued.count(state) > 0;
}

bool SlurmEnded(const std::string& state) {
  static const std::set<std::string> kAlive = {"RUNNING",   "COMPLETING", "SUSPENDED", "STOPPED",
                                               "SIGNALING", "STAGE_OUT",  "RESIZING"};
  return !SlurmQueued(state) && kAlive.count(state) == 0;
}

}  // namespace cyclr
