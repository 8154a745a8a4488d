// StateRows: the rows of the state file as SQLite hands them over, and their decoding.
//
// The state file is input like any request: it may have been edited by hand, written by another
// version or damaged. Decoding is pure (no SQLite, no managers), so every rule is unit-tested on
// its own; StateStore reads raw rows and JobManager::Recover decides what a bad row means (the job
// is quarantined, the others start). Errors are INVALID_ARGUMENT naming the column (or the field
// of a stored message) and the rule, e.g. "global_step (-5) must be between 0 and 1099511627776".
//
// Rules: name a job name; state one of PENDING..STOPPED; global_step, total_steps in
// [0, kMaxStep]; reason at most kMaxReasonBytes; spec a JobSpec that NormalizeJobSpec accepts
// and names the row's job; snapshot a Job whose epoch is in [0, kMaxEpochs], test_accuracy finite
// in [0, 1], samples_per_second finite >= 0, restarts in [0, kMaxRestarts] and schedule_version in
// [0, kMaxRevisionsPerJob] and train_examples in [0, kMaxStep]. A revision: a Revision message (valid spec, known phase) whose
// version and effective_step equal their columns, applied_step in [0, kMaxStep], author and
// reason at most kMaxTextBytes; the revisions of a job must build a Timeline (versions 1, 2, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/timeline.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

// One row of the `jobs` table (blobs as bytes, integers as stored).
struct JobRow {
  std::string name;
  std::string spec;  // a serialized v1::JobSpec
  int64_t state = 0;
  std::string reason;
  int64_t global_step = 0;
  int64_t total_steps = 0;
  std::string snapshot;  // a serialized v1::Job: the aggregates that have no column
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
};

// One row of the `revisions` table.
struct RevisionRow {
  int64_t version = 0;
  int64_t effective_step = 0;
  std::optional<int64_t> applied_step;
  std::string revision;  // a serialized v1::Revision
};

// The job of a row (without ranks or unknown fields), or why the row is bad.
StatusOr<v1::Job> DecodeJobRow(const JobRow& row);
// The revision of a row, applied step included, or why it is bad.
StatusOr<Revision> DecodeRevisionRow(const RevisionRow& row);
// Appends the rows' revisions, in order, to `timeline` (empty on entry); on a bad row it stops
// and says why ("revision 2: ..."), keeping the revisions before it.
Status DecodeTimeline(const std::vector<RevisionRow>& rows, Timeline* timeline);

// What recovery serves for a job whose row or revisions are bad: the row's name, spec (when it
// parses), created/updated times and steps (clamped into [0, kMaxStep]), state FAILED, reason
// "quarantined at recovery: <why>", nothing else of the snapshot.
v1::Job QuarantinedJob(const JobRow& row, const std::string& why);

}  // namespace cyclr
