// Jobs of a cluster launcher (slurm, kubernetes) in the JobManager, and the LauncherRouter in
// front of the launchers: each job reaches its own launcher; a queued allocation holds off the
// registration timeout; the allocation is persisted and followed again after a restart (or the
// group fails when it cannot be); worker logs by rank; a missing launcher is a clear error.
#include <gtest/gtest.h>

#include "server/job_manager.h"
#include "server/launcher_factory.h"
#include "server/launcher_router.h"
#include "tests/server/fake_launcher.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;
using testing::FakeLauncher;

constexpr milliseconds kRegister(1000);

// A fake that also serves logs and records Reattach.
class FakeClusterLauncher : public FakeLauncher {
 public:
  StatusOr<LogChunk> ReadLog(const std::string& job, int rank, int64_t offset,
                             int max_bytes) const override {
    LogChunk c;
    c.data = job + " rank " + std::to_string(rank) + " from " + std::to_string(offset) + " max " +
             std::to_string(max_bytes);
    c.size = static_cast<int64_t>(c.data.size());
    return c;
  }
  Status Reattach(const v1::Job& job) override {
    std::lock_guard<std::mutex> lock(mu);
    reattached.push_back(job.name() + "@" + job.cluster().id());
    return reattach_fails ? Status::NotFound("Slurm no longer knows job " + job.cluster().id())
                          : Status::Ok();
  }
  std::vector<std::string> reattached;
  bool reattach_fails = false;
};

class ClusterJobsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    JobManager::Options o;
    o.persist_interval = milliseconds(0);
    o.heartbeat_timeout = milliseconds(1000);
    o.register_timeout = kRegister;
    o.adoption_grace = milliseconds(0);
    testing::OpenManagers(dir_, o, &store_, &schedules_, &jobs_);
    ASSERT_TRUE(jobs_->Recover().ok());
    router_ = std::make_unique<LauncherRouter>(
        [this](const std::string& job) { return jobs_->LauncherOf(job); });
    auto local = std::make_unique<FakeLauncher>();
    auto slurm = std::make_unique<FakeClusterLauncher>();
    local_ = local.get();
    slurm_ = slurm.get();
    router_->Add("local", std::move(local));
    router_->Add("slurm", std::move(slurm));
    jobs_->SetLauncher(router_.get());
  }
  v1::ClusterJob Allocation(const std::string& state, bool queued) {
    v1::ClusterJob c;
    c.set_scheduler("slurm");
    c.set_id("42");
    c.set_state(state);
    c.set_queued(queued);
    c.set_submissions(1);
    return c;
  }
  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> schedules_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<LauncherRouter> router_;
  FakeLauncher* local_ = nullptr;
  FakeClusterLauncher* slurm_ = nullptr;
};

TEST_F(ClusterJobsTest, EachJobReachesItsOwnLauncher) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("on-slurm", 2, "slurm")).ok());
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("here", 2, "local")).ok());
  EXPECT_EQ(slurm_->launched, std::vector<std::string>{"on-slurm"});
  EXPECT_EQ(local_->launched, std::vector<std::string>{"here"});
  ASSERT_TRUE(jobs_->Stop("on-slurm", "").ok());
  EXPECT_EQ(slurm_->stopped, std::vector<std::string>{"on-slurm"});
  EXPECT_TRUE(local_->stopped.empty());
  StatusOr<LogChunk> log = jobs_->ReadWorkerLog("on-slurm", 1, -10, 100);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->data, "on-slurm rank 1 from -10 max 100");
}

TEST_F(ClusterJobsTest, AKindWithoutLauncherFailsTheLaunchClearly) {
  StatusOr<v1::Job> job = jobs_->Launch(testing::ValidJobSpec("k", 2, "kubernetes"));
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::FAILED);
  EXPECT_NE(job->reason().find("no kubernetes launcher (start it with --kubernetes)"),
            std::string::npos)
      << job->reason();
}

TEST_F(ClusterJobsTest, AQueuedAllocationHoldsOffTheRegistrationTimeout) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("q", 2, "slurm")).ok());
  jobs_->OnClusterChange("q", Allocation("PENDING", true));
  auto later = JobManager::Clock::now() + 10 * kRegister;
  jobs_->CheckHeartbeats(later);
  EXPECT_EQ(jobs_->Get("q")->state(), v1::PENDING) << jobs_->Get("q")->reason();
  EXPECT_EQ(jobs_->Get("q")->cluster().state(), "PENDING");
  // Running: the timeout counts from now.
  jobs_->OnClusterChange("q", Allocation("RUNNING", false));
  jobs_->CheckHeartbeats(JobManager::Clock::now() + kRegister / 2);
  EXPECT_EQ(jobs_->Get("q")->state(), v1::PENDING);
  jobs_->CheckHeartbeats(JobManager::Clock::now() + 2 * kRegister);
  EXPECT_EQ(jobs_->Get("q")->state(), v1::FAILED);
  EXPECT_NE(jobs_->Get("q")->reason().find("did not register"), std::string::npos);
  EXPECT_EQ(slurm_->stopped, std::vector<std::string>{"q"});  // scancel of the allocation
}

TEST_F(ClusterJobsTest, TheAllocationIsPersistedAndFollowedAgainAfterARestart) {
  v1::JobSpec spec = testing::ValidJobSpec("r", 2, "slurm");
  spec.set_max_restarts(1);
  ASSERT_TRUE(jobs_->Launch(spec).ok());
  jobs_->OnClusterChange("r", Allocation("RUNNING", false));
  Open();  // a restarted coordinator
  EXPECT_EQ(jobs_->Get("r")->cluster().id(), "42");
  jobs_->AdoptWorkers();
  EXPECT_EQ(slurm_->reattached, std::vector<std::string>{"r@42"});
  // The allocation's end reaches the job as every rank's exit: the group is restarted.
  jobs_->OnWorkerExit(WorkerExit{"r", 0, 1, 0, "Slurm job 42 FAILED", true, 0});
  jobs_->OnWorkerExit(WorkerExit{"r", 1, 1, 0, "Slurm job 42 FAILED", true, 0});
  EXPECT_EQ(jobs_->Get("r")->restarts(), 1);
  EXPECT_EQ(slurm_->launched, std::vector<std::string>{"r"});  // resubmitted
}

TEST_F(ClusterJobsTest, AnAllocationThatCannotBeFollowedFailsTheGroup) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("gone", 2, "slurm")).ok());
  jobs_->OnClusterChange("gone", Allocation("RUNNING", false));
  Open();
  slurm_->reattach_fails = true;
  jobs_->AdoptWorkers();
  v1::Job job = jobs_->Get("gone").value();
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_NE(job.reason().find("Slurm no longer knows job 42"), std::string::npos) << job.reason();
}

TEST_F(ClusterJobsTest, WorkerLogRequestsAreChecked) {
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("ext", 2, "external")).ok());
  EXPECT_EQ(jobs_->ReadWorkerLog("ext", 0, 0, 10).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(jobs_->Launch(testing::ValidJobSpec("s", 2, "slurm")).ok());
  EXPECT_EQ(jobs_->ReadWorkerLog("s", 2, 0, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs_->ReadWorkerLog("nope", 0, 0, 10).status().code(), StatusCode::kNotFound);
}

TEST(LauncherFactoryTest, BuildsTheEnabledKindsAndRefusesPodsWithoutAnAddress) {
  testing::TempDir dir;
  LauncherSetup setup;
  setup.worker_binary = "/bin/true";
  setup.address = "127.0.0.1:7070";
  setup.work_dir = dir.path();
  auto plain = MakeLaunchers(setup, nullptr, nullptr, nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_NE((*plain)->Get("local"), nullptr);
  EXPECT_EQ((*plain)->Get("slurm"), nullptr);
  setup.cluster.slurm = true;
  setup.cluster.kubernetes = true;
  auto refused = MakeLaunchers(setup, nullptr, nullptr, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--cluster-worker-address"), std::string::npos);
  setup.cluster.worker_address = "head:7070";
  auto all = MakeLaunchers(setup, nullptr, nullptr, nullptr);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_NE((*all)->Get("slurm"), nullptr);
  EXPECT_NE((*all)->Get("kubernetes"), nullptr);
}

TEST(LauncherFactoryTest, WorkersTrustTheCoordinatorsCertificateOrTheGivenCa) {
  EXPECT_FALSE(WorkerTls(TlsFiles{}, "").enabled());
  TlsFiles server;
  server.cert = "c.pem";
  server.key = "k.pem";
  EXPECT_EQ(WorkerTls(server, "").ca, "c.pem");
  EXPECT_EQ(WorkerTls(server, "ca.pem").ca, "ca.pem");
  EXPECT_EQ(WorkerTls(server, "").cert, "");  // no client certificates asked for
  server.ca = "clients.pem";                  // mutual TLS: workers present the pair
  EXPECT_EQ(WorkerTls(server, "").cert, "c.pem");
  EXPECT_EQ(WorkerTls(server, "").key, "k.pem");
}

}  // namespace
}  // namespace cyclr
