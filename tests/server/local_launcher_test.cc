// LocalLauncher with shell scripts standing in for cyclr-worker: arguments, log capture, exit
// codes, signals, Stop's SIGTERM -> SIGKILL escalation, and adoption of a process it did not
// start.
#include "server/local_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
                                      milliseconds grace = milliseconds(2000),
                                      milliseconds poll = milliseconds(5)) {
    LocalLauncher::Options o;
    o.worker_binary = binary;
    o.coordinator_address = "127.0.0.1:5555";
    o.work_dir = dir_.File("work");
    o.stop_grace = grace;
    o.poll_interval = poll;
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
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 2, "local"), "").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 2; }));
  for (const WorkerExit& x : Exits()) {
    EXPECT_TRUE(x.ok()) << x.Describe();
    EXPECT_EQ(x.job, "job");
    EXPECT_EQ(x.last_log_line, "to stderr");
  }
  std::string log = Read(launcher->LogPath("job", 1));
  EXPECT_NE(log.find("args: --coordinator 127.0.0.1:5555 --job job --rank 1 --world-size 2 "
                     "--log-dir " +
                     dir_.File("work") + "/jobs/job"),
            std::string::npos)
      << log;
  EXPECT_EQ(launcher->running(), 0);
}

TEST_F(LocalLauncherTest, ReportsNonZeroExitWithTheLastLogLine) {
  auto launcher = Make(Script("echo 'loading data'\necho 'error: no data in /x'\nexit 3"));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 1, "local"), "").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 1; }));
  WorkerExit x = Exits()[0];
  EXPECT_EQ(x.rank, 0);
  EXPECT_EQ(x.exit_code, 3);
  EXPECT_EQ(x.signal, 0);
  EXPECT_EQ(x.Describe(), "rank 0 exited with code 3: error: no data in /x");
}

TEST_F(LocalLauncherTest, StopTerminatesWorkers) {
  auto launcher = Make(Script("echo started\nexec sleep 30"));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 2, "local"), "").ok());
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
  auto launcher =
      Make(Script("trap '' TERM\necho ready\nwhile true; do sleep 0.01; done"), milliseconds(100));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 1, "local"), "").ok());
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
  Status s = launcher->Launch(testing::ValidJobSpec("job", 2, "local"), "");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("no-such-worker"), std::string::npos) << s.message();
  EXPECT_EQ(launcher->running(), 0);
}

// Exits found in the same poll: the one killed by a signal (the likely cause) is reported first.
TEST_F(LocalLauncherTest, ReportsASignalledExitFirst) {
  // Both end about 100 ms after the start; one poll every 400 ms finds them together.
  auto launcher = Make(Script("sleep 0.1\nif [ \"$6\" = 0 ]; then exit 1; fi\nkill -9 $$"),
                       milliseconds(2000), milliseconds(400));
  ASSERT_TRUE(launcher->Launch(testing::ValidJobSpec("job", 2, "local"), "").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 2; }));
  EXPECT_EQ(Exits()[0].signal, SIGKILL) << Exits()[0].Describe();
  EXPECT_EQ(Exits()[1].exit_code, 1) << Exits()[1].Describe();
}

// A worker of an earlier coordinator: started here by the test (so the test reaps it), adopted
// by the launcher, which sees it end through /proc and stops it like its own.
TEST_F(LocalLauncherTest, AdoptsAWorkerItDidNotStart) {
  std::string script = Script("echo adopted\nsleep 30");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setsid();
    execl(script.c_str(), script.c_str(), "--job", "orphan", "--rank", "1", nullptr);
    _exit(127);
  }
  auto launcher = Make("/bin/false", milliseconds(200));
  ASSERT_TRUE(testing::WaitFor([&] {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return cmd.find("orphan") != std::string::npos;  // exec done
  }));
  EXPECT_EQ(launcher->Adopt("other", 1, pid).code(), StatusCode::kNotFound);  // not its worker
  ASSERT_TRUE(launcher->Adopt("orphan", 1, pid).ok());
  ASSERT_TRUE(launcher->Adopt("orphan", 1, pid).ok());  // already watched: no-op
  EXPECT_EQ(launcher->running(), 1);
  ASSERT_TRUE(launcher->Stop("orphan").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Exits().size() == 1; }));
  WorkerExit x = Exits()[0];
  EXPECT_EQ(x.job, "orphan");
  EXPECT_EQ(x.rank, 1);
  EXPECT_EQ(x.pid, pid);
  EXPECT_FALSE(x.status_known);
  EXPECT_FALSE(x.ok());
  EXPECT_EQ(
      x.Describe().rfind(
          "rank 1 (pid " + std::to_string(pid) + ", adopted) ended with an unknown status", 0),
      0u)
      << x.Describe();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_EQ(launcher->Adopt("orphan", 1, pid).code(), StatusCode::kNotFound);  // gone
}

}  // namespace
}  // namespace cyclr
