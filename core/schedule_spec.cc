// Names, equality and text forms of ScheduleSpec. Validation lives in spec_validate.cc and the
// option-map conversions in spec_options.cc.
#include "core/schedule_spec.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cyclr {
namespace {

struct PolicyEntry {
  Policy policy;
  const char* name;
};

constexpr PolicyEntry kPolicies[] = {
    {Policy::kConstant, "constant"},        {Policy::kTriangular, "triangular"},
    {Policy::kTriangular2, "triangular2"},  {Policy::kExpRange, "exp_range"},
    {Policy::kSine, "sine"},                {Policy::kOneCycle, "one-cycle"},
    {Policy::kCosineRestarts, "cosine-restarts"}, {Policy::kRangeTest, "range-test"},
};

// "one_cycle", "one-cycle" and "One-Cycle" all name the same policy.
std::string Canonical(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '_') c = '-';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(c);
  }
  return out;
}

}  // namespace

const char* PolicyName(Policy p) {
  for (const PolicyEntry& e : kPolicies) {
    if (e.policy == p) return e.name;
  }
  return "unknown";
}

StatusOr<Policy> ParsePolicy(const std::string& name) {
  std::string expected;
  for (const PolicyEntry& e : kPolicies) {
    if (Canonical(e.name) == Canonical(name)) return e.policy;
    expected += expected.empty() ? "" : ", ";
    expected += e.name;
  }
  return Status::InvalidArgument("policy '" + name + "' is unknown; expected one of " + expected);
}

const char* ScaleModeName(ScaleMode m) {
  return m == ScaleMode::kCycle ? "cycle" : "iterations";
}

const char* AnnealName(Anneal a) { return a == Anneal::kCos ? "cos" : "linear"; }

const char* RampName(Ramp r) { return r == Ramp::kExp ? "exp" : "linear"; }

const char* DecayName(Decay d) {
  switch (d) {
    case Decay::kNone: return "none";
    case Decay::kHalve: return "halve";
    case Decay::kExp: return "exp";
  }
  return "none";
}

bool ScheduleSpec::operator==(const ScheduleSpec& o) const {
  return policy == o.policy && base_lr == o.base_lr && max_lr == o.max_lr &&
         step_size_up == o.step_size_up && step_size_down == o.step_size_down &&
         gamma == o.gamma && scale_mode == o.scale_mode && decay == o.decay &&
         base_momentum == o.base_momentum && max_momentum == o.max_momentum &&
         total_steps == o.total_steps && pct_start == o.pct_start && anneal == o.anneal &&
         div_factor == o.div_factor && final_div_factor == o.final_div_factor &&
         three_phase == o.three_phase && t0 == o.t0 && t_mult == o.t_mult &&
         warmup_steps == o.warmup_steps && ramp == o.ramp;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  // The shortest of %.1g .. %.17g that reads back as the same double (17 always does), but with
  // all integer digits of values below 1e17 so that 2000 prints as "2000", not "2e+03".
  int min_precision = 1;
  if (std::fabs(v) >= 1 && std::fabs(v) < 1e17) {
    min_precision = static_cast<int>(std::floor(std::log10(std::fabs(v)))) + 1;
  }
  for (int precision = min_precision; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string SpecToString(const ScheduleSpec& spec) {
  std::string out;
  for (const auto& [name, text] : SpecToOptions(spec)) {
    if (name == "policy") {
      out = text + out;
    } else {
      out += " " + name + "=" + text;
    }
  }
  return out;
}

const std::vector<std::string>& SpecOptionNames() {
  static const std::vector<std::string> kNames = {
      "policy",        "base_lr",       "max_lr",     "step_size_up", "step_size_down",
      "gamma",         "scale_mode",    "decay",      "base_momentum", "max_momentum",
      "total_steps",   "pct_start",     "anneal",     "div_factor",    "final_div_factor",
      "three_phase",   "t0",            "t_mult",     "warmup_steps",  "ramp",
  };
  return kNames;
}

}  // namespace cyclr
