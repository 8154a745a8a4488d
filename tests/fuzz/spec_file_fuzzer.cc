// Fuzzes schedule files (`cyclrctl ... --spec FILE`, YAML or JSON): the input is the file.
// Checked: only known names are read, a key never counts twice, and an accepted spec is valid and
// round-trips (fuzz_util.h).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "client/spec_flags.h"
#include "tests/fuzz/spec_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  const std::string path = fuzz::WriteScratchFile(data, size, "spec.yaml");
  StatusOr<client::OptionMap> options = client::SpecFlags::LoadSpecFile(path);
  if (!options.ok()) {
    FUZZ_REQUIRE(options.status().code() == StatusCode::kInvalidArgument,
                 options.status().ToString());
    return 0;
  }
  FUZZ_REQUIRE(size <= limits::kMaxSpecFileBytes, "a file over kMaxSpecFileBytes was read");
  const std::set<std::string> known(SpecOptionNames().begin(), SpecOptionNames().end());
  for (const auto& [name, text] : *options) {
    FUZZ_REQUIRE(known.count(name) == 1, "unknown option " + limits::Echo(name) + " read");
  }
  // The keys of the file, counted once each: a duplicate was refused.
  StatusOr<YAML::Node> root = client::LoadYamlFile(path);
  FUZZ_REQUIRE(root.ok() && root->IsMap(), "the file loads once but not twice");
  FUZZ_REQUIRE(root->size() == options->size(), std::to_string(root->size()) + " entries but " +
                                                    std::to_string(options->size()) +
                                                    " options: a duplicate key was not refused");
  StatusOr<ScheduleSpec> spec = SpecFromOptions(*options);
  if (spec.ok()) fuzz::CheckAcceptedSpec(*spec);
  return 0;
}
