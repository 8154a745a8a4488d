// What KubernetesLauncher reads of a job's pods: `kubectl get pods -o json` parsed (with
// protobuf's JSON parser into google.protobuf.Value) into one PodView per rank, and what the pods
// mean: the allocation's ClusterJob and the exit of a failed pod. Pure functions, no kubectl.
#pragma once

#include <map>
#include <string>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"
#include "server/launcher.h"

namespace cyclr {

// One pod as the launcher needs it.
struct PodView {
  std::string name, node, phase;  // phase: Pending, Running, Succeeded, Failed, Unknown
  bool scheduled = false;         // has a node (or its PodScheduled condition is True)
  std::string waiting_reason, waiting_message;  // the worker container's, while it waits
  std::string unschedulable;  // "Unschedulable: 0/3 nodes ..." while PodScheduled is False
  bool terminated = false;    // the container's terminated state (exit_code, term_*) is set
  int exit_code = 0;
  std::string term_reason, term_message;  // "Error", "OOMKilled"; its last log lines
  std::string pod_reason, pod_message;    // status.reason/message ("Evicted", ...)
};

// The pods of launch `submission` (label cyclr.io/submission) by rank (the completion index,
// from the label or else the annotation; outside 0..workers-1: skipped). One per rank: a pod that
// has not ended wins over one that has. UNAVAILABLE when `json` is not a pod list.
Status ParseLaunchPods(const std::string& json, int submission, int workers,
                       std::map<int, PodView>* pods);

// ErrImagePull, ImagePullBackOff, InvalidImageName.
bool IsImagePullError(const std::string& reason);

// A Failed pod's exit (job and rank left to the caller): the container's exit code, 128 + N as
// signal N; last_log_line the last line of its termination message (the log's end, with
// FallbackToLogsOnError) after its reason unless that is the plain "Error".
WorkerExit FailedPodExit(const PodView& p);

// The allocation as the pods show it (scheduler, id and submissions left to the caller): state
// Failed if a pod failed, else Succeeded if all `workers` did, else Running if one runs, else
// Pending; nodes the pods' nodes, sorted, joined by ","; reason the first rank's that waits
// (ImagePullBackOff: ..., Unschedulable: ...) or failed; queued while no pod exists or one is
// Pending and unscheduled.
v1::ClusterJob SummarizePods(const std::map<int, PodView>& pods, int workers);

}  // namespace cyclr
