// StateStore: the coordinator's durable state in one SQLite file.
//
// Holds everything needed to recover after a restart: every job (spec, state, reason, progress
// snapshot) and every schedule revision with its applied step. The database runs in WAL mode with
// synchronous=FULL, and every mutation is one transaction, so a call that returned OK survived a
// crash (a schedule update is durable before UpdateSchedule replies).
//
// Thread-safe: one connection guarded by a mutex. SQLite errors come back as INTERNAL naming the
// statement and SQLite's message (one check helper, see state_store.cc).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/loss_curve.h"
#include "core/status.h"
#include "core/timeline.h"
#include "cyclr/v1/job.pb.h"
#include "server/state_rows.h"

struct sqlite3;

namespace cyclr {

// One stored token (state_store_tokens.cc): its name, role ("viewer" | "operator" | "admin" |
// "worker"), the SHA-256 of its secret, the job of a worker credential.
struct TokenRow {
  std::string name;
  std::string role;
  std::string sha256;
  std::string job;
  int64_t created_unix_ms = 0;
};

class StateStore {
 public:
  // Opens (creating if needed) the database at `path` and its tables.
  static StatusOr<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Inserts a new job and its first revision in one transaction. ALREADY_EXISTS if the name is
  // taken. `job.ranks` is not stored (it is rebuilt from worker reports).
  Status CreateJob(const v1::Job& job, const Revision& first);
  // Overwrites the job's state, reason and progress snapshot. NOT_FOUND for an unknown job.
  Status SaveJob(const v1::Job& job);
  // Appends a revision. REQUIRES the job exists; ALREADY_EXISTS for a duplicate version.
  Status AppendRevision(const std::string& job, const Revision& rev);
  // Records revision `version`'s applied step. NOT_FOUND if there is no such revision.
  Status SetApplied(const std::string& job, int64_t version, int64_t step);

  // Deletes the job, its revisions and worker pids in one transaction. NOT_FOUND for an unknown
  // job.
  Status DeleteJob(const std::string& job);

  // Records the pid of a job's rank (the latest registration), so that a restarted coordinator
  // can adopt the local workers that outlived the previous one.
  Status SaveWorkerPid(const std::string& job, int rank, int pid);
  // rank -> pid, as last recorded; rows outside rank [0, kMaxWorkersPerJob) or pid
  // [1, kMaxPid] are skipped.
  StatusOr<std::map<int, int>> LoadWorkerPids(const std::string& job);

  // The raw rows, in creation / version order, for the caller to decode (state_rows.h) and to
  // quarantine what is bad. Errors are SQLite's only.
  StatusOr<std::vector<JobRow>> LoadJobRows();
  StatusOr<std::vector<RevisionRow>> LoadRevisionRows(const std::string& job);
  // Decoded: every job in creation order, without ranks / the job's revisions in version order,
  // applied steps included. INTERNAL naming the first bad row and why (state_rows.h).
  StatusOr<std::vector<v1::Job>> LoadJobs();
  StatusOr<std::vector<Revision>> LoadRevisions(const std::string& job);

  // An LR range test's curve (state_store_curve.cc). AppendCurve stores points in one transaction,
  // replacing a step's earlier point (a report sent again after a lost reply carries the same
  // values). REQUIRES the job exists. LoadCurve: the job's points in step order; INTERNAL naming
  // the first row whose step is outside [0, kMaxCurvePoints) or whose lr is not finite and > 0.
  Status AppendCurve(const std::string& job, const std::vector<LossCurvePoint>& points);
  StatusOr<std::vector<LossCurvePoint>> LoadCurve(const std::string& job);

  // Tokens (state_store_tokens.cc). PutToken inserts, or with `replace` overwrites the row of
  // the same name (a worker credential made again); ALREADY_EXISTS otherwise for a taken name.
  Status PutToken(const TokenRow& row, bool replace);
  Status DeleteToken(const std::string& name);  // NOT_FOUND
  // Every row; rows with an unknown role or a malformed digest are skipped (they grant nothing).
  StatusOr<std::vector<TokenRow>> LoadTokens();

  const std::string& path() const { return path_; }

 private:
  StateStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql);
  Status InsertRevision(const std::string& job, const Revision& rev);

  std::mutex mu_;
  sqlite3* db_;  // owned; GUARDED_BY(mu_)
  std::string path_;
};

}  // namespace cyclr
