// The real cyclrctl and cyclr-coordinator binaries given values a careless or hostile user could
// type: each is refused with exit code 2 and one line naming the field and the rule, and nothing
// is sent (the coordinator address given is a listener that must see no connection).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>

#include "test_util.h"

namespace cyclr::client {
namespace {

using testing::Listener;
using testing::RunBinary;
using testing::RunCyclrctl;
using testing::RunResult;
using testing::TempDir;

const std::vector<std::string> kSchedule = {"--policy", "constant", "--base-lr", "0.1"};

// launch with a valid schedule, --workers 1, `flags` and (unless they have one) --name fm.
std::vector<std::string> Launch(std::vector<std::string> flags) {
  std::vector<std::string> args = {"launch", "--workers", "1"};
  if (std::find(flags.begin(), flags.end(), "--name") == flags.end()) {
    args.insert(args.end(), {"--name", "fm"});
  }
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), kSchedule.begin(), kSchedule.end());
  return args;
}

void ExpectRefused(const RunResult& r, const std::string& line, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
  EXPECT_EQ(r.err, "cyclrctl: " + line + "\n") << what;
  EXPECT_EQ(r.out, "") << what;
}

TEST(InputChecksTest, CyclrctlRefusesOutOfRangeValuesBeforeSending) {
  Listener coordinator;
  const std::string long_name(10240, 'a');
  const std::string echoed = "\"" + std::string(80, 'a') + "...\" (10240 bytes)";
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  const std::vector<Case> cases = {
      {Launch({"--epochs", "1000000000"}), "epochs (1000000000) must be in [1, 1000000]"},
      {Launch({"--threads", "2147483647"}), "threads (2147483647) must be in [0, 1024]"},
      {Launch({"--batch-size", "-1"}), "batch_size (-1) must be in [1, 2147483647]"},
      {Launch({"--name", long_name}), "name (" + echoed + ") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{"jobs", "get", long_name}, "job name (" + echoed + ") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{"stop", "Bad_Name"}, "job name (\"Bad_Name\") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{"schedule", "get", "a_b"}, "job name (\"a_b\") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{"resume", "fm", "--as", "X1"}, "--as (\"X1\") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{"schedule", "preview", "--job", "UP", "--steps", "3"},
       "--job (\"UP\") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{"schedule", "preview", "--job", "fm", "--steps", "200000"},
       "--steps (200000) must be in [1, 100000] with --job"},
      {{"schedule", "set", "fm", "--at-step", "2000000000000", "--policy", "constant", "--base-lr",
        "0.1"},
       "--at-step (2000000000000) must be in [0, 1099511627776]"},
      {{"schedule", "undo", "fm", "--to", "5000"}, "--to (5000) must be in [1, 1000]"},
      {{"schedule", "undo", "fm", "--to", "2", "--reason", std::string(2000, 'r')},
       "--reason (\"" + std::string(80, 'r') + "...\" (2000 bytes)) must be at most 1024 bytes"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--coordinator", coordinator.Address()});
    ExpectRefused(RunCyclrctl(args), c.line, c.args.front());
    EXPECT_FALSE(coordinator.Contacted()) << c.line;
  }
}

TEST(InputChecksTest, ListenerSeesAValidCommand) {
  // The control for the test above: a command that passes the checks does connect (and then
  // times out, as the listener never answers).
  Listener coordinator;
  RunResult r = RunCyclrctl({"jobs", "get", "fm", "--coordinator", coordinator.Address()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(coordinator.Contacted());
}

TEST(InputChecksTest, CoordinatorAddressIsCheckedFromFlagAndEnvironment) {
  ExpectRefused(RunCyclrctl({"jobs", "list", "--coordinator", "127.0.0.1:83607"}),
                "--coordinator (\"127.0.0.1:83607\"): port 83607 must be between 1 and 65535",
                "flag");
  ExpectRefused(RunCyclrctl({"jobs", "list"}, {"CYCLR_COORDINATOR=localhost"}),
                "$CYCLR_COORDINATOR (\"localhost\"): must be HOST:PORT (e.g. 127.0.0.1:7070 or "
                "[::1]:7070)",
                "environment");
  // The flag wins over the environment, and is what gets checked.
  ExpectRefused(RunCyclrctl({"jobs", "list", "--coordinator", "h:0"}, {"CYCLR_COORDINATOR=x"}),
                "--coordinator (\"h:0\"): port 0 must be between 1 and 65535", "both");
}

TEST(InputChecksTest, DuplicateKeyInJobFileNamesTheLine) {
  Listener coordinator;
  TempDir dir;
  const std::string file =
      dir.Write("job.yaml",
                "name: fm\nworkers: 1\nschedule:\n  policy: constant\n  base_lr: 0.1\n"
                "  base_lr: 0.5\n");
  ExpectRefused(RunCyclrctl({"launch", "-f", file, "--coordinator", coordinator.Address()}),
                file + ": line 6: duplicate key \"base_lr\"", "job file");
  EXPECT_FALSE(coordinator.Contacted());
}

TEST(InputChecksTest, CoordinatorRefusesAddressesOutOfRange) {
  TempDir dir;
  const std::vector<std::string> state = {"--state", dir.Path("state.db"), "--work-dir",
                                          dir.Path("work")};
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  const std::vector<Case> cases = {
      {{"--listen", "127.0.0.1:83607"},
       "--listen (\"127.0.0.1:83607\"): port 83607 must be between 0 and 65535"},
      {{"--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:99999"},
       "--metrics (\"127.0.0.1:99999\"): port 99999 must be between 0 and 65535"},
      {{"--listen", "nohost"},
       "--listen (\"nohost\"): must be HOST:PORT (e.g. 127.0.0.1:7070 or [::1]:7070)"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), state.begin(), state.end());
    RunResult r = RunBinary("cyclr-coordinator", args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "cyclr-coordinator: " + c.line + "\n");
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Path("state.db")));  // nothing was started
}

}  // namespace
}  // namespace cyclr::client
