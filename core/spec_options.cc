// SpecFromOptions / SpecToOptions: ScheduleSpec <-> (option name, text), as the CLI, YAML files
// and the proto's option maps carry it. Every parse error names the option and the text.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "core/schedule_spec.h"

namespace cyclr {
namespace {

using Setter = std::function<Status(ScheduleSpec&, const std::string& name, const std::string&)>;

Status ParseDouble(const std::string& name, const std::string& text, std::optional<double>* out) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (text.empty() || end != begin + text.size() || text.front() == ' ') {
    return Status::InvalidArgument(name + " '" + text + "' is not a number");
  }
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) {
    return Status::InvalidArgument(name + " '" + text + "' is out of range");
  }
  *out = v;
  return Status::Ok();
}

Status ParseInt(const std::string& name, const std::string& text, std::optional<int64_t>* out) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(begin, &end, 10);
  if (text.empty() || end != begin + text.size() || text.front() == ' ') {
    return Status::InvalidArgument(name + " '" + text + "' is not an integer");
  }
  if (errno == ERANGE) {
    return Status::InvalidArgument(name + " '" + text + "' is out of range");
  }
  *out = static_cast<int64_t>(v);
  return Status::Ok();
}

Status ParseBool(const std::string& name, const std::string& text, std::optional<bool>* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return Status::InvalidArgument(name + " '" + text +
                                   "' is not a boolean; expected true, false, 1 or 0");
  }
  return Status::Ok();
}

// Parses one of an enum's spellings, given as (name, value) pairs.
template <typename E>
Status ParseEnum(const std::string& name, const std::string& text,
                 std::initializer_list<std::pair<const char*, E>> values, std::optional<E>* out) {
  std::string expected;
  for (const auto& [spelling, value] : values) {
    if (text == spelling) {
      *out = value;
      return Status::Ok();
    }
    expected += (expected.empty() ? "" : ", ") + std::string(spelling);
  }
  return Status::InvalidArgument(name + " '" + text + "' is unknown; expected one of " + expected);
}

Setter DoubleSetter(std::optional<double> ScheduleSpec::*member) {
  return [member](ScheduleSpec& s, const std::string& n, const std::string& t) {
    return ParseDouble(n, t, &(s.*member));
  };
}

Setter IntSetter(std::optional<int64_t> ScheduleSpec::*member) {
  return [member](ScheduleSpec& s, const std::string& n, const std::string& t) {
    return ParseInt(n, t, &(s.*member));
  };
}

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"base_lr", DoubleSetter(&ScheduleSpec::base_lr)},
      {"max_lr", DoubleSetter(&ScheduleSpec::max_lr)},
      {"step_size_up", IntSetter(&ScheduleSpec::step_size_up)},
      {"step_size_down", IntSetter(&ScheduleSpec::step_size_down)},
      {"gamma", DoubleSetter(&ScheduleSpec::gamma)},
      {"scale_mode",
       [](ScheduleSpec& s, const std::string& n, const std::string& t) {
         return ParseEnum<ScaleMode>(
             n, t, {{"cycle", ScaleMode::kCycle}, {"iterations", ScaleMode::kIterations}},
             &s.scale_mode);
       }},
      {"decay",
       [](ScheduleSpec& s, const std::string& n, const std::string& t) {
         return ParseEnum<Decay>(
             n, t, {{"none", Decay::kNone}, {"halve", Decay::kHalve}, {"exp", Decay::kExp}},
             &s.decay);
       }},
      {"base_momentum", DoubleSetter(&ScheduleSpec::base_momentum)},
      {"max_momentum", DoubleSetter(&ScheduleSpec::max_momentum)},
      {"total_steps", IntSetter(&ScheduleSpec::total_steps)},
      {"pct_start", DoubleSetter(&ScheduleSpec::pct_start)},
      {"anneal",
       [](ScheduleSpec& s, const std::string& n, const std::string& t) {
         return ParseEnum<Anneal>(n, t, {{"cos", Anneal::kCos}, {"linear", Anneal::kLinear}},
                                  &s.anneal);
       }},
      {"div_factor", DoubleSetter(&ScheduleSpec::div_factor)},
      {"final_div_factor", DoubleSetter(&ScheduleSpec::final_div_factor)},
      {"three_phase",
       [](ScheduleSpec& s, const std::string& n, const std::string& t) {
         return ParseBool(n, t, &s.three_phase);
       }},
      {"t0", IntSetter(&ScheduleSpec::t0)},
      {"t_mult", IntSetter(&ScheduleSpec::t_mult)},
      {"warmup_steps", IntSetter(&ScheduleSpec::warmup_steps)},
      {"ramp",
       [](ScheduleSpec& s, const std::string& n, const std::string& t) {
         return ParseEnum<Ramp>(n, t, {{"exp", Ramp::kExp}, {"linear", Ramp::kLinear}}, &s.ramp);
       }},
  };
  return kSetters;
}

// CLI flags are kebab-case ("base-lr"); both spellings name the same option.
std::string SnakeCase(std::string name) {
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

}  // namespace

StatusOr<ScheduleSpec> SpecFromOptions(const std::map<std::string, std::string>& options) {
  std::map<std::string, std::string> snake;
  for (const auto& [name, text] : options) {
    if (!snake.emplace(SnakeCase(name), text).second) {
      return Status::InvalidArgument(SnakeCase(name) + " is given twice");
    }
  }
  ScheduleSpec spec;
  auto policy_it = snake.find("policy");
  if (policy_it == snake.end()) return Status::InvalidArgument("policy is required");
  CYCLR_ASSIGN_OR_RETURN(spec.policy, ParsePolicy(policy_it->second));
  for (const auto& [name, text] : snake) {
    if (name == "policy") continue;
    auto setter = Setters().find(name);
    if (setter == Setters().end()) {
      std::string expected;
      for (const std::string& known : SpecOptionNames()) {
        expected += (expected.empty() ? "" : ", ") + known;
      }
      return Status::InvalidArgument("option '" + name + "' is unknown; expected one of " +
                                     expected);
    }
    CYCLR_RETURN_IF_ERROR(setter->second(spec, name, text));
  }
  CYCLR_RETURN_IF_ERROR(ValidateSpec(spec));
  return spec;
}

std::vector<std::pair<std::string, std::string>> SpecToOptions(const ScheduleSpec& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("policy", PolicyName(spec.policy));
  auto add_double = [&out](const char* name, const std::optional<double>& v) {
    if (v) out.emplace_back(name, FormatDouble(*v));
  };
  auto add_int = [&out](const char* name, const std::optional<int64_t>& v) {
    if (v) out.emplace_back(name, std::to_string(*v));
  };
  add_double("base_lr", spec.base_lr);
  add_double("max_lr", spec.max_lr);
  add_int("step_size_up", spec.step_size_up);
  add_int("step_size_down", spec.step_size_down);
  add_double("gamma", spec.gamma);
  if (spec.scale_mode) out.emplace_back("scale_mode", ScaleModeName(*spec.scale_mode));
  if (spec.decay) out.emplace_back("decay", DecayName(*spec.decay));
  add_double("base_momentum", spec.base_momentum);
  add_double("max_momentum", spec.max_momentum);
  add_int("total_steps", spec.total_steps);
  add_double("pct_start", spec.pct_start);
  if (spec.anneal) out.emplace_back("anneal", AnnealName(*spec.anneal));
  add_double("div_factor", spec.div_factor);
  add_double("final_div_factor", spec.final_div_factor);
  if (spec.three_phase) out.emplace_back("three_phase", *spec.three_phase ? "true" : "false");
  add_int("t0", spec.t0);
  add_int("t_mult", spec.t_mult);
  add_int("warmup_steps", spec.warmup_steps);
  if (spec.ramp) out.emplace_back("ramp", RampName(*spec.ramp));
  return out;
}

}  // namespace cyclr
