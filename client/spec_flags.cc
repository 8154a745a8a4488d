#include "client/spec_flags.h"

#include <CLI/CLI.hpp>

namespace cyclr::client {
namespace {

std::map<std::string, std::string> SpecHelp() {
  return {
      {"policy",
       "constant | triangular | triangular2 | exp_range | sine | one-cycle | cosine-restarts | "
       "range-test"},
      {"base_lr", "lower LR bound (eta_min for cosine-restarts, the LR for constant)"},
      {"max_lr", "upper LR bound"},
      {"step_size_up", "cyclic: steps from base_lr to max_lr"},
      {"step_size_down", "cyclic: steps from max_lr to base_lr (default step_size_up)"},
      {"gamma", "exp_range (and sine with decay=exp): amplitude factor per step"},
      {"scale_mode", "cycle | iterations"},
      {"decay", "sine: none | halve | exp"},
      {"base_momentum", "momentum at max_lr (cycle momentum; needs max_momentum)"},
      {"max_momentum", "momentum at base_lr"},
      {"total_steps", "one-cycle: length of the cycle; range-test: steps of the ramp"},
      {"pct_start", "one-cycle: fraction of steps spent increasing the LR"},
      {"anneal", "one-cycle: cos | linear"},
      {"div_factor", "one-cycle: initial LR = max_lr / div_factor"},
      {"final_div_factor", "one-cycle: final LR = initial LR / final_div_factor"},
      {"three_phase", "one-cycle: three phases as in fast.ai"},
      {"t0", "cosine-restarts: steps of the first cycle"},
      {"t_mult", "cosine-restarts: cycle length factor"},
      {"warmup_steps", "linear warm-up steps before the policy"},
      {"ramp", "range-test: exp (default) | linear, from base_lr to max_lr"},
  };
}

}  // namespace

SpecFlags::SpecFlags() : flags_(SpecOptionNames(), {"three_phase"}, SpecHelp(), "Schedule") {}

void SpecFlags::AddTo(CLI::App* app) {
  flags_.AddTo(app);
  app->add_option("--spec", spec_file_, "schedule file (YAML or JSON, snake_case names); "
                                        "flags override it")
      ->group("Schedule");
}

bool SpecFlags::AnyGiven() const { return !spec_file_.empty() || !flags_.Given().empty(); }

StatusOr<OptionMap> SpecFlags::LoadSpecFile(const std::string& path) {
  CYCLR_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  return ScalarOptions(root, path, SpecOptionNames());
}

StatusOr<OptionMap> SpecFlags::Options(const OptionMap& base) const {
  OptionMap merged = base;
  if (!spec_file_.empty()) {
    CYCLR_ASSIGN_OR_RETURN(OptionMap file, LoadSpecFile(spec_file_));
    merged = Merge(std::move(merged), file);
  }
  return Merge(std::move(merged), flags_.Given());
}

StatusOr<ScheduleSpec> SpecFlags::Resolve(const OptionMap& base) const {
  CYCLR_ASSIGN_OR_RETURN(OptionMap options, Options(base));
  if (options.empty()) {
    return Status::InvalidArgument("no schedule given: use --policy with its options, or --spec FILE");
  }
  return SpecFromOptions(options);
}

}  // namespace cyclr::client
