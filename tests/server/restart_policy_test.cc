// JobManager's failure policy with a fake launcher: group restarts after kills, exits and
// silence, the max_restarts limit, divergence (final), stop during a restart, and adoption of the
// workers recorded by an earlier coordinator process.
#include <gtest/gtest.h>

#include "server/job_manager.h"
#include "tests/server/fake_launcher.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;
using testing::FakeLauncher;

constexpr milliseconds kHeartbeat(1000);
constexpr milliseconds kRegister(3000);

class RestartPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  // (Re)opens the manager on the same state file, as a restarted coordinator does.
  void Open(milliseconds adoption_grace = milliseconds(0)) {
    JobManager::Options o;
    o.persist_interval = milliseconds(0);
    o.heartbeat_timeout = kHeartbeat;
    o.register_timeout = kRegister;
    o.adoption_grace = adoption_grace;
    o.on_group_restart = [this](const std::string& job) { group_restarts_.push_back(job); };
    testing::OpenManagers(dir_, o, &store_, &schedules_, &jobs_);
    ASSERT_TRUE(jobs_->Recover().ok());
    jobs_->SetLauncher(&launcher_);
  }
  v1::JobSpec Local(const std::string& name, int max_restarts) {
    v1::JobSpec spec = testing::ValidJobSpec(name, 2, "local");
    spec.set_max_restarts(max_restarts);
    return spec;
  }
  static WorkerExit Killed(const std::string& job, int rank) {
    return WorkerExit{job, rank, 0, 9, "", true, 100 + rank};
  }
  static WorkerExit Exited(const std::string& job, int rank, int code) {
    return WorkerExit{job, rank, code, 0, "", true, 100 + rank};
  }
  static v1::ReportProgressRequest Report(const std::string& job, int rank, bool finished,
                                          const std::string& error = "") {
    v1::ReportProgressRequest r;
    r.set_job(job);
    r.set_rank(rank);
    r.add_steps()->set_step(9);
    r.set_finished(finished);
    r.set_error(error);
    return r;
  }
  v1::Job Get(const std::string& name) { return jobs_->Get(name).value(); }
  v1::Job Stored(const std::string& name) {
    std::vector<v1::Job> stored = store_->LoadJobs().value();
    for (const v1::Job& j : stored) {
      if (j.name() == name) return j;
    }
    ADD_FAILURE() << name << " not stored";
    return v1::Job();
  }

  testing::TempDir dir_;
  FakeLauncher launcher_;
  std::vector<std::string> group_restarts_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(RestartPolicyTest, KilledWorkerRestartsTheGroupOnceAllExited) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 2)).ok());
  jobs_->OnWorkerExit(Killed("a", 1));
  EXPECT_EQ(launcher_.stopped, std::vector<std::string>{"a"});  // the rest of the group
  EXPECT_EQ(launcher_.launched.size(), 1u);                     // not before rank 0 ended
  v1::Job job = Get("a");
  EXPECT_EQ(job.state(), v1::PENDING);  // nobody registered; the group is being restarted
  EXPECT_EQ(job.reason().rfind("restart 1 of 2: worker rank 1 was killed by signal 9", 0), 0u)
      << job.reason();
  // Rank 0 loses its peer: it reports the error, then exits 1. The error alone changes nothing.
  ASSERT_TRUE(jobs_->Report(Report("a", 0, true, "UNAVAILABLE: gloo: Connection reset")).ok());
  EXPECT_FALSE(JobManager::IsTerminal(Get("a").state()));
  jobs_->OnWorkerExit(Exited("a", 0, 1));
  EXPECT_EQ(launcher_.launched, (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ(group_restarts_, std::vector<std::string>{"a"});
  EXPECT_EQ(Get("a").restarts(), 1);
  EXPECT_EQ(Stored("a").restarts(), 1);  // persisted
  // The new group finishes cleanly.
  for (int r = 0; r < 2; ++r) ASSERT_TRUE(jobs_->Report(Report("a", r, true)).ok());
  for (int r = 0; r < 2; ++r) jobs_->OnWorkerExit(Exited("a", r, 0));
  EXPECT_EQ(Get("a").state(), v1::SUCCEEDED);
  EXPECT_EQ(Get("a").restarts(), 1);
}

TEST_F(RestartPolicyTest, PastMaxRestartsTheJobFailsWithTheLastReason) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  jobs_->OnWorkerExit(Killed("a", 1));
  jobs_->OnWorkerExit(Exited("a", 0, 1));
  ASSERT_EQ(launcher_.launched.size(), 2u);
  jobs_->OnWorkerExit(Killed("a", 1));
  v1::Job job = Get("a");
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_EQ(job.reason(), "worker rank 1 was killed by signal 9 (Killed) (restarted 1 of 1 times)");
  EXPECT_EQ(launcher_.launched.size(), 2u);
  EXPECT_EQ(Stored("a").state(), v1::FAILED);
}

TEST_F(RestartPolicyTest, WithoutRestartsTheFirstFailureIsFinal) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 0)).ok());
  jobs_->OnWorkerExit(Exited("a", 1, 3));
  EXPECT_EQ(Get("a").state(), v1::FAILED);
  EXPECT_EQ(Get("a").reason(), "worker rank 1 exited with code 3");
  EXPECT_TRUE(group_restarts_.empty());
}

TEST_F(RestartPolicyTest, DivergenceFailsWithoutRestart) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 3)).ok());
  auto stop = jobs_->Report(Report("a", 0, true, "ABORTED: loss diverged at step 5 (loss nan)"));
  ASSERT_TRUE(stop.ok());
  EXPECT_TRUE(*stop);
  v1::Job job = Get("a");
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_NE(job.reason().find("loss diverged at step 5"), std::string::npos) << job.reason();
  EXPECT_EQ(job.restarts(), 0);
  jobs_->OnWorkerExit(Exited("a", 0, 1));
  jobs_->OnWorkerExit(Exited("a", 1, 1));
  EXPECT_EQ(launcher_.launched.size(), 1u);
  EXPECT_TRUE(IsFinalWorkerError("loss diverged at step 1"));
  EXPECT_FALSE(IsFinalWorkerError("UNAVAILABLE: connection reset"));
}

// Without restarts left, a peer's lost-peer error still does not name the failure: the exits
// do (the killed rank's comes first). External jobs fail on a reported error at once.
TEST_F(RestartPolicyTest, ExitsNameTheFailureOfALocalJob) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 0)).ok());
  ASSERT_TRUE(jobs_->Report(Report("a", 0, true, "UNAVAILABLE: gloo: Connection reset")).ok());
  EXPECT_FALSE(JobManager::IsTerminal(Get("a").state()));
  jobs_->OnWorkerExit(Killed("a", 1));
  EXPECT_EQ(Get("a").state(), v1::FAILED);
  EXPECT_EQ(Get("a").reason(), "worker rank 1 was killed by signal 9 (Killed)");

  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("ext")).ok());
  auto stop = jobs_->Report(Report("ext", 1, true, "UNAVAILABLE: gloo: Connection reset"));
  EXPECT_TRUE(*stop);
  EXPECT_EQ(Get("ext").state(), v1::FAILED);
  EXPECT_EQ(Get("ext").reason(), "rank 1 reported an error: UNAVAILABLE: gloo: Connection reset");
}

TEST_F(RestartPolicyTest, CleanExitBeforeFinishingIsAFailure) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  jobs_->OnWorkerExit(Exited("a", 0, 0));
  EXPECT_NE(Get("a").reason().find("exited with code 0 before reporting finished"),
            std::string::npos)
      << Get("a").reason();
  jobs_->OnWorkerExit(Exited("a", 1, 1));
  EXPECT_EQ(launcher_.launched.size(), 2u);
}

TEST_F(RestartPolicyTest, SilentWorkerFailsItsGroup) {
  auto start = JobManager::Clock::now();
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  ASSERT_TRUE(jobs_->OnRegister("a", 0, 0, false).ok());
  ASSERT_TRUE(jobs_->Report(Report("a", 1, true)).ok());  // rank 1 is done: never silent
  jobs_->CheckHeartbeats(start + kHeartbeat / 2);
  EXPECT_TRUE(launcher_.stopped.empty());
  jobs_->CheckHeartbeats(start + kHeartbeat * 2);
  EXPECT_EQ(launcher_.stopped, std::vector<std::string>{"a"});
  EXPECT_EQ(Get("a").reason(), "restart 1 of 1: worker rank 0 sent nothing for more than 1000 ms");
  // External jobs are not watched: their cluster engine restarts them.
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("ext")).ok());
  jobs_->CheckHeartbeats(start + kHeartbeat * 10);
  EXPECT_EQ(Get("ext").state(), v1::PENDING);
}

// A cold start (LibTorch loading, a slow disk) may take far longer than a heartbeat: until a
// rank registers, its group's start is measured against register_timeout, and the job says whom it
// waits for. A rank that never registers fails the group with the end of its log.
TEST_F(RestartPolicyTest, UnregisteredWorkerHasTheRegistrationTimeout) {
  auto start = JobManager::Clock::now();
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  v1::Job pending = Get("a");
  EXPECT_EQ(pending.state(), v1::PENDING);
  EXPECT_EQ(std::vector<int>(pending.waiting_ranks().begin(), pending.waiting_ranks().end()),
            (std::vector<int>{0, 1}));
  EXPECT_GT(pending.waiting_since_unix_ms(), 0);
  jobs_->CheckHeartbeats(start + kHeartbeat * 2);  // past the heartbeat: not failed
  EXPECT_TRUE(launcher_.stopped.empty());
  ASSERT_TRUE(jobs_->OnRegister("a", 1, 0, false).ok());
  EXPECT_EQ(Get("a").waiting_ranks_size(), 1);
  EXPECT_EQ(Get("a").waiting_ranks(0), 0);
  launcher_.log_tail = "loading libtorch | still loading";
  // Rank 1 registered at ~start and stayed silent: the heartbeat fails first, naming rank 1.
  jobs_->CheckHeartbeats(start + kHeartbeat * 2);
  EXPECT_EQ(Get("a").reason(), "restart 1 of 1: worker rank 1 sent nothing for more than 1000 ms");
  // The new group: rank 0 never registers.
  jobs_->OnWorkerExit(Killed("a", 0));
  jobs_->OnWorkerExit(Killed("a", 1));
  ASSERT_EQ(launcher_.launched.size(), 2u);
  EXPECT_EQ(Get("a").waiting_ranks_size(), 2);
  ASSERT_TRUE(jobs_->OnRegister("a", 1, 0, false).ok());
  ASSERT_TRUE(jobs_->Report(Report("a", 1, true)).ok());
  auto restarted = JobManager::Clock::now();
  jobs_->CheckHeartbeats(restarted + kRegister / 2);
  EXPECT_EQ(Get("a").state(), v1::RUNNING);
  jobs_->CheckHeartbeats(restarted + kRegister + kHeartbeat);
  EXPECT_EQ(Get("a").state(), v1::FAILED);
  EXPECT_EQ(Get("a").reason(),
            "worker rank 0 did not register within 3000 ms of its start; its log ends: a/0: "
            "loading libtorch | still loading (restarted 1 of 1 times)");
  EXPECT_EQ(Get("a").waiting_ranks_size(), 0);  // ended: nobody is awaited
}

// The coordinator's own stall (SIGSTOP, swap) must not fail healthy workers: GrantGrace gives
// every rank max(heartbeat, adoption grace) from the end of the stall.
TEST_F(RestartPolicyTest, GraceAfterACoordinatorStall) {
  Open(kHeartbeat * 5);
  auto start = JobManager::Clock::now();
  ASSERT_TRUE(jobs_->Launch(Local("a", 0)).ok());
  for (int r = 0; r < 2; ++r) ASSERT_TRUE(jobs_->OnRegister("a", r, 0, false).ok());
  auto resumed = start + kHeartbeat * 20;  // the checker ran again only now
  jobs_->GrantGrace(resumed);
  jobs_->CheckHeartbeats(resumed + kHeartbeat * 4);
  EXPECT_EQ(Get("a").state(), v1::RUNNING);
  jobs_->CheckHeartbeats(resumed + kHeartbeat * 6);
  EXPECT_EQ(Get("a").state(), v1::FAILED);
  EXPECT_EQ(Get("a").reason(), "worker rank 0 sent nothing for more than 1000 ms");
}

TEST_F(RestartPolicyTest, StopDuringARestartStartsNothing) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 2)).ok());
  jobs_->OnWorkerExit(Killed("a", 1));
  ASSERT_TRUE(jobs_->Stop("a", "enough").ok());
  jobs_->OnWorkerExit(Exited("a", 0, 143));
  EXPECT_EQ(launcher_.launched.size(), 1u);
  EXPECT_EQ(Get("a").state(), v1::STOPPED);
}

TEST_F(RestartPolicyTest, FailedRelaunchFailsTheJob) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 2)).ok());
  launcher_.fail_launch = true;
  jobs_->OnWorkerExit(Killed("a", 0));
  jobs_->OnWorkerExit(Killed("a", 1));
  EXPECT_EQ(Get("a").state(), v1::FAILED);
  EXPECT_EQ(Get("a").reason(), "restarting the workers failed: no such binary");
}

TEST_F(RestartPolicyTest, ExternalRankRegisteringAgainCountsARestart) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("ext")).ok());
  ASSERT_TRUE(jobs_->OnRegister("ext", 0, 0, false).ok());
  EXPECT_EQ(Get("ext").state(), v1::RUNNING);
  ASSERT_TRUE(jobs_->OnRegister("ext", 0, 0, true).ok());
  EXPECT_EQ(Stored("ext").restarts(), 1);
  EXPECT_TRUE(launcher_.adopted.empty());
  EXPECT_EQ(jobs_->OnRegister("zz", 0, 0, false).code(), StatusCode::kNotFound);
}

// A restarted coordinator adopts the workers that registered with the previous one; their
// reports count; an adopted worker that ends after finishing ended cleanly.
TEST_F(RestartPolicyTest, RestartedManagerAdoptsRecordedWorkers) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  ASSERT_TRUE(jobs_->OnRegister("a", 0, 4242, false).ok());
  ASSERT_TRUE(jobs_->OnRegister("a", 1, 4343, false).ok());
  EXPECT_TRUE(launcher_.adopted.empty());  // launched by this manager: already watched
  launcher_.running_pids = {4242};         // rank 1's process is gone meanwhile
  Open(milliseconds(5000));
  jobs_->AdoptWorkers();
  ASSERT_EQ(launcher_.adopted.size(), 1u);
  EXPECT_EQ(launcher_.adopted[0], std::make_tuple(std::string("a"), 0, 4242));
  // The grace covers the workers' reconnection: no heartbeat failure yet.
  jobs_->CheckHeartbeats(JobManager::Clock::now() + kHeartbeat * 2);
  EXPECT_EQ(Get("a").state(), v1::RUNNING);
  // Both ranks report finished to the new manager; the adopted process ends (status unknown).
  for (int r = 0; r < 2; ++r) ASSERT_TRUE(jobs_->Report(Report("a", r, true)).ok());
  WorkerExit gone{"a", 0, 0, 0, "", false, 4242};
  EXPECT_FALSE(gone.ok());
  jobs_->OnWorkerExit(gone);
  EXPECT_EQ(Get("a").state(), v1::SUCCEEDED);
}

TEST_F(RestartPolicyTest, AdoptedWorkerEndingEarlyRestartsTheGroup) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  ASSERT_TRUE(jobs_->OnRegister("a", 0, 4242, false).ok());
  launcher_.running_pids = {4242};
  Open(milliseconds(0));
  jobs_->AdoptWorkers();
  jobs_->OnWorkerExit(WorkerExit{"a", 0, 0, 0, "", false, 4242});
  // Rank 1 was never adopted (no pid recorded), so nothing else is awaited: restart at once.
  EXPECT_EQ(launcher_.launched, (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ(Get("a").restarts(), 1);
  EXPECT_NE(Get("a").reason().find("(pid 4242, adopted) ended with an unknown status"),
            std::string::npos)
      << Get("a").reason();
}

TEST_F(RestartPolicyTest, UnknownWorkerOfALocalJobIsAdoptedAtRegistration) {
  ASSERT_TRUE(jobs_->Launch(Local("a", 1)).ok());
  Open(milliseconds(0));  // a new coordinator: it launched nothing itself
  jobs_->AdoptWorkers();
  launcher_.running_pids = {777};
  ASSERT_TRUE(jobs_->OnRegister("a", 1, 777, false).ok());
  ASSERT_EQ(launcher_.adopted.size(), 1u);
  EXPECT_EQ(launcher_.adopted[0], std::make_tuple(std::string("a"), 1, 777));
}

}  // namespace
}  // namespace cyclr
