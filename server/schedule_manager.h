// ScheduleManager: every job's Timeline, its updates, and notification of watchers.
//
// An update is validated by core (Timeline::Append), written to the StateStore, and only then
// made visible, so UpdateSchedule never reports a revision that a crash could lose. Every change
// grows a per-job generation counter. Watchers subscribe (Subscribe): the manager's feed thread
// hands them one shared snapshot per change (change_feed.h).
//
// The job's current step and whether it ended are pushed in by the JobManager (SetCurrentStep,
// EndJob), so this class depends on nothing but the store. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/timeline.h"
#include "server/change_feed.h"
#include "server/state_store.h"

namespace cyclr {

// A request to append a revision (the service converts it from the wire).
struct ScheduleUpdate {
  std::string job;
  std::optional<ScheduleSpec> spec;       // required unless revert_to is set
  std::optional<int64_t> effective_step;  // default: the job's current step
  PhaseMode phase = PhaseMode::kContinue;
  std::string author;
  std::string reason;
  std::optional<int64_t> revert_to;  // append this revision's spec again
};

struct TimelineSnapshot {
  int64_t generation = 0;  // grows on every change (revision, applied step, end)
  Timeline timeline;
  bool ended = false;  // the job reached a terminal state
};

class ScheduleManager {
 public:
  // `store` may be null (tests of the logic alone); it must outlive this object.
  explicit ScheduleManager(StateStore* store) : store_(store) {}

  // Installs a job's timeline (at launch, after the store has it, or at recovery; a quarantined
  // job's may be empty). ALREADY_EXISTS when the job is known already (nothing changes).
  Status AddJob(const std::string& job, Timeline timeline, int64_t current_step, bool ended);

  // Appends a revision and returns it once durable. NOT_FOUND for an unknown job,
  // FAILED_PRECONDITION for an ended job or an effective_step before the job's current step (or
  // before the previous revision's start), INVALID_ARGUMENT for a bad spec, a missing spec or
  // an unknown revert_to, RESOURCE_EXHAUSTED once the job has limits::kMaxRevisionsPerJob
  // revisions. On error nothing changes.
  StatusOr<Revision> Update(const ScheduleUpdate& update);

  // Records that every rank applied `version` from `step` on (from worker reports); persisted.
  // Idempotent for the same step.
  Status MarkApplied(const std::string& job, int64_t version, int64_t step);

  // The value in force at `step`; NOT_FOUND for an unknown job, FAILED_PRECONDITION for an empty
  // timeline (a quarantined job), INVALID_ARGUMENT for step < 0.
  StatusOr<TimelinePoint> PointAt(const std::string& job, int64_t step) const;
  StatusOr<TimelineSnapshot> Snapshot(const std::string& job) const;

  // Values at steps [start, start + steps) of the job's timeline (version = revision in force)
  // or of one spec alone (version 0). INVALID_ARGUMENT unless 0 <= start <= limits::kMaxStep and
  // 1 <= steps <= kMaxPreviewSteps (so start + steps cannot overflow).
  static constexpr int64_t kMaxPreviewSteps = limits::kMaxPreviewSteps;
  StatusOr<std::vector<TimelinePoint>> PreviewJob(const std::string& job, int64_t start,
                                                  int64_t steps) const;
  static StatusOr<std::vector<TimelinePoint>> PreviewSpec(const ScheduleSpec& spec, int64_t start,
                                                          int64_t steps);

  // Push notification of the job's changes: `listener` is called with the job's snapshot after
  // every change (generation growth, coalesced), on the manager's feed thread with no lock held,
  // under ChangeFeed's contract (change_feed.h: must not block; may run once more after
  // Unsubscribe). Returns the listener's id and the current snapshot, taken atomically with the
  // registration so no change is missed. NOT_FOUND for an unknown job.
  using Listener = ChangeFeed<TimelineSnapshot>::Listener;
  using Subscription = ChangeFeed<TimelineSnapshot>::Subscription;
  StatusOr<Subscription> Subscribe(const std::string& job, Listener listener);
  void Unsubscribe(const std::string& job, int64_t id);
  size_t subscribers(const std::string& job) const { return feed_.listeners(job); }

  // Updates the step used as the default/minimum effective step (monotonic).
  void SetCurrentStep(const std::string& job, int64_t step);
  // Marks the job ended: no more updates, watchers finish.
  void EndJob(const std::string& job);
  // Forgets the job's timeline (a deleted job; its stored rows are the JobManager's to delete).
  // Watchers of an ended job have had their last message. A no-op for an unknown job.
  void RemoveJob(const std::string& job);

 private:
  struct Entry {
    Timeline timeline;
    int64_t current_step = 0;
    int64_t generation = 1;
    bool ended = false;
  };
  // REQUIRES mu_ held.
  StatusOr<Revision> BuildRevision(const Entry& e, const ScheduleUpdate& u) const;
  void Changed(const std::string& job, Entry* e);  // REQUIRES mu_ held
  std::shared_ptr<const TimelineSnapshot> SharedSnapshot(const std::string& job) const;

  StateStore* store_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> jobs_;  // GUARDED_BY(mu_)
  // Last member: its thread reads the ones above and stops first.
  ChangeFeed<TimelineSnapshot> feed_{
      [this](const std::string& job) { return SharedSnapshot(job); }};
};

}  // namespace cyclr
