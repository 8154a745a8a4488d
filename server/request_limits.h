// RequestLimits: the boundary check of every request the coordinator's services accept.
//
// One function per request type of proto/cyclr/v1/service.proto; each thin service calls it
// before delegating, so the managers only ever see values inside core/limits.h's bounds (their
// arithmetic cannot overflow and no CYCLR_CHECK can be reached from a client). The first
// violation comes back as INVALID_ARGUMENT naming the field (repeated fields with their index,
// "steps[3].step") and the rule; a client value is quoted through limits::Echo, so a huge value
// never floods the reply. Quotas that depend on state (jobs, workers, revisions, store bytes,
// waiters) are the managers' RESOURCE_EXHAUSTED, not checked here.
//
// The rules, by request:
//   job / name        a job name ([a-z0-9][a-z0-9-]{0,62}); PreviewSchedule's job may be empty
//   LaunchJob         spec required; its rules are NormalizeJobSpec's (job_spec_rules.h)
//   ListJobs          page_size in [0, kMaxListPageSize]; page_token <= 20 bytes (the manager
//                     refuses one it did not hand out)
//   StopJob           reason <= kMaxTextBytes
//   DeleteJob         name
//   UpdateSchedule    effective_step in [0, kMaxStep]; revert_to in [1, kMaxRevisionsPerJob];
//                     phase one of the enum; author, reason <= kMaxTextBytes
//   PreviewSchedule   start_step in [0, kMaxStep]; steps in [1, kMaxPreviewSteps]
//   Register          rank in [-1, kMaxWorkersPerJob); world_size in [1, kMaxWorkersPerJob];
//                     host <= kMaxTextBytes; pid in [0, kMaxPid]
//   StoreSet          key 1..kMaxStoreKeyBytes; value <= kMaxStoreValueBytes
//   StoreGet          1..kMaxStoreKeysPerGet keys of 1..kMaxStoreKeyBytes; timeout_ms >= 0
//                     (0 = the coordinator's default; longer than kMaxStoreTimeout is cut to it)
//   ReportProgress    rank in [0, kMaxWorkersPerJob); steps, epochs, applied each at most
//                     kMaxReportsPerRequest; error <= kMaxErrorBytes; blas one of BlasInfo's
//                     kinds or ""; threads in [0, kMaxThreads]; total_steps in
//                     [0, kMaxStep]; a step report's step in [0, kMaxStep) (its global step,
//                     step + 1, stays <= kMaxStep), epoch in [0, kMaxEpochs], lr, momentum
//                     finite, samples_per_second, step_seconds, allreduce_seconds finite >= 0,
//                     schedule_version in [0, kMaxRevisionsPerJob]; loss is free (a diverging
//                     worker's NaN or Inf is information, see JobManager's aggregation);
//                     an epoch report's epoch in [0, kMaxEpochs], step in [0, kMaxStep],
//                     test_accuracy finite in [0, 1], test_loss finite; an applied revision's
//                     version in [1, kMaxRevisionsPerJob], step in [0, kMaxStep]
#pragma once

#include "core/status.h"
#include "cyclr/v1/service.pb.h"

namespace cyclr {

// The most bytes of a worker log one GetWorkerLog returns, and its default.
inline constexpr int kMaxLogReadBytes = 1 << 20;
inline constexpr int kDefaultLogReadBytes = 64 << 10;

Status CheckRequest(const v1::LaunchJobRequest& req);
Status CheckRequest(const v1::GetJobRequest& req);  // GetJob and WatchJob
// job a name; rank 0..kMaxWorkersPerJob-1; max_bytes 0..kMaxLogReadBytes; |offset| < 2^62.
Status CheckRequest(const v1::GetWorkerLogRequest& req);
Status CheckRequest(const v1::ListJobsRequest& req);
Status CheckRequest(const v1::StopJobRequest& req);
Status CheckRequest(const v1::DeleteJobRequest& req);
Status CheckRequest(const v1::GetTimelineRequest& req);  // GetTimeline and WatchTimeline
Status CheckRequest(const v1::UpdateScheduleRequest& req);
Status CheckRequest(const v1::PreviewScheduleRequest& req);
Status CheckRequest(const v1::RegisterRequest& req);
Status CheckRequest(const v1::StoreSetRequest& req);
Status CheckRequest(const v1::StoreGetRequest& req);
Status CheckRequest(const v1::ReportProgressRequest& req);

}  // namespace cyclr
