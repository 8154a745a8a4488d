#include "server/kubernetes_pods.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <set>
#include <vector>

#include "core/limits.h"
#include "server/kubernetes_manifest.h"
#include "server/log_file.h"

namespace cyclr {
namespace {

using google::protobuf::Value;

const Value* Get(const Value* v, const std::string& key) {
  if (!v || v->kind_case() != Value::kStructValue) return nullptr;
  const auto& f = v->struct_value().fields();
  auto it = f.find(key);
  return it == f.end() ? nullptr : &it->second;
}

const Value* At(const Value* v, std::initializer_list<const char*> path) {
  for (const char* key : path) v = Get(v, key);
  return v;
}

std::string Str(const Value* v) {
  return v && v->kind_case() == Value::kStringValue ? v->string_value() : "";
}

const google::protobuf::ListValue* List(const Value* v) {
  return v && v->kind_case() == Value::kListValue ? &v->list_value() : nullptr;
}

int IntOr(const std::string& text, int fallback) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
    return fallback;
  return std::stoi(text);
}

void ReadContainer(const Value* status, PodView* p) {
  const google::protobuf::ListValue* cs = List(Get(status, "containerStatuses"));
  if (!cs || cs->values_size() == 0) return;
  const Value* state = Get(&cs->values(0), "state");
  if (const Value* w = Get(state, "waiting")) {
    p->waiting_reason = Str(Get(w, "reason"));
    p->waiting_message = Str(Get(w, "message"));
  }
  if (const Value* t = Get(state, "terminated")) {
    p->terminated = true;
    const Value* code = Get(t, "exitCode");
    if (code && code->kind_case() == Value::kNumberValue) {
      p->exit_code = static_cast<int>(code->number_value());
    }
    p->term_reason = Str(Get(t, "reason"));
    p->term_message = Str(Get(t, "message"));
  }
}

PodView ReadPod(const Value& pod) {
  PodView p;
  p.name = Str(At(&pod, {"metadata", "name"}));
  p.node = Str(At(&pod, {"spec", "nodeName"}));
  const Value* status = Get(&pod, "status");
  p.phase = Str(Get(status, "phase"));
  p.pod_reason = Str(Get(status, "reason"));
  p.pod_message = Str(Get(status, "message"));
  p.scheduled = !p.node.empty();
  if (const auto* conds = List(Get(status, "conditions"))) {
    for (const Value& c : conds->values()) {
      if (Str(Get(&c, "type")) != "PodScheduled") continue;
      p.scheduled = p.scheduled || Str(Get(&c, "status")) == "True";
      if (Str(Get(&c, "status")) == "False") {
        p.unschedulable = Str(Get(&c, "reason")) + ": " + Str(Get(&c, "message"));
      }
    }
  }
  ReadContainer(status, &p);
  return p;
}

bool Terminal(const PodView& p) { return p.phase == "Succeeded" || p.phase == "Failed"; }

std::string Joined(const std::string& a, const std::string& b) {
  return a.empty() ? b : b.empty() ? a : a + ": " + b;
}

// Why a pod waits or ended, for ClusterJob.reason ("" when it runs as it should).
std::string PodReason(int rank, const PodView& p) {
  std::string why;
  if (!p.waiting_reason.empty() && p.waiting_reason != "ContainerCreating" &&
      p.waiting_reason != "PodInitializing") {
    why = Joined(p.waiting_reason, p.waiting_message);
  } else if (!p.unschedulable.empty() && p.phase == "Pending") {
    why = p.unschedulable;
  } else if (p.phase == "Failed") {
    why = p.terminated ? p.term_reason + " (exit code " + std::to_string(p.exit_code) + ")"
                       : Joined(p.pod_reason, p.pod_message);
  }
  return why.empty() ? "" : "rank " + std::to_string(rank) + ": " + why;
}

}  // namespace

bool IsImagePullError(const std::string& reason) {
  return reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "InvalidImageName";
}

WorkerExit FailedPodExit(const PodView& p) {
  WorkerExit x;
  x.exit_code = p.terminated ? p.exit_code : 1;
  if (x.exit_code > 128 && x.exit_code < 160) {  // killed by a signal (the runtime's 128 + N)
    x.signal = x.exit_code - 128;
    x.exit_code = 0;
  }
  std::string why = p.terminated ? p.term_reason : p.pod_reason;
  std::string line = LastLinesOf(p.terminated ? p.term_message : p.pod_message, 1);
  x.last_log_line = why == "Error" ? line : Joined(why, line);
  if (x.last_log_line.empty()) x.last_log_line = "pod " + p.name + " failed";
  return x;
}

Status ParseLaunchPods(const std::string& json, int submission, int workers,
                       std::map<int, PodView>* pods) {
  Value root;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &root);
  const google::protobuf::ListValue* items = List(Get(&root, "items"));
  if (!parsed.ok() || !items) {
    return Status::Unavailable("kubectl get pods printed no pod list: " +
                               std::string(limits::CutUtf8(json, 200)));
  }
  for (const Value& item : items->values()) {
    const Value* labels = At(&item, {"metadata", "labels"});
    if (IntOr(Str(Get(labels, kK8sSubmissionLabel)), -1) != submission) continue;
    std::string index = Str(Get(labels, kK8sIndexLabel));
    if (index.empty()) index = Str(Get(At(&item, {"metadata", "annotations"}), kK8sIndexLabel));
    const int rank = IntOr(index, -1);
    if (rank < 0 || rank >= workers) continue;
    PodView p = ReadPod(item);
    auto it = pods->find(rank);
    if (it == pods->end() || (Terminal(it->second) && !Terminal(p))) (*pods)[rank] = p;
  }
  return Status::Ok();
}

v1::ClusterJob SummarizePods(const std::map<int, PodView>& pods, int workers) {
  v1::ClusterJob c;
  std::set<std::string> nodes;
  std::map<std::string, int> phases;
  std::string reason;
  bool unscheduled = false;
  for (const auto& [rank, p] : pods) {
    if (!p.node.empty()) nodes.insert(p.node);
    ++phases[p.phase];
    unscheduled = unscheduled || (p.phase == "Pending" && !p.scheduled);
    if (reason.empty()) reason = PodReason(rank, p);
  }
  c.set_state(phases["Failed"] > 0             ? "Failed"
              : phases["Succeeded"] == workers ? "Succeeded"
              : phases["Running"] > 0          ? "Running"
                                               : "Pending");
  std::string joined;
  for (const auto& n : nodes) joined += (joined.empty() ? "" : ",") + n;
  c.set_nodes(joined);
  c.set_reason(std::string(limits::CutUtf8(reason, limits::kMaxTextBytes)));
  c.set_queued(pods.empty() || unscheduled);
  return c;
}

}  // namespace cyclr
