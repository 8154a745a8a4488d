// Fuzzes job files (`cyclrctl launch -f FILE`, YAML or JSON): the input is the file. Follows
// launch: LoadJobFile, the schedule resolved from its `schedule:` map, BuildJobSpec, and the
// coordinator's NormalizeJobSpec; every accepted value must hold the documented limits.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "client/job_file.h"
#include "tests/fuzz/client_invariants.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cyclr::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  const std::string path = fuzz::WriteScratchFile(data, size, "job.yaml");
  StatusOr<client::JobFile> file = client::LoadJobFile(path);
  if (!file.ok()) {
    FUZZ_REQUIRE(file.status().code() == StatusCode::kInvalidArgument, file.status().ToString());
    return 0;
  }
  const std::set<std::string> job_names(client::JobOptionNames().begin(),
                                        client::JobOptionNames().end());
  for (const auto& [name, text] : file->job) {
    FUZZ_REQUIRE(job_names.count(name) == 1, "unknown job option " + limits::Echo(name) + " read");
  }
  const std::set<std::string> spec_names(SpecOptionNames().begin(), SpecOptionNames().end());
  for (const auto& [name, text] : file->schedule) {
    FUZZ_REQUIRE(spec_names.count(name) == 1,
                 "unknown schedule option " + limits::Echo(name) + " read");
  }
  if (file->schedule.empty()) return 0;  // launch would need SPEC flags
  StatusOr<ScheduleSpec> schedule = SpecFromOptions(file->schedule);
  if (!schedule.ok()) return 0;
  fuzz::CheckAcceptedSpec(*schedule);
  StatusOr<v1::JobSpec> spec = client::BuildJobSpec(file->job, *schedule, {"name"});
  if (spec.ok()) fuzz::CheckBuiltJobSpec(file->job, *schedule, *spec);
  return 0;
}
