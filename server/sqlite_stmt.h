// The SQLite helpers of the StateStore's files (state_store.cc, state_store_curve.cc): one check
// helper that turns a result code into a Status, a self-finalizing statement, and a transaction
// that rolls back unless committed. Internal to the server; not thread-safe (the StateStore's
// mutex guards the connection).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cyclr::sqlite {

// The one check helper for SQLite: OK for SQLITE_OK/ROW/DONE, otherwise a Status naming what
// was being done and SQLite's own message. Constraint violations map to ALREADY_EXISTS.
inline Status SqliteCheck(sqlite3* db, int rc, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return Status::Ok();
  std::string msg = std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db) + " (code " +
                    std::to_string(rc) + ")";
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return Status::AlreadyExists(msg);
  return Status::Internal(msg);
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db), sql_(sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Status prepared() const { return SqliteCheck(db_, rc_, sql_); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindText(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void BindDouble(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  // Makes the statement ready to be stepped again with new bindings.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // Steps once; `row` tells whether a row is available.
  Status Step(bool* row = nullptr) {
    int rc = sqlite3_step(stmt_);
    if (row) *row = rc == SQLITE_ROW;
    return SqliteCheck(db_, rc, sql_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), n) : std::string();
  }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  const char* sql_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    begin_ =
        SqliteCheck(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "BEGIN");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  const Status& begin() const { return begin_; }
  Status Commit() {
    Status s = SqliteCheck(db_, sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), "COMMIT");
    done_ = s.ok();
    return s;
  }

 private:
  sqlite3* db_;
  Status begin_;
  bool done_ = false;
};

}  // namespace cyclr::sqlite
