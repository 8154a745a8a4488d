// The real Coordinator on 127.0.0.1:0 with a temp state file, driven through real gRPC stubs:
// jobs, schedules, workers, error codes, streams, health, and recovery after a restart.
#include "server/coordinator.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "cyclr/v1/service.grpc.pb.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start() {
    CoordinatorOptions o = testing::LoopbackOptions(dir_);
    o.persist_interval = milliseconds(0);
    o.worker_binary = worker_binary_;
    o.stop_grace = milliseconds(200);
    auto c = Coordinator::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    coordinator_ = std::move(*c);
    stubs_ = testing::ConnectStubs(coordinator_->address());
  }
  void Restart() {
    stubs_ = testing::ServiceStubs();
    coordinator_.reset();
    Start();
  }
  grpc::Status Launch(const v1::JobSpec& spec, v1::Job* job) {
    grpc::ClientContext ctx;
    v1::LaunchJobRequest req;
    *req.mutable_spec() = spec;
    return stubs_.jobs->LaunchJob(&ctx, req, job);
  }
  grpc::Status Update(const v1::UpdateScheduleRequest& req, v1::Revision* rev) {
    grpc::ClientContext ctx;
    return stubs_.schedules->UpdateSchedule(&ctx, req, rev);
  }
  grpc::Status Report(const v1::ReportProgressRequest& req, v1::ReportProgressResponse* resp) {
    grpc::ClientContext ctx;
    return stubs_.workers->ReportProgress(&ctx, req, resp);
  }
  v1::Job Get(const std::string& name) {
    grpc::ClientContext ctx;
    v1::GetJobRequest req;
    req.set_name(name);
    v1::Job job;
    EXPECT_TRUE(stubs_.jobs->GetJob(&ctx, req, &job).ok());
    return job;
  }
  static v1::ReportProgressRequest Step(const std::string& job, int rank, int64_t step) {
    v1::ReportProgressRequest r;
    r.set_job(job);
    r.set_rank(rank);
    v1::StepReport* s = r.add_steps();
    s->set_step(step);
    s->set_loss(1.5);
    s->set_step_seconds(0.01);
    return r;
  }

  testing::TempDir dir_;
  std::string worker_binary_ = "/bin/false";
  std::unique_ptr<Coordinator> coordinator_;
  testing::ServiceStubs stubs_;
};

TEST_F(CoordinatorTest, JobLifecycleOverGrpc) {
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("mnist"), &job).ok());
  EXPECT_EQ(job.state(), v1::PENDING);
  {
    grpc::ClientContext ctx;
    v1::ListJobsResponse list;
    ASSERT_TRUE(stubs_.jobs->ListJobs(&ctx, v1::ListJobsRequest(), &list).ok());
    ASSERT_EQ(list.jobs_size(), 1);
    EXPECT_EQ(list.jobs(0).name(), "mnist");
  }
  // Workers register (rank assigned) and report.
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    v1::RegisterRequest req;
    req.set_job("mnist");
    req.set_rank(-1);
    req.set_world_size(2);
    v1::RegisterResponse resp;
    ASSERT_TRUE(stubs_.workers->Register(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.rank(), i);
    EXPECT_EQ(resp.store_prefix(), "mnist/0/");
    EXPECT_EQ(resp.timeline().revisions_size(), 1);
    EXPECT_EQ(resp.spec().optimizer(), "sgd");
  }
  EXPECT_EQ(Get("mnist").state(), v1::RUNNING);
  v1::ReportProgressResponse rr;
  ASSERT_TRUE(Report(Step("mnist", 0, 20), &rr).ok());
  ASSERT_TRUE(Report(Step("mnist", 1, 21), &rr).ok());
  EXPECT_FALSE(rr.stop());
  job = Get("mnist");
  EXPECT_EQ(job.global_step(), 21);  // steps 0..20 done by every rank
  ASSERT_EQ(job.ranks_size(), 2);
  EXPECT_TRUE(job.ranks(0).alive());

  // A schedule update defaults to the current step and is visible in the timeline.
  v1::UpdateScheduleRequest up;
  up.set_job("mnist");
  *up.mutable_spec() = testing::TriangularSpec(0.05);
  up.set_author("carol");
  v1::Revision rev;
  ASSERT_TRUE(Update(up, &rev).ok());
  EXPECT_EQ(rev.version(), 2);
  EXPECT_EQ(rev.effective_step(), 21);
  {
    grpc::ClientContext ctx;
    v1::GetTimelineRequest req;
    req.set_job("mnist");
    v1::Timeline t;
    ASSERT_TRUE(stubs_.schedules->GetTimeline(&ctx, req, &t).ok());
    ASSERT_EQ(t.revisions_size(), 2);
    EXPECT_EQ(t.revisions(1).author(), "carol");
  }
  job = Get("mnist");
  EXPECT_EQ(job.schedule_version(), 2);  // in force at the global step, without a new report
  EXPECT_NEAR(job.lr(), 0.001 + (0.05 - 0.001) * 21 / 100.0, 1e-12);
  // Stop: the reply says so and workers are told to stop.
  {
    grpc::ClientContext ctx;
    v1::StopJobRequest req;
    req.set_name("mnist");
    v1::Job stopped;
    ASSERT_TRUE(stubs_.jobs->StopJob(&ctx, req, &stopped).ok());
    EXPECT_EQ(stopped.state(), v1::STOPPED);
  }
  ASSERT_TRUE(Report(Step("mnist", 0, 22), &rr).ok());
  EXPECT_TRUE(rr.stop());
}

TEST_F(CoordinatorTest, BadInputGetsOneClearErrorCode) {
  v1::Job job;
  v1::JobSpec bad = testing::ValidJobSpec("x");
  bad.set_workers(0);
  grpc::Status s = Launch(bad, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "workers (0) must be between 1 and 64");
  ASSERT_TRUE(Launch(testing::ValidJobSpec("x"), &job).ok());
  EXPECT_EQ(Launch(testing::ValidJobSpec("x"), &job).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  v1::UpdateScheduleRequest up;
  up.set_job("nope");
  *up.mutable_spec() = testing::TriangularSpec();
  v1::Revision rev;
  EXPECT_EQ(Update(up, &rev).error_code(), grpc::StatusCode::NOT_FOUND);
  up.set_job("x");
  up.mutable_spec()->set_max_lr(0.0001);
  s = Update(up, &rev);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("max_lr"), std::string::npos) << s.error_message();

  v1::ReportProgressResponse rr;
  ASSERT_TRUE(Report(Step("x", 0, 30), &rr).ok());
  ASSERT_TRUE(Report(Step("x", 1, 30), &rr).ok());
  *up.mutable_spec() = testing::TriangularSpec();
  up.set_effective_step(10);
  s = Update(up, &rev);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "effective_step (10) must be >= the job's current step (31)");

  grpc::ClientContext ctx;
  v1::RegisterRequest reg;
  reg.set_job("x");
  reg.set_rank(0);
  reg.set_world_size(5);
  v1::RegisterResponse rresp;
  EXPECT_EQ(stubs_.workers->Register(&ctx, reg, &rresp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Report(Step("ghost", 0, 1), &rr).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CoordinatorTest, StoreRendezvousOverGrpc) {
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("r"), &job).ok());
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(30));
    grpc::ClientContext ctx;
    v1::StoreSetRequest req;
    req.set_job("r");
    req.set_key("r/0/addr");
    req.set_value("tcp://x");
    v1::StoreSetResponse resp;
    EXPECT_TRUE(stubs_.workers->StoreSet(&ctx, req, &resp).ok());
  });
  grpc::ClientContext ctx;
  v1::StoreGetRequest req;
  req.set_job("r");
  req.add_keys("r/0/addr");
  req.set_timeout_ms(5000);
  v1::StoreGetResponse resp;
  ASSERT_TRUE(stubs_.workers->StoreGet(&ctx, req, &resp).ok());
  setter.join();
  ASSERT_EQ(resp.values_size(), 1);
  EXPECT_EQ(resp.values(0), "tcp://x");

  grpc::ClientContext ctx2;
  req.clear_keys();
  req.add_keys("absent");
  req.set_timeout_ms(20);
  grpc::Status s = stubs_.workers->StoreGet(&ctx2, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_NE(s.error_message().find("absent"), std::string::npos);
}

TEST_F(CoordinatorTest, WatchTimelineStreamsChangesAndEndsWithTheJob) {
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("w"), &job).ok());
  grpc::ClientContext ctx;
  v1::GetTimelineRequest req;
  req.set_job("w");
  auto reader = stubs_.schedules->WatchTimeline(&ctx, req);
  v1::Timeline t;
  ASSERT_TRUE(reader->Read(&t));
  EXPECT_EQ(t.revisions_size(), 1);
  v1::UpdateScheduleRequest up;
  up.set_job("w");
  *up.mutable_spec() = testing::TriangularSpec(0.3);
  v1::Revision rev;
  ASSERT_TRUE(Update(up, &rev).ok());
  ASSERT_TRUE(reader->Read(&t));
  ASSERT_EQ(t.revisions_size(), 2);
  EXPECT_DOUBLE_EQ(t.revisions(1).spec().max_lr(), 0.3);
  grpc::ClientContext sctx;
  v1::StopJobRequest stop;
  stop.set_name("w");
  ASSERT_TRUE(stubs_.jobs->StopJob(&sctx, stop, &job).ok());
  while (reader->Read(&t)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(CoordinatorTest, WatchJobEndsWhenClientCancels) {
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("c"), &job).ok());
  grpc::ClientContext ctx;
  v1::GetJobRequest req;
  req.set_name("c");
  auto reader = stubs_.jobs->WatchJob(&ctx, req);
  ASSERT_TRUE(reader->Read(&job));
  EXPECT_EQ(job.state(), v1::PENDING);
  v1::ReportProgressResponse rr;
  ASSERT_TRUE(Report(Step("c", 0, 1), &rr).ok());
  ASSERT_TRUE(reader->Read(&job));
  EXPECT_EQ(job.state(), v1::RUNNING);
  ctx.TryCancel();
  while (reader->Read(&job)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(CoordinatorTest, HealthServiceAnswers) {
  auto channel = grpc::CreateChannel(coordinator_->address(), grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  grpc::ByteBuffer resp;
  // grpc.health.v1.Health/Check with an empty request (service "").
  grpc::GenericStub stub(channel);
  grpc::ByteBuffer empty;
  grpc::Slice s("");
  empty = grpc::ByteBuffer(&s, 1);
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &empty, &resp,
                 [&](grpc::Status st) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = st;
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return done; }));
  EXPECT_TRUE(status.ok()) << status.error_message();
  // HealthCheckResponse{status: SERVING (1)} is the two bytes 08 01.
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(resp.Dump(&slices).ok());
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

// A local job whose workers (a shell script standing in for cyclr-worker) exit 3: the job fails
// with a reason naming the rank, the code and the log's last line.
TEST_F(CoordinatorTest, LocalWorkerExitFailsTheJob) {
  worker_binary_ = dir_.File("worker.sh");
  std::ofstream(worker_binary_)
      << "#!/bin/sh\necho \"starting $4\"\necho 'boom: no data'\nexit 3\n";
  chmod(worker_binary_.c_str(), 0755);
  Restart();
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("local", 2, "local"), &job).ok());
  grpc::ClientContext ctx;
  v1::GetJobRequest req;
  req.set_name("local");
  auto reader = stubs_.jobs->WatchJob(&ctx, req);
  while (reader->Read(&job)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_NE(job.reason().find("exited with code 3: boom: no data"), std::string::npos)
      << job.reason();
  EXPECT_EQ(job.reason().rfind("worker rank ", 0), 0u) << job.reason();
}

TEST_F(CoordinatorTest, StoppingALocalJobTerminatesItsWorkers) {
  worker_binary_ = dir_.File("worker.sh");
  std::ofstream(worker_binary_) << "#!/bin/sh\necho $$ > \"${10}/pid-$6\"\nexec sleep 30\n";
  chmod(worker_binary_.c_str(), 0755);
  Restart();
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("sleepy", 1, "local"), &job).ok());
  std::string pid_file = dir_.File("work") + "/jobs/sleepy/pid-0";
  ASSERT_TRUE(testing::WaitFor([&] { return std::filesystem::exists(pid_file); }));
  int pid = 0;
  ASSERT_TRUE(testing::WaitFor([&] {
    std::ifstream(pid_file) >> pid;
    return pid > 0;
  }));
  grpc::ClientContext ctx;
  v1::StopJobRequest stop;
  stop.set_name("sleepy");
  ASSERT_TRUE(stubs_.jobs->StopJob(&ctx, stop, &job).ok());
  EXPECT_EQ(job.state(), v1::STOPPED);
  EXPECT_TRUE(testing::WaitFor([&] { return kill(pid, 0) != 0; })) << "worker still running";
  EXPECT_EQ(Get("sleepy").state(), v1::STOPPED);  // the exit does not change a stopped job
}

TEST_F(CoordinatorTest, RestartRecoversJobsAndRevisions) {
  v1::Job job;
  ASSERT_TRUE(Launch(testing::ValidJobSpec("keep"), &job).ok());
  ASSERT_TRUE(Launch(testing::ValidJobSpec("gone"), &job).ok());
  v1::ReportProgressResponse rr;
  ASSERT_TRUE(Report(Step("keep", 0, 40), &rr).ok());
  ASSERT_TRUE(Report(Step("keep", 1, 41), &rr).ok());
  v1::UpdateScheduleRequest up;
  up.set_job("keep");
  *up.mutable_spec() = testing::TriangularSpec(0.02);
  up.set_effective_step(50);
  v1::Revision rev;
  ASSERT_TRUE(Update(up, &rev).ok());
  v1::ReportProgressRequest applied = Step("keep", 0, 52);
  v1::AppliedRevision* a = applied.add_applied();
  a->set_version(2);
  a->set_step(51);
  ASSERT_TRUE(Report(applied, &rr).ok());
  grpc::ClientContext sctx;
  v1::StopJobRequest stop;
  stop.set_name("gone");
  stop.set_reason("bye");
  ASSERT_TRUE(stubs_.jobs->StopJob(&sctx, stop, &job).ok());

  Restart();

  job = Get("keep");
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.global_step(), 42);  // min(52, 41) + 1
  job = Get("gone");
  EXPECT_EQ(job.state(), v1::STOPPED);
  EXPECT_EQ(job.reason(), "bye");
  grpc::ClientContext ctx;
  v1::GetTimelineRequest req;
  req.set_job("keep");
  v1::Timeline t;
  ASSERT_TRUE(stubs_.schedules->GetTimeline(&ctx, req, &t).ok());
  ASSERT_EQ(t.revisions_size(), 2);
  EXPECT_EQ(t.revisions(1).effective_step(), 50);
  EXPECT_EQ(t.revisions(1).applied_step(), 51);
  EXPECT_DOUBLE_EQ(t.revisions(1).spec().max_lr(), 0.02);
  // The recovered job takes reports and updates again.
  ASSERT_TRUE(Report(Step("keep", 0, 60), &rr).ok());
  EXPECT_FALSE(rr.stop());
  up.set_effective_step(70);
  ASSERT_TRUE(Update(up, &rev).ok());
  EXPECT_EQ(rev.version(), 3);
}

}  // namespace
}  // namespace cyclr
