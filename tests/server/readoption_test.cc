// A restarted Coordinator (same state file, real gRPC) re-adopts the local workers that the
// previous one started: they keep reporting and watching the timeline without registering again,
// the new coordinator watches their pids, and the job ends SUCCEEDED — or, when an adopted worker
// dies before finishing, its group is restarted. Shell scripts stand in for cyclr-worker.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/coordinator.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

class ReadoptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Stays alive (and keeps `--job NAME` in its command line) until killed; writes its pid.
    script_ = dir_.File("worker.sh");
    std::ofstream(script_) << "#!/bin/sh\necho $$ > \"${10}/pid-$6\"\n"
                           << "while true; do sleep 0.05; done\n";
    chmod(script_.c_str(), 0755);
    Start();
  }
  void TearDown() override {
    coordinator_.reset();
    for (int r = 0; r < 2; ++r) {
      int pid = 0;
      std::ifstream(dir_.File("work") + "/jobs/job/pid-" + std::to_string(r)) >> pid;
      if (pid > 0) kill(-pid, SIGKILL);
      if (pid > 0) reap_.push_back(pid);
    }
    // This process started the first coordinator's workers: reap them (no zombies left behind).
    for (int pid : reap_) waitpid(pid, nullptr, 0);
  }
  void Start() {
    CoordinatorOptions o = testing::LoopbackOptions(dir_);
    o.persist_interval = milliseconds(0);
    o.worker_binary = script_;
    o.stop_grace = milliseconds(200);
    auto c = Coordinator::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    coordinator_ = std::move(*c);
    stubs_ = testing::ConnectStubs(coordinator_->address());
  }
  void Restart() {
    coordinator_.reset();  // like a crash for the workers: they are left running
    Start();
  }
  // The pid a rank's script wrote (a new one after a group restart).
  int Pid(int rank, int other_than = 0) {
    std::string file = dir_.File("work") + "/jobs/job/pid-" + std::to_string(rank);
    int pid = 0;
    testing::WaitFor([&] {
      std::ifstream(file) >> pid;
      return pid > 0 && pid != other_than;
    });
    return pid;
  }
  grpc::Status Register(int rank, int pid) {
    grpc::ClientContext ctx;
    v1::RegisterRequest req;
    req.set_job("job");
    req.set_rank(rank);
    req.set_world_size(2);
    req.set_pid(pid);
    v1::RegisterResponse resp;
    return stubs_.workers->Register(&ctx, req, &resp);
  }
  grpc::Status Report(int rank, int64_t step, bool finished, v1::ReportProgressResponse* resp) {
    grpc::ClientContext ctx;
    v1::ReportProgressRequest req;
    req.set_job("job");
    req.set_rank(rank);
    req.add_steps()->set_step(step);
    req.set_finished(finished);
    return stubs_.workers->ReportProgress(&ctx, req, resp);
  }
  v1::Job Get() {
    grpc::ClientContext ctx;
    v1::GetJobRequest req;
    req.set_name("job");
    v1::Job job;
    EXPECT_TRUE(stubs_.jobs->GetJob(&ctx, req, &job).ok());
    return job;
  }
  void LaunchAndRegister(int max_restarts) {
    v1::JobSpec spec = testing::ValidJobSpec("job", 2, "local");
    spec.set_max_restarts(max_restarts);
    grpc::ClientContext ctx;
    v1::LaunchJobRequest req;
    *req.mutable_spec() = spec;
    v1::Job job;
    ASSERT_TRUE(stubs_.jobs->LaunchJob(&ctx, req, &job).ok());
    for (int r = 0; r < 2; ++r) {
      ASSERT_TRUE(Register(r, Pid(r)).ok());
      reap_.push_back(Pid(r));
    }
  }

  testing::TempDir dir_;
  std::string script_;
  std::vector<int> reap_;
  std::unique_ptr<Coordinator> coordinator_;
  testing::ServiceStubs stubs_;
};

TEST_F(ReadoptionTest, WorkersOfThePreviousCoordinatorFinishTheJob) {
  LaunchAndRegister(0);
  int pids[2] = {Pid(0), Pid(1)};
  Restart();
  ASSERT_EQ(kill(pids[0], 0), 0) << "the worker did not survive the coordinator";
  // Reports and the timeline stream of workers registered with the previous coordinator.
  v1::ReportProgressResponse resp;
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(Report(r, 10, false, &resp).ok());
    EXPECT_FALSE(resp.stop());
  }
  {
    grpc::ClientContext ctx;
    v1::GetTimelineRequest req;
    req.set_job("job");
    auto reader = stubs_.schedules->WatchTimeline(&ctx, req);
    v1::Timeline timeline;
    ASSERT_TRUE(reader->Read(&timeline));
    EXPECT_EQ(timeline.revisions_size(), 1);
    ctx.TryCancel();
  }
  EXPECT_EQ(Get().global_step(), 11);
  for (int r = 0; r < 2; ++r) ASSERT_TRUE(Report(r, 20, true, &resp).ok());
  EXPECT_EQ(Get().state(), v1::RUNNING);  // the adopted processes are still running
  for (int pid : pids) kill(-pid, SIGKILL);
  ASSERT_TRUE(testing::WaitFor([&] { return Get().state() == v1::SUCCEEDED; }))
      << v1::JobState_Name(Get().state()) << ": " << Get().reason();
  EXPECT_EQ(Get().restarts(), 0);
}

TEST_F(ReadoptionTest, AdoptedWorkerDyingEarlyRestartsTheGroup) {
  LaunchAndRegister(1);
  int pids[2] = {Pid(0), Pid(1)};
  Restart();
  kill(-pids[1], SIGKILL);  // rank 1 dies; the coordinator stops rank 0 and starts both again
  ASSERT_TRUE(testing::WaitFor([&] { return Get().restarts() == 1; })) << Get().reason();
  EXPECT_NE(Get().reason().find("rank 1 (pid " + std::to_string(pids[1]) + ", adopted)"),
            std::string::npos)
      << Get().reason();
  int fresh[2] = {Pid(0, pids[0]), Pid(1, pids[1])};
  EXPECT_NE(fresh[0], pids[0]);
  EXPECT_NE(fresh[1], pids[1]);
  grpc::ClientContext ctx;
  v1::StopJobRequest stop;
  stop.set_name("job");
  v1::Job job;
  ASSERT_TRUE(stubs_.jobs->StopJob(&ctx, stop, &job).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return kill(fresh[0], 0) != 0 && kill(fresh[1], 0) != 0; }))
      << "the restarted workers were not stopped";
}

}  // namespace
}  // namespace cyclr
