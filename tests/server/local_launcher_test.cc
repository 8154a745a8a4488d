// LocalLauncher with shell scripts standing in for cyclr-worker: arguments, log capture, exit
// codes, signals and Stop's SIGTERM -> SIGKILL escalation.
#include "server/local_launcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>

#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

class LocalLauncherTest : public ::testing::Test {
 protected:
  std::string Script(const std::string& body) {
    std::string path = dir_.File("worker.sh");
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0755);
    return path;
  }
  std::unique_ptr<LocalLauncher> Make(const std::string& binary,
                                      milliseconds grace = milliseconds(2000)) {
    LocalLauncher::Options o;
    o.worker_binary = binary;
    o.coordinator_address = "127.0.0.1:5555";
    o.work_dir = dir_.File("work");
    o.stop_grace = grace;
    o.poll_interval = milliseconds(5);
    return std::make_unique<LocalLauncher>(o, [this](const WorkerExit& x) {
      std::lock_guard<std::mutex> lock(mu_);
      exits_.push_back(x);
    });
  }
  std::vector<WorkerExit> Exits() {
    std::lock_guard<std::mutex> lock(mu_);
    return exits_;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  testing::TempDir dir_;
  std::mutex mu_;
  std::vector<WorkerExit> exits_;
};

TEST_F(LocalLauncherTest, PassesArgumentsAndCapturesLogs) {
  auto launcher = Make(Script("echo \"args: $*\"\necho 'to stderr' >&2\nexit 0"));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 2, "local")).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 2; }));
  for (const WorkerExit& x : Exits()) {
    EXPECT_TRUE(x.ok()) << x.Describe();
    EXPECT_EQ(x.job, "job");
    EXPECT_EQ(x.last_log_line, "to stderr");
  }
  std::string log = Read(launcher->LogPath("job", 1));
  EXPECT_NE(log.find("args: --coordinator 127.0.0.1:5555 --job job --rank 1 --world-size 2 "
                     "--log-dir " + dir_.File("work") + "/jobs/job"),
            std::string::npos)
      << log;
  EXPECT_EQ(launcher->running(), 0);
}

TEST_F(LocalLauncherTest, ReportsNonZeroExitWithTheLastLogLine) {
  auto launcher = Make(Script("echo 'loading data'\necho 'error: no data in /x'\nexit 3"));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 1, "local")).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 1; }));
  WorkerExit x = Exits()[0];
  EXPECT_EQ(x.rank, 0);
  EXPECT_EQ(x.exit_code, 3);
  EXPECT_EQ(x.signal, 0);
  EXPECT_EQ(x.Describe(), "rank 0 exited with code 3: error: no data in /x");
}

TEST_F(LocalLauncherTest, StopTerminatesWorkers) {
  auto launcher = Make(Script("echo started\nexec sleep 30"));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 2, "local")).ok());
  EXPECT_EQ(launcher->running(), 2);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(launcher->Stop("job").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 2; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (const WorkerExit& x : Exits()) {
    EXPECT_EQ(x.signal, SIGTERM) << x.Describe();
    EXPECT_NE(x.Describe().find("killed by signal 15"), std::string::npos);
  }
}

TEST_F(LocalLauncherTest, EscalatesToSigkillAfterTheGracePeriod) {
  // The script ignores SIGTERM; only SIGKILL ends it.
  auto launcher = Make(Script("trap '' TERM\necho ready\nwhile true; do sleep 0.01; done"),
                       milliseconds(100));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 1, "local")).ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Read(launcher->LogPath("job", 0)).find("ready") != std::string::npos; }));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(launcher->Stop("job").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(100));
  EXPECT_EQ(Exits()[0].signal, SIGKILL);
}

TEST_F(LocalLauncherTest, MissingBinaryIsAClearError) {
  auto launcher = Make(dir_.File("no-such-worker"));
  Status s = launcher->Launch(testing::ValidJobSpec("job", 2, "local"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("no-such-worker"), std::string::npos) << s.message();
  EXPECT_EQ(launcher->running(), 0);
}

}  // namespace
}  // namespace cyclr
