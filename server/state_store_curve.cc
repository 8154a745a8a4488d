// StateStore: the loss curves of LR range tests (the curve_points table).
#include <cmath>
#include <limits>

#include "core/limits.h"
#include "server/sqlite_stmt.h"
#include "server/state_store.h"

namespace cyclr {

Status StateStore::AppendCurve(const std::string& job, const std::vector<LossCurvePoint>& points) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction txn(db_);
  CYCLR_RETURN_IF_ERROR(txn.begin());
  sqlite::Stmt st(db_,
                  "INSERT OR REPLACE INTO curve_points(job, step, lr, loss) VALUES(?, ?, ?, ?)");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  for (const LossCurvePoint& p : points) {
    st.Reset();
    st.BindText(1, job);
    st.Bind(2, p.step);
    st.BindDouble(3, p.lr);
    // SQLite has no NaN (it would store NULL anyway): NULL is the diverged step's NaN.
    if (std::isnan(p.loss)) {
      st.BindNull(4);
    } else {
      st.BindDouble(4, p.loss);
    }
    CYCLR_RETURN_IF_ERROR(st.Step());
  }
  return txn.Commit();
}

StatusOr<std::vector<LossCurvePoint>> StateStore::LoadCurve(const std::string& job) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Stmt st(db_, "SELECT step, lr, loss FROM curve_points WHERE job = ? ORDER BY step");
  CYCLR_RETURN_IF_ERROR(st.prepared());
  st.BindText(1, job);
  std::vector<LossCurvePoint> points;
  for (bool row = true;;) {
    CYCLR_RETURN_IF_ERROR(st.Step(&row));
    if (!row) break;
    LossCurvePoint p;
    p.step = st.Int(0);
    p.lr = st.Double(1);
    p.loss = st.IsNull(2) ? std::numeric_limits<double>::quiet_NaN() : st.Double(2);
    if (p.step < 0 || p.step >= limits::kMaxCurvePoints || !std::isfinite(p.lr) || p.lr <= 0) {
      return Status::Internal("state file: the curve point of step " + std::to_string(p.step) +
                              " of job \"" + job + "\" is corrupt: step must be in [0, " +
                              std::to_string(limits::kMaxCurvePoints) +
                              ") and lr finite and > 0 (lr " + std::to_string(p.lr) + ")");
    }
    points.push_back(p);
  }
  return points;
}

}  // namespace cyclr
