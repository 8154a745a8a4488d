#include "server/kubernetes_manifest.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <regex>
#include <vector>

#include "core/limits.h"

namespace cyclr {
namespace {

const char kDns1123Label[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char kLabelName[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

// An image reference as the distribution project's grammar has it: [host[:port]/]path[:tag]
// [@digest], path components lower case.
const std::regex& ImageRegex() {
  static const std::regex re(
      "^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*"
      "(:[0-9]+)?/)?"
      "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*"
      "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
      "(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$");
  return re;
}

bool Matches(const std::string& value, const std::string& pattern) {
  return std::regex_match(value, std::regex(pattern));
}

Status Bad(const std::string& field, const std::string& value, const std::string& rule) {
  return Status::InvalidArgument("kubernetes." + field + " (" + limits::Echo(value) + ") must be " +
                                 rule);
}

// DNS-1123 subdomain: dot-separated labels, at most 253 bytes.
bool IsSubdomain(const std::string& v) {
  return v.size() <= 253 && Matches(v, std::string(kDns1123Label) + "(\\." + kDns1123Label + ")*");
}

// A label key: [prefix/]name, prefix a DNS-1123 subdomain, name at most 63 bytes.
bool IsLabelKey(const std::string& key) {
  size_t slash = key.find('/');
  std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  if (slash != std::string::npos && !IsSubdomain(key.substr(0, slash))) return false;
  return name.size() <= 63 && Matches(name, kLabelName);
}

bool IsLabelValue(const std::string& v) {
  return v.empty() || (v.size() <= 63 && Matches(v, kLabelName));
}

// A Kubernetes quantity: a decimal number with an optional SI, binary or exponent suffix.
Status CheckQuantity(const std::string& field, const std::string& v) {
  if (v.empty()) return Status::Ok();
  static const std::regex re(
      "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?[0-9]+)?$");
  if (v.size() > kMaxK8sQuantityBytes || !std::regex_match(v, re)) {
    return Bad(field, v,
               "a Kubernetes quantity such as \"2\", \"500m\" or \"8Gi\" of at most " +
                   std::to_string(kMaxK8sQuantityBytes) + " characters");
  }
  return Status::Ok();
}

Status CheckNodeSelector(const v1::KubernetesOptions& k) {
  if (k.node_selector_size() > kMaxK8sNodeSelectorEntries) {
    return Status::InvalidArgument("kubernetes.node_selector has " +
                                   std::to_string(k.node_selector_size()) + " entries; at most " +
                                   std::to_string(kMaxK8sNodeSelectorEntries) + " are allowed");
  }
  for (const auto& [key, value] : k.node_selector()) {
    if (!IsLabelKey(key)) {
      return Bad("node_selector key", key,
                 "a label key: [prefix/]name, name at most 63 letters, digits, '-', '_' or '.' "
                 "starting and ending with a letter or digit, prefix a DNS subdomain");
    }
    if (!IsLabelValue(value)) {
      return Bad("node_selector[" + key + "]", value,
                 "a label value: at most 63 letters, digits, '-', '_' or '.' starting and ending "
                 "with a letter or digit");
    }
  }
  return Status::Ok();
}

uint32_t Fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

Status CheckKubernetesOptions(const v1::KubernetesOptions& k) {
  const std::string& ns = k.namespace_();
  if (!ns.empty() && (ns.size() > 63 || !Matches(ns, kDns1123Label))) {
    return Bad("namespace", ns,
               "a DNS-1123 label: at most 63 lower-case letters, digits or '-', starting and "
               "ending with a letter or digit");
  }
  if (!k.image().empty() &&
      (k.image().size() > kMaxK8sImageBytes || !std::regex_match(k.image(), ImageRegex()))) {
    return Bad("image", k.image(),
               "an image reference such as \"registry.example.com:5000/cyclr-worker:1.2\" (no "
               "spaces or quotes; at most " +
                   std::to_string(kMaxK8sImageBytes) + " characters)");
  }
  if (k.gpus_per_worker() < 0 || k.gpus_per_worker() > kMaxK8sGpusPerWorker) {
    return Status::InvalidArgument(
        "kubernetes.gpus_per_worker (" + std::to_string(k.gpus_per_worker()) +
        ") must be between 0 and " + std::to_string(kMaxK8sGpusPerWorker));
  }
  CYCLR_RETURN_IF_ERROR(CheckNodeSelector(k));
  CYCLR_RETURN_IF_ERROR(CheckQuantity("cpu", k.cpu()));
  CYCLR_RETURN_IF_ERROR(CheckQuantity("memory", k.memory()));
  if (!k.service_account().empty() && !IsSubdomain(k.service_account())) {
    return Bad("service_account", k.service_account(),
               "a DNS-1123 subdomain: dot-separated lower-case labels, at most 253 characters");
  }
  return Status::Ok();
}

std::string KubernetesObjectName(const std::string& job) {
  std::string name = "cyclr-" + job;
  if (name.size() <= kMaxK8sObjectNameBytes) return name;
  char hash[16];
  std::snprintf(hash, sizeof hash, "-%08x", Fnv1a(job));
  return name.substr(0, kMaxK8sObjectNameBytes - 9) + hash;
}

std::string YamlQuote(std::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    std::string_view rest = value.substr(i);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else if (rest.substr(0, 2) == "\xc2\x85") {  // NEL, LS and PS: YAML line breaks
      out += "\\N", ++i;
    } else if (rest.substr(0, 3) == "\xe2\x80\xa8" || rest.substr(0, 3) == "\xe2\x80\xa9") {
      out += rest[2] == '\xa8' ? "\\L" : "\\P", i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace {

// Appends YAML lines with a fixed indentation; values are quoted by the caller.
struct Yaml {
  std::string text;
  void Line(int indent, const std::string& line) {
    text.append(static_cast<size_t>(indent), ' ');
    text += line;
    text += '\n';
  }
  void Pair(int indent, const std::string& key, const std::string& value) {
    Line(indent, key + ": " + YamlQuote(value));
  }
};

void Metadata(Yaml* y, int indent, const v1::JobSpec& spec, const KubernetesRenderOptions& o,
              bool with_name, bool with_submission) {
  y->Line(indent, "metadata:");
  if (with_name) {
    y->Pair(indent + 2, "name", KubernetesObjectName(spec.name()));
    y->Pair(indent + 2, "namespace", o.k8s_namespace);
  }
  y->Line(indent + 2, "labels:");
  y->Pair(indent + 4, "app.kubernetes.io/name", "cyclr-worker");
  y->Pair(indent + 4, kK8sJobLabel, spec.name());
  if (with_submission) y->Pair(indent + 4, kK8sSubmissionLabel, std::to_string(o.submission));
}

void Secret(Yaml* y, const v1::JobSpec& spec, const KubernetesRenderOptions& o) {
  y->Line(0, "# The workers' credential (CYCLR_WORKER_TOKEN), new at each group start.");
  y->Pair(0, "apiVersion", "v1");
  y->Pair(0, "kind", "Secret");
  Metadata(y, 0, spec, o, true, false);
  y->Pair(0, "type", "Opaque");
  y->Line(0, "stringData:");
  y->Pair(2, "token", o.worker_token);
}

void Service(Yaml* y, const v1::JobSpec& spec, const KubernetesRenderOptions& o) {
  y->Line(0, "# Headless: DNS names <job>-<rank>.<service> for the pods (the Job's subdomain).");
  y->Pair(0, "apiVersion", "v1");
  y->Pair(0, "kind", "Service");
  Metadata(y, 0, spec, o, true, false);
  y->Line(0, "spec:");
  y->Pair(2, "clusterIP", "None");
  y->Line(2, "publishNotReadyAddresses: true");
  y->Line(2, "selector:");
  y->Pair(4, "app.kubernetes.io/name", "cyclr-worker");
  y->Pair(4, kK8sJobLabel, spec.name());
}

void EnvFrom(Yaml* y, const std::string& name, const std::string& source,
             const std::vector<std::pair<std::string, std::string>>& fields) {
  y->Pair(12, "- name", name);
  y->Line(14, "valueFrom:");
  y->Line(16, source + ":");
  for (const auto& [k, v] : fields) y->Pair(18, k, v);
}

void Env(Yaml* y, const v1::JobSpec& spec) {
  y->Line(10, "env:");
  EnvFrom(y, "CYCLR_WORKER_TOKEN", "secretKeyRef",
          {{"name", KubernetesObjectName(spec.name())}, {"key", "token"}});
  EnvFrom(y, "RANK", "fieldRef",
          {{"fieldPath", "metadata.annotations['batch.kubernetes.io/job-completion-index']"}});
  y->Pair(12, "- name", "WORLD_SIZE");
  y->Pair(14, "value", std::to_string(spec.workers()));
  y->Line(12, "# One pod per rank: device 0 of the GPUs the pod sees.");
  y->Pair(12, "- name", "LOCAL_RANK");
  y->Pair(14, "value", "0");
  y->Line(12, "# With backend gloo, ranks in different pods connect to each other's pod IP.");
  EnvFrom(y, "CYCLR_GLOO_HOSTNAME", "fieldRef", {{"fieldPath", "status.podIP"}});
}

void Resources(Yaml* y, const v1::KubernetesOptions& k) {
  std::vector<std::pair<std::string, std::string>> requests, limits;
  if (!k.cpu().empty()) requests.emplace_back("cpu", k.cpu());
  if (!k.memory().empty()) requests.emplace_back("memory", k.memory());
  limits = requests;
  if (k.gpus_per_worker() > 0) {
    limits.emplace_back("nvidia.com/gpu", std::to_string(k.gpus_per_worker()));
  }
  if (limits.empty()) return;
  y->Line(10, "resources:");
  for (const auto* part : {&requests, &limits}) {
    if (part->empty()) continue;
    y->Line(12, part == &requests ? "requests:" : "limits:");
    for (const auto& [name, value] : *part) y->Pair(14, name, value);
  }
}

void Container(Yaml* y, const v1::JobSpec& spec, const KubernetesRenderOptions& o) {
  y->Pair(8, "- name", "worker");
  y->Pair(10, "image", o.image);
  y->Pair(10, "imagePullPolicy", "IfNotPresent");
  y->Line(10, "command:");
  y->Line(12, "- " + YamlQuote("cyclr-worker"));
  std::vector<std::string> args = {"--coordinator", o.coordinator_address,
                                   "--job",         spec.name(),
                                   "--rank",        "$(RANK)",
                                   "--world-size",  std::to_string(spec.workers()),
                                   "--log-dir",     "/var/log/cyclr"};
  if (!o.tls_ca_secret.empty()) args.insert(args.end(), {"--tls-ca", "/etc/cyclr/tls/ca.crt"});
  y->Line(10, "args:");
  for (const auto& a : args) y->Line(12, "- " + YamlQuote(a));
  Env(y, spec);
  Resources(y, spec.kubernetes());
  y->Line(10, "# A failed worker's last log lines become its pod's termination message.");
  y->Pair(10, "terminationMessagePolicy", "FallbackToLogsOnError");
  y->Line(10, "volumeMounts:");
  y->Pair(12, "- name", "logs");
  y->Pair(14, "mountPath", "/var/log/cyclr");
  if (o.tls_ca_secret.empty()) return;
  y->Pair(12, "- name", "tls");
  y->Pair(14, "mountPath", "/etc/cyclr/tls");
  y->Line(14, "readOnly: true");
}

void Volumes(Yaml* y, const KubernetesRenderOptions& o) {
  y->Line(6, "volumes:");
  y->Pair(8, "- name", "logs");
  y->Line(10, "emptyDir: {}");
  if (o.tls_ca_secret.empty()) return;
  y->Pair(8, "- name", "tls");
  y->Line(10, "secret:");
  y->Pair(12, "secretName", o.tls_ca_secret);
  y->Line(12, "items:");
  y->Pair(14, "- key", "ca.crt");
  y->Pair(16, "path", "ca.crt");
}

void PodSpec(Yaml* y, const v1::JobSpec& spec, const KubernetesRenderOptions& o) {
  const v1::KubernetesOptions& k = spec.kubernetes();
  y->Line(4, "spec:");
  y->Pair(6, "restartPolicy", "Never");
  y->Pair(6, "subdomain", KubernetesObjectName(spec.name()));
  if (k.service_account().empty()) {
    y->Line(6, "automountServiceAccountToken: false");
  } else {
    y->Pair(6, "serviceAccountName", k.service_account());
  }
  if (k.node_selector_size() > 0) {
    y->Line(6, "nodeSelector:");
    std::map<std::string, std::string> sorted(k.node_selector().begin(), k.node_selector().end());
    for (const auto& [key, value] : sorted) y->Line(8, YamlQuote(key) + ": " + YamlQuote(value));
  }
  y->Line(6, "containers:");
  Container(y, spec, o);
  Volumes(y, o);
}

void Job(Yaml* y, const v1::JobSpec& spec, const KubernetesRenderOptions& o) {
  y->Line(0, "# One pod per rank (rank = completion index). A failed rank fails the Job at once");
  y->Line(0, "# (backoffLimit 0): the coordinator deletes and re-applies the group to restart it.");
  y->Pair(0, "apiVersion", "batch/v1");
  y->Pair(0, "kind", "Job");
  Metadata(y, 0, spec, o, true, true);
  y->Line(0, "spec:");
  y->Pair(2, "completionMode", "Indexed");
  y->Line(2, "completions: " + std::to_string(spec.workers()));
  y->Line(2, "parallelism: " + std::to_string(spec.workers()));
  y->Line(2, "backoffLimit: 0");
  y->Line(2, "template:");
  Metadata(y, 4, spec, o, false, true);
  PodSpec(y, spec, o);
}

}  // namespace

std::string RenderKubernetesManifests(const v1::JobSpec& spec, const KubernetesRenderOptions& o) {
  Yaml y;
  y.Line(0, "# cyclr job " + YamlQuote(spec.name()) + ", submission " +
                std::to_string(o.submission) +
                ": rendered by the coordinator (launcher kubernetes).");
  Secret(&y, spec, o);
  y.Line(0, "---");
  Service(&y, spec, o);
  y.Line(0, "---");
  Job(&y, spec, o);
  return y.text;
}

}  // namespace cyclr
