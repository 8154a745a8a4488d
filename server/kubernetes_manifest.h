// Kubernetes objects of a job's worker group (launcher kubernetes) and the checks of a job's
// `kubernetes` options (docs/clusters.md, "Kubernetes").
//
// A worker group is three objects, all named KubernetesObjectName(job) in one namespace and all
// labelled `app.kubernetes.io/name: cyclr-worker` and `cyclr.io/job: <job>`: a Secret holding
// the group's worker credential (key `token`), a headless Service (the pods' DNS names), and an
// Indexed Job with one pod per rank (rank = the completion index; completions = parallelism =
// workers; backoffLimit 0 and restartPolicy Never: the coordinator restarts the group, not
// Kubernetes). The pod template carries `cyclr.io/submission: <n>` too, so the pods of one
// launch are told apart from a previous one's that are still being deleted.
//
// Every string value in the YAML is double-quoted with escapes (YamlQuote): no value from a spec
// can add a key or a document. The checks keep the values to Kubernetes' own syntax anyway, so
// that a bad value is refused when the job is launched rather than by the API server later.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

// Limits of v1::KubernetesOptions.
inline constexpr int kMaxK8sGpusPerWorker = 16;
inline constexpr int kMaxK8sNodeSelectorEntries = 16;
inline constexpr size_t kMaxK8sImageBytes = 255;
inline constexpr size_t kMaxK8sQuantityBytes = 32;
// An object name; `<name>-<index>` (the pods' hostnames, index < 64) then stays a DNS label.
inline constexpr size_t kMaxK8sObjectNameBytes = 60;

// Labels the launcher selects by.
inline constexpr char kK8sJobLabel[] = "cyclr.io/job";
inline constexpr char kK8sSubmissionLabel[] = "cyclr.io/submission";
inline constexpr char kK8sIndexLabel[] = "batch.kubernetes.io/job-completion-index";

// INVALID_ARGUMENT naming the field (`kubernetes.namespace`) and its rule when a field is out of
// range: namespace a DNS-1123 label; image an image reference of at most 255 bytes; gpus_per_worker
// 0..16; node_selector at most 16 entries of label syntax; cpu and memory Kubernetes quantities
// ("2", "500m", "8Gi") of at most 32 bytes; service_account a DNS-1123 subdomain. Empty strings
// are valid (the coordinator's defaults).
Status CheckKubernetesOptions(const v1::KubernetesOptions& k);

// What the manifests need besides the spec; the launcher resolves the defaults.
struct KubernetesRenderOptions {
  std::string k8s_namespace;        // where the objects go: the spec's, else --k8s-namespace
  std::string image;                // the spec's, else --k8s-image
  std::string coordinator_address;  // what the workers dial (--cluster-worker-address)
  std::string worker_token;         // the group's credential, into the Secret ("" = auth off)
  std::string tls_ca_secret;        // a Secret with key ca.crt: mounted, --tls-ca; "" = plaintext
  int submission = 1;               // the pods' cyclr.io/submission label
};

// "cyclr-<job>"; a longer result is cut and ends with "-" and 8 hex digits of a hash of the job
// name, so it stays unique and at most kMaxK8sObjectNameBytes.
std::string KubernetesObjectName(const std::string& job);

// `value` as a YAML double-quoted scalar: `"`, `\`, control characters and Unicode line breaks
// escaped, so that it parses back to exactly `value` and never ends the scalar.
std::string YamlQuote(std::string_view value);

// The Secret, the headless Service and the Indexed Job as one multi-document YAML.
// REQUIRES: spec.name() a valid job name, 1 <= spec.workers() <= 64,
// CheckKubernetesOptions(spec.kubernetes()) OK, o.k8s_namespace and o.image non-empty.
// spec.kubernetes()'s namespace and image are not read (o carries the resolved ones).
std::string RenderKubernetesManifests(const v1::JobSpec& spec, const KubernetesRenderOptions& o);

}  // namespace cyclr
