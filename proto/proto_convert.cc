#include "proto/proto_convert.h"

#include <map>
#include <string>

#include "core/limits.h"

namespace cyclr {

v1::ScheduleSpec ToProto(const ScheduleSpec& spec) {
  v1::ScheduleSpec out;
  out.set_policy(PolicyName(spec.policy));
  if (spec.base_lr) out.set_base_lr(*spec.base_lr);
  if (spec.max_lr) out.set_max_lr(*spec.max_lr);
  if (spec.step_size_up) out.set_step_size_up(*spec.step_size_up);
  if (spec.step_size_down) out.set_step_size_down(*spec.step_size_down);
  if (spec.gamma) out.set_gamma(*spec.gamma);
  if (spec.scale_mode) out.set_scale_mode(ScaleModeName(*spec.scale_mode));
  if (spec.decay) out.set_decay(DecayName(*spec.decay));
  if (spec.base_momentum) out.set_base_momentum(*spec.base_momentum);
  if (spec.max_momentum) out.set_max_momentum(*spec.max_momentum);
  if (spec.total_steps) out.set_total_steps(*spec.total_steps);
  if (spec.pct_start) out.set_pct_start(*spec.pct_start);
  if (spec.anneal) out.set_anneal(AnnealName(*spec.anneal));
  if (spec.div_factor) out.set_div_factor(*spec.div_factor);
  if (spec.final_div_factor) out.set_final_div_factor(*spec.final_div_factor);
  if (spec.three_phase) out.set_three_phase(*spec.three_phase);
  if (spec.t0) out.set_t0(*spec.t0);
  if (spec.t_mult) out.set_t_mult(*spec.t_mult);
  if (spec.warmup_steps) out.set_warmup_steps(*spec.warmup_steps);
  if (spec.ramp) out.set_ramp(RampName(*spec.ramp));
  return out;
}

namespace {
std::string Exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
// The enum-like text fields are cut before they reach core's parser, whose messages quote them.
Status CheckEnumText(const char* field, const std::string& value) {
  if (value.size() <= limits::kMaxEnumBytes) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " (" + limits::Echo(value) +
                                 ") must be at most " + std::to_string(limits::kMaxEnumBytes) +
                                 " bytes");
}

}  // namespace

StatusOr<ScheduleSpec> FromProto(const v1::ScheduleSpec& p) {
  CYCLR_RETURN_IF_ERROR(CheckEnumText("policy", p.policy()));
  CYCLR_RETURN_IF_ERROR(CheckEnumText("scale_mode", p.scale_mode()));
  CYCLR_RETURN_IF_ERROR(CheckEnumText("decay", p.decay()));
  CYCLR_RETURN_IF_ERROR(CheckEnumText("anneal", p.anneal()));
  CYCLR_RETURN_IF_ERROR(CheckEnumText("ramp", p.ramp()));
  // Through the option map, so that the wire, the CLI and YAML share one parser and validator.
  std::map<std::string, std::string> o;
  o["policy"] = p.policy();
  if (p.has_base_lr()) o["base_lr"] = Exact(p.base_lr());
  if (p.has_max_lr()) o["max_lr"] = Exact(p.max_lr());
  if (p.has_step_size_up()) o["step_size_up"] = std::to_string(p.step_size_up());
  if (p.has_step_size_down()) o["step_size_down"] = std::to_string(p.step_size_down());
  if (p.has_gamma()) o["gamma"] = Exact(p.gamma());
  if (p.has_scale_mode()) o["scale_mode"] = p.scale_mode();
  if (p.has_decay()) o["decay"] = p.decay();
  if (p.has_base_momentum()) o["base_momentum"] = Exact(p.base_momentum());
  if (p.has_max_momentum()) o["max_momentum"] = Exact(p.max_momentum());
  if (p.has_total_steps()) o["total_steps"] = std::to_string(p.total_steps());
  if (p.has_pct_start()) o["pct_start"] = Exact(p.pct_start());
  if (p.has_anneal()) o["anneal"] = p.anneal();
  if (p.has_div_factor()) o["div_factor"] = Exact(p.div_factor());
  if (p.has_final_div_factor()) o["final_div_factor"] = Exact(p.final_div_factor());
  if (p.has_three_phase()) o["three_phase"] = p.three_phase() ? "true" : "false";
  if (p.has_t0()) o["t0"] = std::to_string(p.t0());
  if (p.has_t_mult()) o["t_mult"] = std::to_string(p.t_mult());
  if (p.has_warmup_steps()) o["warmup_steps"] = std::to_string(p.warmup_steps());
  if (p.has_ramp()) o["ramp"] = p.ramp();
  return SpecFromOptions(o);
}

v1::Revision ToProto(const Revision& rev) {
  v1::Revision out;
  out.set_version(rev.version);
  out.set_effective_step(rev.effective_step);
  if (rev.applied_step) out.set_applied_step(*rev.applied_step);
  *out.mutable_spec() = ToProto(rev.spec);
  out.set_phase(rev.phase == PhaseMode::kRestart ? v1::PHASE_MODE_RESTART
                                                 : v1::PHASE_MODE_CONTINUE);
  out.set_author(rev.author);
  out.set_reason(rev.reason);
  out.set_created_unix_ms(rev.created_unix_ms);
  return out;
}

StatusOr<PhaseMode> FromProto(v1::PhaseMode phase) {
  switch (phase) {
    case v1::PHASE_MODE_UNSPECIFIED:
    case v1::PHASE_MODE_CONTINUE: return PhaseMode::kContinue;
    case v1::PHASE_MODE_RESTART: return PhaseMode::kRestart;
    default: break;
  }
  return Status::InvalidArgument("phase (" + std::to_string(static_cast<int>(phase)) +
                                 ") must be PHASE_MODE_UNSPECIFIED (0), PHASE_MODE_CONTINUE (1) "
                                 "or PHASE_MODE_RESTART (2)");
}

StatusOr<Revision> FromProto(const v1::Revision& p) {
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec spec, FromProto(p.spec()));
  CYCLR_ASSIGN_OR_RETURN(PhaseMode phase, FromProto(p.phase()));
  Revision rev;
  rev.version = p.version();
  rev.effective_step = p.effective_step();
  if (p.has_applied_step()) rev.applied_step = p.applied_step();
  rev.spec = spec;
  rev.phase = phase;
  rev.author = p.author();
  rev.reason = p.reason();
  rev.created_unix_ms = p.created_unix_ms();
  return rev;
}

v1::Timeline ToProto(const Timeline& timeline) {
  v1::Timeline out;
  for (const Revision& rev : timeline.revisions()) *out.add_revisions() = ToProto(rev);
  return out;
}

StatusOr<Timeline> FromProto(const v1::Timeline& p) {
  Timeline timeline;
  for (const v1::Revision& pr : p.revisions()) {
    CYCLR_ASSIGN_OR_RETURN(Revision rev, FromProto(pr));
    std::optional<int64_t> applied = rev.applied_step;
    rev.applied_step.reset();
    Status st = timeline.Append(rev);
    if (st.ok() && applied) st = timeline.MarkApplied(rev.version, *applied);
    if (!st.ok()) return st.WithContext("revision " + std::to_string(pr.version()));
  }
  return timeline;
}

v1::SchedulePoint ToProto(const TimelinePoint& point, int64_t step) {
  v1::SchedulePoint out;
  out.set_step(step);
  out.set_lr(point.lr);
  if (point.momentum) out.set_momentum(*point.momentum);
  out.set_cycle(point.cycle);
  out.set_cycle_position(point.cycle_position);
  out.set_version(point.version);
  return out;
}

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message());
}

Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  return Status(static_cast<StatusCode>(status.error_code()), status.error_message());
}

}  // namespace cyclr
