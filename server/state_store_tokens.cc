// StateStore: tokens, stored by the SHA-256 of their secret (the tokens table).
#include "server/sqlite_stmt.h"
#include "server/state_store.h"

namespace cyclr {
namespace {

bool IsHexDigest(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

Status StateStore::PutToken(const TokenRow& row, bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Stmt st(db_, replace ? "INSERT OR REPLACE INTO tokens(name, role, sha256, job, "
                                 "created_unix_ms) VALUES(?, ?, ?, ?, ?)"
                               : "INSERT INTO tokens(name, role, sha256, job, created_unix_ms) "
                                 "VALUES(?, ?, ?, ?, ?)");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, row.name);
  st.BindText(2, row.role);
  st.BindText(3, row.sha256);
  st.BindText(4, row.job);
  st.Bind(5, row.created_unix_ms);
  Status s = st.Step();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("a token named \"" + row.name + "\" exists (revoke it first)");
  }
  return s;
}

Status StateStore::DeleteToken(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Stmt st(db_, "DELETE FROM tokens WHERE name = ?");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, name);
  CYCLR_RETURN_IF_ERROR(st.Step());
  if (st.changes() == 0) return Status::NotFound("no token named \"" + name + "\"");
  return Status::Ok();
}

StatusOr<std::vector<TokenRow>> StateStore::LoadTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Stmt st(db_,
                  "SELECT name, role, sha256, job, created_unix_ms FROM tokens ORDER BY name");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  std::vector<TokenRow> rows;
  for (bool row = true;;) {
    CYCLR_RETURN_IF_ERROR(st.Step(&row));
    if (!row) break;
    TokenRow r{st.Blob(0), st.Blob(1), st.Blob(2), st.Blob(3), st.Int(4)};
    const bool known = r.role == "viewer" || r.role == "operator" || r.role == "admin" ||
                       (r.role == "worker" && !r.job.empty());
    if (known && IsHexDigest(r.sha256)) rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace cyclr
