// Runs the real cyclr-worker binary with flags, environments and files a careless or hostile user
// could give it: each is refused with exit code 2 and one line naming the field and the rule,
// before the worker contacts anyone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <zlib.h>

#include <thread>

#include "tests/client/test_util.h"

namespace cyclr {
namespace {

using client::testing::Listener;
using client::testing::RunBinary;
using client::testing::RunResult;
using client::testing::TempDir;

std::string ThreadRule(const std::string& field, const std::string& value) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  return field + " (" + value + ") must be between 0 and " + std::to_string(cores * 4) + " (" +
         std::to_string(cores) + " cores \u00d7 4; 0 = automatic)";
}

// Expects exit 2, nothing on stdout and exactly `line` on stderr.
void ExpectRefused(const RunResult& r, const std::string& line) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "cyclr-worker: " + line + "\n");
}

TEST(WorkerBinaryTest, BadFlagsAreRefusedBeforeContactingTheCoordinator) {
  Listener coordinator;
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string line;
  };
  const std::vector<Case> cases = {
      {{"--threads", "2147483647"}, {}, ThreadRule("--threads", "2147483647")},
      {{"--threads", "1000"}, {}, ThreadRule("--threads", "1000")},
      {{"--threads", "-3"}, {}, ThreadRule("--threads", "-3")},
      {{"--rank", "70"},
       {},
       "--rank (70) must be between -1 and 63 (or -1: from the environment or the coordinator)"},
      {{"--job", "Bad_Name"}, {}, "--job (\"Bad_Name\") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{}, {"RANK=seven"}, "$RANK (\"seven\") must be an integer between 0 and 63"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--coordinator", coordinator.Address()};
    // A flag given twice is refused as such (CLI11): the case's own --job replaces "fm".
    if (c.args.empty() || c.args[0] != "--job") args.insert(args.end(), {"--job", "fm"});
    args.insert(args.end(), c.args.begin(), c.args.end());
    ExpectRefused(RunBinary("cyclr-worker", args, c.env), c.line);
    EXPECT_FALSE(coordinator.Contacted()) << c.line;
  }
}

TEST(WorkerBinaryTest, PortsAboveTheRangeDoNotWrap) {
  ExpectRefused(RunBinary("cyclr-worker", {"--coordinator", "127.0.0.1:83607", "--job", "fm"}),
                "--coordinator (\"127.0.0.1:83607\"): port 83607 must be between 1 and 65535");
}

TEST(WorkerBinaryTest, UnparsableFlagIsAUsageError) {
  RunResult r = RunBinary("cyclr-worker", {"--job", "fm", "--threads", "many"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("cyclr-worker: --threads", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// A standalone job spec (JSON) over the synthetic or file data in `data_dir`.
std::string SpecJson(const std::string& extra) {
  return R"({"name": "s", "workers": 1, "model": "mlp", "batch_size": 8,
             "schedule": {"policy": "constant", "base_lr": 0.01})" +
         extra + "}";
}

TEST(WorkerBinaryTest, StandaloneSpecFieldsAreRangeChecked) {
  TempDir dir;
  std::string spec = dir.Write("spec.json", SpecJson(R"(, "dataset": "synthetic",
                                                        "epochs": 1000000000)"));
  RunResult r = RunBinary("cyclr-worker", {"--standalone", spec, "--rank", "0", "--world-size", "1",
                                           "--rendezvous-dir", dir.Path("")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "cyclr-worker: INVALID_ARGUMENT: " + spec +
                       ": epochs (1000000000) must be between 1 and 1000000\n");
}

// Writes `bytes` gzipped to `path`.
void WriteGz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

TEST(WorkerBinaryTest, IdxHeaderThatLiesIsACleanErrorWithLittleMemory) {
  TempDir dir;
  std::string data_dir = dir.Path("");
  data_dir.pop_back();  // no trailing slash: the error names data_dir + "/train-..."
  // 2^24 × 28 × 28 images (13 GB) claimed, 3 bytes there.
  const std::string images = dir.Path("train-images-idx3-ubyte.gz");
  WriteGz(images, {0, 0, 8, 3, 1, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3});
  std::string spec = dir.Write("spec.json", SpecJson(R"(, "dataset": "fashion-mnist",
                                                        "epochs": 1, "data_dir": ")" +
                                                     data_dir + "\""));
  RunResult r = RunBinary("cyclr-worker", {"--standalone", spec, "--rank", "0", "--world-size", "1",
                                           "--rendezvous-dir", dir.Path(""), "--threads", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(images + ": truncated IDX file: header says 16777216\u00d728\u00d728 = "
                                "13153337344 bytes, file holds 3\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  EXPECT_LT(children.ru_maxrss, 1024 * 1024)
      << "the worker peaked at " << children.ru_maxrss << " kB";
}

}  // namespace
}  // namespace cyclr
