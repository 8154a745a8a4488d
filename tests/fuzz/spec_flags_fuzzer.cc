// Fuzzes the command line of `cyclrctl launch`: job flags and SPEC flags (--policy, --base-lr,
// ...), parsed by CLI11 as the CLI does, resolved into a ScheduleSpec and built into the JobSpec
// the CLI would send. Input: the arguments, one per line. `--spec FILE` and `-f` read files, which
// spec_file_fuzzer and job_file_fuzzer cover; inputs naming them are skipped.
#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client/job_file.h"
#include "client/option_flags.h"
#include "client/spec_flags.h"
#include "tests/fuzz/client_invariants.h"

namespace {

std::vector<std::string> Lines(const uint8_t* data, size_t size) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cyclr::fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  std::vector<std::string> args = Lines(data, size);
  if (args.size() > 64) return 0;
  for (const std::string& a : args) {
    if (a.rfind("--spec", 0) == 0) return 0;
  }
  client::OptionFlags job_flags(client::JobOptionNames(), client::JobBoolOptionNames(), {}, "Job");
  client::SpecFlags spec_flags;
  CLI::App app("fuzz", "cyclrctl-launch");
  job_flags.AddTo(&app);
  spec_flags.AddTo(&app);
  std::vector<const char*> argv = {"cyclrctl-launch"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return 0;  // cli.cc reports these as usage errors (exit 2)
  }
  client::OptionMap job = job_flags.Given();
  StatusOr<ScheduleSpec> schedule = spec_flags.Resolve();
  if (!schedule.ok()) return 0;
  fuzz::CheckAcceptedSpec(*schedule);
  StatusOr<v1::JobSpec> spec = client::BuildJobSpec(job, *schedule, {"name"});
  if (!spec.ok()) return 0;
  FUZZ_REQUIRE(job.count("name") == 1, "built a JobSpec without a name");
  fuzz::CheckBuiltJobSpec(job, *schedule, *spec);
  return 0;
}
