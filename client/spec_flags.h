// SpecFlags: the SPEC part of the command line — `--policy --base-lr ... --warmup-steps` and
// `--spec FILE` — turned into one validated ScheduleSpec.
//
// Precedence, lowest first: a base map (e.g. a job file's `schedule:`), the --spec file, the
// flags. The merged option map goes through core's SpecFromOptions, so every rule and message is
// core's: "max_lr (0.001) must be >= base_lr (0.01)".
#pragma once

#include <string>

#include "client/option_flags.h"
#include "core/schedule_spec.h"

namespace cyclr::client {

class SpecFlags {
 public:
  SpecFlags();
  SpecFlags(const SpecFlags&) = delete;
  SpecFlags& operator=(const SpecFlags&) = delete;

  // Adds the SPEC flags and --spec to `app`. REQUIRES: called once; `this` outlives the parse.
  void AddTo(CLI::App* app);

  // True if any SPEC flag or --spec was given.
  bool AnyGiven() const;

  // After parsing: base < --spec file < flags, as option text. Errors name the file and key.
  StatusOr<OptionMap> Options(const OptionMap& base = {}) const;

  // Options() validated by core. INVALID_ARGUMENT when no option at all was given ("no schedule
  // given ...") or when core rejects the spec.
  StatusOr<ScheduleSpec> Resolve(const OptionMap& base = {}) const;

  // Reads a spec file (YAML or JSON; snake_case names of SpecOptionNames()).
  static StatusOr<OptionMap> LoadSpecFile(const std::string& path);

 private:
  OptionFlags flags_;
  std::string spec_file_;
};

}  // namespace cyclr::client
