// JobManager: the LR range test's loss curve (see job_manager.h).
#include "server/job_manager.h"
#include "server/manager_util.h"

namespace cyclr {
namespace {

bool IsRangeTest(const v1::JobSpec& spec) { return spec.schedule().policy() == "range-test"; }

}  // namespace

Status JobManager::ApplyRangeTest(Entry* e, const v1::ReportProgressRequest& r) {
  if ((r.curve_size() > 0 || r.train_examples() > 0) && r.rank() != 0) {
    return Status::InvalidArgument("curve and train_examples are rank 0's to report (rank " +
                                   std::to_string(r.rank()) + " sent them)");
  }
  if (r.curve_size() > 0 && !IsRangeTest(e->job.spec())) {
    return Status::FailedPrecondition("job \"" + e->job.name() +
                                      "\" is not a range test: it has no loss curve");
  }
  if (r.curve_size() > 0) {
    std::vector<LossCurvePoint> points;
    points.reserve(r.curve_size());
    for (const v1::CurvePoint& p : r.curve()) points.push_back({p.step(), p.lr(), p.loss()});
    // Durable before the report is acknowledged: the worker drops what was acknowledged.
    CYCLR_RETURN_IF_ERROR(store_->AppendCurve(e->job.name(), points));
  }
  if (r.train_examples() > 0) e->job.set_train_examples(r.train_examples());
  // Every rank says why it ended; rank 0's words are the job's.
  if (r.rank() == 0 && r.finished() && r.error().empty()) e->finish_note = r.note();
  return Status::Ok();
}

StatusOr<v1::LossCurve> JobManager::LossCurve(const std::string& name) const {
  v1::LossCurve curve;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Entry* e = Find(name);
    if (!e) return UnknownJob(name);
    if (!IsRangeTest(e->job.spec())) {
      return Status::FailedPrecondition("job \"" + name +
                                        "\" is not a range test (its schedule policy is \"" +
                                        e->job.spec().schedule().policy() + "\")");
    }
    curve.set_job(name);
    curve.set_train_examples(e->job.train_examples());
  }
  CYCLR_ASSIGN_OR_RETURN(std::vector<LossCurvePoint> points, store_->LoadCurve(name));
  for (const LossCurvePoint& p : points) {
    v1::CurvePoint* out = curve.add_points();
    out->set_step(p.step);
    out->set_lr(p.lr);
    out->set_loss(p.loss);
  }
  return curve;
}

}  // namespace cyclr
