#include "server/state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/limits.h"
#include "proto/proto_convert.h"
#include "server/sqlite_stmt.h"

namespace cyclr {
namespace {

using sqlite::SqliteCheck;
using sqlite::Stmt;
using sqlite::Transaction;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  spec BLOB NOT NULL,
  state INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  global_step INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER NOT NULL DEFAULT 0,
  snapshot BLOB NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  updated_unix_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revisions(
  job TEXT NOT NULL REFERENCES jobs(name),
  version INTEGER NOT NULL,
  effective_step INTEGER NOT NULL,
  applied_step INTEGER,
  revision BLOB NOT NULL,
  PRIMARY KEY(job, version));
CREATE TABLE IF NOT EXISTS worker_pids(
  job TEXT NOT NULL REFERENCES jobs(name),
  rank INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  PRIMARY KEY(job, rank));
CREATE TABLE IF NOT EXISTS tokens(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE,
  job TEXT NOT NULL DEFAULT '',
  created_unix_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS curve_points(
  job TEXT NOT NULL REFERENCES jobs(name),
  step INTEGER NOT NULL,
  lr REAL NOT NULL,
  loss REAL,
  PRIMARY KEY(job, step));
)sql";

// The snapshot keeps the aggregates that have no column (epoch, loss, accuracy, ...).
std::string Snapshot(const v1::Job& job) {
  v1::Job copy = job;
  copy.clear_spec();
  copy.clear_ranks();
  return copy.SerializeAsString();
}

}  // namespace

StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  // Created 0600 (SQLite would use 0644; its -wal and -shm files copy the database's mode): the
  // state holds job specs and token digests.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::Unavailable("cannot open state file " + path + ": " +
                                   (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  CYCLR_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  CYCLR_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  CYCLR_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  CYCLR_RETURN_IF_ERROR(store->Exec(kSchema));
  return store;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const char* sql) {
  return SqliteCheck(db_, sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), sql);
}

Status StateStore::InsertRevision(const std::string& job, const Revision& rev) {
  Stmt st(db_,
          "INSERT INTO revisions(job, version, effective_step, applied_step, revision) "
          "VALUES(?, ?, ?, ?, ?)");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job);
  st.Bind(2, rev.version);
  st.Bind(3, rev.effective_step);
  if (rev.applied_step)
    st.Bind(4, *rev.applied_step);
  else
    st.BindNull(4);
  st.Bind(5, ToProto(rev).SerializeAsString());
  return st.Step();
}

Status StateStore::CreateJob(const v1::Job& job, const Revision& first) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  CYCLR_RETURN_IF_ERROR(txn.begin());
  Stmt st(db_,
          "INSERT INTO jobs(name, spec, state, reason, global_step, total_steps, snapshot, "
          "created_unix_ms, updated_unix_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job.name());
  st.Bind(2, job.spec().SerializeAsString());
  st.Bind(3, static_cast<int64_t>(job.state()));
  st.BindText(4, job.reason());
  st.Bind(5, job.global_step());
  st.Bind(6, job.total_steps());
  st.Bind(7, Snapshot(job));
  st.Bind(8, job.created_unix_ms());
  st.Bind(9, job.updated_unix_ms());
  Status s = st.Step();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("job \"" + job.name() + "\" already exists");
  }
  CYCLR_RETURN_IF_ERROR(s);
  CYCLR_RETURN_IF_ERROR(InsertRevision(job.name(), first));
  return txn.Commit();
}

Status StateStore::SaveJob(const v1::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  CYCLR_RETURN_IF_ERROR(txn.begin());
  Stmt st(db_,
          "UPDATE jobs SET state = ?, reason = ?, global_step = ?, total_steps = ?, "
          "snapshot = ?, updated_unix_ms = ? WHERE name = ?");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.Bind(1, static_cast<int64_t>(job.state()));
  st.BindText(2, job.reason());
  st.Bind(3, job.global_step());
  st.Bind(4, job.total_steps());
  st.Bind(5, Snapshot(job));
  st.Bind(6, job.updated_unix_ms());
  st.BindText(7, job.name());
  CYCLR_RETURN_IF_ERROR(st.Step());
  if (st.changes() == 0) return Status::NotFound("job \"" + job.name() + "\" not found");
  return txn.Commit();
}

Status StateStore::AppendRevision(const std::string& job, const Revision& rev) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  CYCLR_RETURN_IF_ERROR(txn.begin());
  CYCLR_RETURN_IF_ERROR(InsertRevision(job, rev));
  return txn.Commit();
}

Status StateStore::SetApplied(const std::string& job, int64_t version, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  CYCLR_RETURN_IF_ERROR(txn.begin());
  Stmt st(db_, "UPDATE revisions SET applied_step = ? WHERE job = ? AND version = ?");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.Bind(1, step);
  st.BindText(2, job);
  st.Bind(3, version);
  CYCLR_RETURN_IF_ERROR(st.Step());
  if (st.changes() == 0) {
    return Status::NotFound("job \"" + job + "\" has no revision " + std::to_string(version));
  }
  return txn.Commit();
}

StatusOr<std::vector<JobRow>> StateStore::LoadJobRows() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_,
          "SELECT name, spec, state, reason, global_step, total_steps, snapshot, "
          "created_unix_ms, updated_unix_ms FROM jobs ORDER BY seq");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  std::vector<JobRow> rows;
  for (bool row = true;;) {
    CYCLR_RETURN_IF_ERROR(st.Step(&row));
    if (!row) break;
    JobRow r;
    r.name = st.Blob(0);
    r.spec = st.Blob(1);
    r.state = st.Int(2);
    r.reason = st.Blob(3);
    r.global_step = st.Int(4);
    r.total_steps = st.Int(5);
    r.snapshot = st.Blob(6);
    r.created_unix_ms = st.Int(7);
    r.updated_unix_ms = st.Int(8);
    rows.push_back(std::move(r));
  }
  return rows;
}

StatusOr<std::vector<RevisionRow>> StateStore::LoadRevisionRows(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_,
          "SELECT version, effective_step, applied_step, revision FROM revisions WHERE job = ? "
          "ORDER BY version");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job);
  std::vector<RevisionRow> rows;
  for (bool row = true;;) {
    CYCLR_RETURN_IF_ERROR(st.Step(&row));
    if (!row) break;
    RevisionRow r;
    r.version = st.Int(0);
    r.effective_step = st.Int(1);
    if (!st.IsNull(2)) r.applied_step = st.Int(2);
    r.revision = st.Blob(3);
    rows.push_back(std::move(r));
  }
  return rows;
}

StatusOr<std::vector<v1::Job>> StateStore::LoadJobs() {
  CYCLR_ASSIGN_OR_RETURN(std::vector<JobRow> rows, LoadJobRows());
  std::vector<v1::Job> jobs;
  for (const JobRow& row : rows) {
    StatusOr<v1::Job> job = DecodeJobRow(row);
    if (!job.ok()) {
      return Status::Internal("state file: job " + limits::Echo(row.name) +
                              " is corrupt: " + job.status().message());
    }
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

StatusOr<std::vector<Revision>> StateStore::LoadRevisions(const std::string& job) {
  CYCLR_ASSIGN_OR_RETURN(std::vector<RevisionRow> rows, LoadRevisionRows(job));
  std::vector<Revision> revs;
  for (const RevisionRow& row : rows) {
    StatusOr<Revision> rev = DecodeRevisionRow(row);
    if (!rev.ok()) {
      return Status::Internal("state file: revision " + std::to_string(row.version) + " of job \"" +
                              job + "\" is corrupt: " + rev.status().message());
    }
    revs.push_back(std::move(*rev));
  }
  return revs;
}

Status StateStore::DeleteJob(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(db_);
  CYCLR_RETURN_IF_ERROR(txn.begin());
  for (const char* sql :
       {"DELETE FROM worker_pids WHERE job = ?", "DELETE FROM revisions WHERE job = ?",
        "DELETE FROM curve_points WHERE job = ?", "DELETE FROM tokens WHERE job = ?"}) {
    Stmt st(db_, sql);
    CYCLR_RETURN_IF_ERROR(st.prepared());
    st.BindText(1, job);
    CYCLR_RETURN_IF_ERROR(st.Step());
  }
  Stmt st(db_, "DELETE FROM jobs WHERE name = ?");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job);
  CYCLR_RETURN_IF_ERROR(st.Step());
  if (st.changes() == 0) return Status::NotFound("job \"" + job + "\" not found");
  return txn.Commit();
}

Status StateStore::SaveWorkerPid(const std::string& job, int rank, int pid) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "INSERT OR REPLACE INTO worker_pids(job, rank, pid) VALUES(?, ?, ?)");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job);
  st.Bind(2, static_cast<int64_t>(rank));
  st.Bind(3, static_cast<int64_t>(pid));
  return st.Step();  // one statement: SQLite runs it as its own transaction
}

StatusOr<std::map<int, int>> StateStore::LoadWorkerPids(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st(db_, "SELECT rank, pid FROM worker_pids WHERE job = ? ORDER BY rank");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job);
  std::map<int, int> pids;
  for (bool row = true;;) {
    CYCLR_RETURN_IF_ERROR(st.Step(&row));
    if (!row) break;
    int64_t rank = st.Int(0), pid = st.Int(1);
    // A hand-edited row is skipped: only a plausible pid is ever handed to the launcher.
    if (rank < 0 || rank >= limits::kMaxWorkersPerJob || pid < 1 || pid > limits::kMaxPid) {
      continue;
    }
    pids[static_cast<int>(rank)] = static_cast<int>(pid);
  }
  return pids;
}

}  // namespace cyclr
