// Compares Schedule::At with traces recorded from PyTorch 1.13's own schedulers
// (tests/reference/gen_traces.py): relative error <= 1e-9 for lr and momentum at every step.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "core/schedule.h"

namespace cyclr {
namespace {

namespace fs = std::filesystem;

constexpr double kMaxRelativeError = 1e-9;

struct Row {
  int64_t step;
  double lr;
  std::optional<double> momentum;
};

struct Trace {
  std::string name;
  std::map<std::string, std::string> options;
  std::vector<Row> rows;
};

fs::path ReferenceDir() {
  const char* env = std::getenv("CYCLR_SOURCE_DIR");
  return fs::path(env ? env : CYCLR_DEFAULT_SOURCE_DIR) / "tests" / "reference";
}

// "# spec: policy=triangular base_lr=0.001" -> {policy: triangular, base_lr: 0.001}.
std::map<std::string, std::string> ParseSpecLine(const std::string& line) {
  std::map<std::string, std::string> options;
  std::istringstream words(line.substr(std::string("# spec: ").size()));
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    options[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return options;
}

Row ParseRow(const std::string& line) {
  std::istringstream in(line);
  std::string step, lr, momentum;
  std::getline(in, step, ',');
  std::getline(in, lr, ',');
  std::getline(in, momentum);
  Row row{std::stoll(step), std::strtod(lr.c_str(), nullptr), std::nullopt};
  if (!momentum.empty()) row.momentum = std::strtod(momentum.c_str(), nullptr);
  return row;
}

Trace ReadTrace(const fs::path& path) {
  Trace trace;
  trace.name = path.stem().string();
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# spec: ", 0) == 0) {
      trace.options = ParseSpecLine(line);
    } else if (!line.empty() && line[0] != '#' && line.rfind("step,", 0) != 0) {
      trace.rows.push_back(ParseRow(line));
    }
  }
  return trace;
}

std::vector<Trace> ReadAllTraces() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(ReferenceDir())) {
    if (entry.path().extension() == ".csv") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Trace> traces;
  for (const fs::path& p : paths) traces.push_back(ReadTrace(p));
  return traces;
}

double RelativeError(double got, double want) {
  if (got == want) return 0.0;
  return std::abs(got - want) / std::max(std::abs(want), 1e-300);
}

TEST(ReferenceTest, EveryPolicyHasTraces) {
  std::map<std::string, int> per_policy;
  for (const Trace& t : ReadAllTraces()) per_policy[t.options.at("policy")]++;
  for (const char* policy :
       {"triangular", "triangular2", "exp_range", "one-cycle", "cosine-restarts", "range-test"}) {
    EXPECT_GE(per_policy[policy], 2) << policy << " in " << ReferenceDir();
  }
}

TEST(ReferenceTest, MatchesPyTorchAtEveryStep) {
  int64_t compared = 0, exact = 0;
  for (const Trace& t : ReadAllTraces()) {
    SCOPED_TRACE(t.name);
    StatusOr<ScheduleSpec> spec = SpecFromOptions(t.options);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    StatusOr<Schedule> schedule = Schedule::Create(*spec);
    ASSERT_TRUE(schedule.ok()) << schedule.status().ToString();
    ASSERT_GE(t.rows.size(), 7u);
    for (const Row& row : t.rows) {
      SchedulePoint p = schedule->At(row.step);
      ASSERT_LE(RelativeError(p.lr, row.lr), kMaxRelativeError)
          << "lr at step " << row.step << ": " << p.lr << " vs " << row.lr;
      ASSERT_EQ(p.momentum.has_value(), row.momentum.has_value()) << "step " << row.step;
      if (row.momentum) {
        ASSERT_LE(RelativeError(*p.momentum, *row.momentum), kMaxRelativeError)
            << "momentum at step " << row.step << ": " << *p.momentum << " vs " << *row.momentum;
      }
      ++compared;
      exact += p.lr == row.lr && p.momentum == row.momentum;
    }
  }
  EXPECT_GT(compared, 5000);
  // The formulas copy PyTorch's operation order, so every value should be bit-identical.
  EXPECT_EQ(exact, compared);
}

}  // namespace
}  // namespace cyclr
