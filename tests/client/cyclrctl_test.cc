// Runs the real cyclrctl binary: offline previews against core's Schedule, the one-line errors
// and exit codes, and a coordinator that is not there.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "core/schedule.h"
#include "test_util.h"

namespace cyclr::client {
namespace {

using testing::ReadFile;
using testing::RunCyclrctl;
using testing::TempDir;

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = text.find(sep, start)) != std::string::npos; start = at + 1) {
    out.push_back(text.substr(start, at - start));
  }
  out.push_back(text.substr(start));
  return out;
}

// Checks the CSV of a preview against core's Schedule, value for value.
void ExpectCsvMatches(const std::string& csv, const ScheduleSpec& spec, int64_t start,
                      int64_t steps) {
  auto schedule = Schedule::Create(spec);
  ASSERT_TRUE(schedule.ok()) << schedule.status().message();
  auto lines = Split(csv, '\n');
  ASSERT_EQ(lines.back(), "");  // ends with a newline
  lines.pop_back();
  ASSERT_EQ(lines.size(), static_cast<size_t>(steps + 1));
  EXPECT_EQ(lines[0], "step,lr,momentum");
  for (int64_t i = 0; i < steps; ++i) {
    auto cells = Split(lines[i + 1], ',');
    ASSERT_EQ(cells.size(), 3u) << lines[i + 1];
    int64_t step = start + i;
    SchedulePoint want = schedule->At(step);
    EXPECT_EQ(std::stoll(cells[0]), step);
    EXPECT_EQ(std::strtod(cells[1].c_str(), nullptr), want.lr) << "step " << step;
    if (want.momentum) {
      EXPECT_EQ(std::strtod(cells[2].c_str(), nullptr), *want.momentum) << "step " << step;
    } else {
      EXPECT_EQ(cells[2], "") << "step " << step;
    }
  }
}

// A loopback port nothing listens on: bound (so no one else takes it) but not listening.
class UnusedPort {
 public:
  UnusedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~UnusedPort() { close(fd_); }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(CyclrctlTest, PreviewTriangular2MatchesCore) {
  auto r = RunCyclrctl({"schedule", "preview", "--policy", "triangular2", "--base-lr", "0.001",
                        "--max-lr", "0.1", "--step-size-up", "7", "--steps", "50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto spec = SpecFromOptions({{"policy", "triangular2"}, {"base_lr", "0.001"},
                               {"max_lr", "0.1"}, {"step_size_up", "7"}});
  ASSERT_TRUE(spec.ok());
  ExpectCsvMatches(r.out, *spec, 0, 50);
}

TEST(CyclrctlTest, PreviewOneCycleWithMomentumAndStartStep) {
  auto r = RunCyclrctl({"schedule", "preview", "--policy", "one-cycle", "--max-lr", "0.1",
                        "--total-steps", "100", "--base-momentum", "0.85", "--max-momentum",
                        "0.95", "--three-phase", "--start-step", "30", "--steps", "90"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto spec = SpecFromOptions({{"policy", "one-cycle"}, {"max_lr", "0.1"},
                               {"total_steps", "100"}, {"base_momentum", "0.85"},
                               {"max_momentum", "0.95"}, {"three_phase", "true"}});
  ASSERT_TRUE(spec.ok());
  ExpectCsvMatches(r.out, *spec, 30, 90);
}

TEST(CyclrctlTest, PreviewFromSpecFileWithOverride) {
  TempDir dir;
  std::string file = dir.Write("s.yaml", "policy: cosine-restarts\nbase_lr: 0.0001\n"
                                         "max_lr: 0.1\nt0: 10\nt_mult: 2\n");
  auto r = RunCyclrctl({"schedule", "preview", "--spec", file, "--t0", "5", "--steps", "40"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto spec = SpecFromOptions({{"policy", "cosine-restarts"}, {"base_lr", "0.0001"},
                               {"max_lr", "0.1"}, {"t0", "5"}, {"t_mult", "2"}});
  ASSERT_TRUE(spec.ok());
  ExpectCsvMatches(r.out, *spec, 0, 40);
}

TEST(CyclrctlTest, PreviewWritesPlot) {
  TempDir dir;
  std::string svg_path = dir.Path("lr.svg");
  auto r = RunCyclrctl({"schedule", "preview", "--policy", "triangular", "--base-lr", "0.001",
                        "--max-lr", "0.1", "--step-size-up", "10", "--steps", "25", "--plot",
                        svg_path, "--format", "table"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string svg = ReadFile(svg_path);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  size_t p = svg.find("points=\"", svg.find("<polyline class=\"lr\""));
  std::string pts = svg.substr(p + 8, svg.find('"', p + 8) - p - 8);
  EXPECT_EQ(std::count(pts.begin(), pts.end(), ',') , 25);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 26);  // table header + 25 rows
}

TEST(CyclrctlTest, InvalidSpecIsOneLineAndExit2) {
  auto r = RunCyclrctl({"schedule", "preview", "--policy", "triangular", "--base-lr", "0.01",
                        "--max-lr", "0.001", "--step-size-up", "10", "--steps", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "cyclrctl: max_lr (0.001) must be >= base_lr (0.01)\n");
  EXPECT_EQ(r.out, "");
}

TEST(CyclrctlTest, UsageErrorsAreOneLineAndExit2) {
  std::vector<std::vector<std::string>> cases = {
      {"schedule", "preview", "--policy", "constant", "--base-lr", "0.1", "--steps", "0"},
      {"schedule", "preview", "--policy", "constant", "--base-lr", "0.1", "--steps", "x"},
      {"schedule", "preview", "--policy", "constant", "--base-lr", "0.1"},  // --steps missing
      {"schedule", "preview", "--policy", "constant", "--base-lr", "0.1", "--steps", "3",
       "--format", "xml"},
      {"schedule", "preview", "--policy", "wobble", "--steps", "3"},
      {"schedule", "preview", "--bogus", "--steps", "3"},
      {"schedule", "preview", "--spec", "/nonexistent/spec.yaml", "--steps", "3"},
      {"jobs", "frobnicate"},
      {},
  };
  for (const auto& args : cases) {
    auto r = RunCyclrctl(args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("cyclrctl: ", 0), 0u) << cmd << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << "\n" << r.err;
    EXPECT_EQ(r.out, "") << cmd;
  }
}

TEST(CyclrctlTest, UnknownCommandIsNamed) {
  auto top = RunCyclrctl({"bogus"});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_EQ(top.err,
            "cyclrctl: unknown command 'bogus'; expected one of launch, resume, lr-find, jobs, "
            "stop, logs, tokens, whoami, schedule\n");
  auto nested = RunCyclrctl({"schedule", "prev", "--steps", "3"});
  EXPECT_EQ(nested.exit_code, 2);
  EXPECT_EQ(nested.err, "cyclrctl: unknown command 'prev'; expected one of get, set, undo, "
                        "preview\n");
}

TEST(CyclrctlTest, StepsOutOfRangeNamesTheFlag) {
  auto r = RunCyclrctl({"schedule", "preview", "--policy", "constant", "--base-lr", "0.1",
                        "--steps", "-4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "cyclrctl: --steps (-4) must be in [1, 1000000]\n");
}

TEST(CyclrctlTest, HelpExitsZero) {
  auto r = RunCyclrctl({"schedule", "preview", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--max-lr"), std::string::npos);
  EXPECT_NE(r.out.find("--spec"), std::string::npos);
}

TEST(CyclrctlTest, UnreachableCoordinatorIsOneLineAndExit1) {
  UnusedPort port;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"jobs", "list", "--coordinator", port.Address()},
           {"--coordinator", port.Address(), "jobs", "get", "fm"},
           {"schedule", "get", "fm", "--coordinator", port.Address(), "--output", "json"},
           {"stop", "fm", "--coordinator", port.Address()},
       }) {
    auto r = RunCyclrctl(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("cyclrctl: the coordinator at " + port.Address() + " is unreachable",
                          0),
              0u)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(CyclrctlTest, CoordinatorFromEnvironment) {
  UnusedPort port;
  auto r = RunCyclrctl({"jobs", "list"}, {"CYCLR_COORDINATOR=" + port.Address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the coordinator at " + port.Address() + " is unreachable"),
            std::string::npos)
      << r.err;
}

TEST(CyclrctlTest, BadSpecIsRejectedBeforeAnythingIsSent) {
  UnusedPort port;  // were anything sent, the error would be "unreachable", exit 1
  auto set = RunCyclrctl({"schedule", "set", "fm", "--policy", "triangular", "--base-lr", "0.01",
                          "--max-lr", "0.001", "--step-size-up", "4", "--coordinator",
                          port.Address()});
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_EQ(set.err, "cyclrctl: max_lr (0.001) must be >= base_lr (0.01)\n");
  auto launch = RunCyclrctl({"launch", "--name", "fm", "--workers", "2", "--policy", "sine",
                             "--base-lr", "0.1", "--max-lr", "0.01", "--coordinator",
                             port.Address()});
  EXPECT_EQ(launch.exit_code, 2);
  EXPECT_EQ(launch.err.rfind("cyclrctl: max_lr", 0), 0u) << launch.err;
  auto phase = RunCyclrctl({"schedule", "set", "fm", "--policy", "constant", "--base-lr", "0.1",
                            "--phase", "sideways", "--coordinator", port.Address()});
  EXPECT_EQ(phase.exit_code, 2);
  EXPECT_EQ(phase.err.rfind("cyclrctl: --phase: ", 0), 0u) << phase.err;
  auto undo = RunCyclrctl({"schedule", "undo", "fm", "--to", "0", "--coordinator",
                           port.Address()});
  EXPECT_EQ(undo.exit_code, 2);
  EXPECT_EQ(undo.err, "cyclrctl: --to (0) must be in [1, 1000]\n");
  auto name = RunCyclrctl({"launch", "--workers", "2", "--policy", "constant", "--base-lr", "0.1",
                           "--coordinator", port.Address()});
  EXPECT_EQ(name.exit_code, 2);
  EXPECT_EQ(name.err, "cyclrctl: name is required: give --name or name: in the job file\n");
}

TEST(CyclrctlTest, LaunchFileUnknownKey) {
  TempDir dir;
  std::string file = dir.Write("job.yaml", "name: fm\nwokers: 2\nschedule:\n  policy: constant\n"
                                           "  base_lr: 0.1\n");
  auto r = RunCyclrctl({"launch", "-f", file, "--coordinator", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("cyclrctl: option \"wokers\" in " + file + " is unknown", 0), 0u) << r.err;
}

}  // namespace
}  // namespace cyclr::client
