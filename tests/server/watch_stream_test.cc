// Watch streams (WatchTimeline, WatchJob) on the callback API, against the real Coordinator on
// 127.0.0.1:0: many open streams hold no server threads, every watcher of a job gets a change,
// watchers of other jobs get nothing, and the stream ends OK / NOT_FOUND / UNAVAILABLE as
// documented. The clients use gRPC's callback API too, so they add no thread per stream either
// and the process's thread count shows the server's threads.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/coordinator.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

// "Threads:" of /proc/self/status.
int ThreadCount() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// One watch stream read through the client callback API; records every message.
template <typename Msg>
class Reader : public grpc::ClientReadReactor<Msg> {
 public:
  // `start(ctx, reactor)` starts the call (stub->async()->WatchX(ctx, &req, reactor)); the
  // request must outlive StartCall, which runs here.
  template <typename Start>
  explicit Reader(Start&& start) {
    start(&ctx_, this);
    this->StartRead(&msg_);
    this->StartCall();
  }
  ~Reader() {
    ctx_.TryCancel();
    Finished(std::chrono::seconds(10));
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(msg_);
    }
    cv_.notify_all();
    this->StartRead(&msg_);
  }
  void OnDone(const grpc::Status& status) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = status;
      done_ = true;
    }
    cv_.notify_all();
  }

  // Waits until `pred(received)` holds; false on timeout.
  bool WaitUntil(const std::function<bool(const std::vector<Msg>&)>& pred,
                 milliseconds timeout = milliseconds(5000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(received_); });
  }
  bool WaitForCount(size_t n) {
    return WaitUntil([n](const std::vector<Msg>& r) { return r.size() >= n; });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.size();
  }
  Msg last() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.back();
  }
  // The final status, or nullopt if the stream is still open after `timeout`.
  std::optional<grpc::Status> Finished(milliseconds timeout = milliseconds(5000)) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return done_; })) return std::nullopt;
    return status_;
  }

 private:
  grpc::ClientContext ctx_;
  Msg msg_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Msg> received_;  // GUARDED_BY(mu_)
  grpc::Status status_;        // GUARDED_BY(mu_)
  bool done_ = false;          // GUARDED_BY(mu_)
};

class WatchStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions o = testing::LoopbackOptions(dir_);
    o.worker_binary = "/bin/false";
    auto c = Coordinator::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    coordinator_ = std::move(*c);
    stubs_ = testing::ConnectStubs(coordinator_->address());
  }

  void Launch(const std::string& name) {
    grpc::ClientContext ctx;
    v1::LaunchJobRequest req;
    *req.mutable_spec() = testing::ValidJobSpec(name);
    v1::Job job;
    ASSERT_TRUE(stubs_.jobs->LaunchJob(&ctx, req, &job).ok());
  }
  void Update(const std::string& job, double max_lr) {
    grpc::ClientContext ctx;
    v1::UpdateScheduleRequest req;
    req.set_job(job);
    *req.mutable_spec() = testing::TriangularSpec(max_lr);
    v1::Revision rev;
    ASSERT_TRUE(stubs_.schedules->UpdateSchedule(&ctx, req, &rev).ok());
  }
  void Stop(const std::string& job) {
    grpc::ClientContext ctx;
    v1::StopJobRequest req;
    req.set_name(job);
    v1::Job out;
    ASSERT_TRUE(stubs_.jobs->StopJob(&ctx, req, &out).ok());
  }
  std::unique_ptr<Reader<v1::Timeline>> WatchTimeline(const std::string& job) {
    return std::make_unique<Reader<v1::Timeline>>(
        [&](grpc::ClientContext* ctx, grpc::ClientReadReactor<v1::Timeline>* r) {
          timeline_req_.set_job(job);
          stubs_.schedules->async()->WatchTimeline(ctx, &timeline_req_, r);
        });
  }
  std::unique_ptr<Reader<v1::Job>> WatchJob(const std::string& job) {
    return std::make_unique<Reader<v1::Job>>(
        [&](grpc::ClientContext* ctx, grpc::ClientReadReactor<v1::Job>* r) {
          job_req_.set_name(job);
          stubs_.jobs->async()->WatchJob(ctx, &job_req_, r);
        });
  }
  static bool HasRevisions(const std::vector<v1::Timeline>& r, int n) {
    return !r.empty() && r.back().revisions_size() == n;
  }

  testing::TempDir dir_;
  v1::GetTimelineRequest timeline_req_;  // serialised by StartCall, reused
  v1::GetJobRequest job_req_;
  std::unique_ptr<Coordinator> coordinator_;
  testing::ServiceStubs stubs_;
};

TEST_F(WatchStreamTest, FiftyWatchersGetTheRevisionWithoutAThreadEach) {
  constexpr int kWatchers = 50;
  Launch("big");
  // Warm up the channel and gRPC's callback threads with one stream, then count.
  auto warm = WatchTimeline("big");
  ASSERT_TRUE(warm->WaitForCount(1));
  int before = ThreadCount();

  std::vector<std::unique_ptr<Reader<v1::Timeline>>> readers;
  for (int i = 0; i < kWatchers; ++i) readers.push_back(WatchTimeline("big"));
  for (auto& r : readers) {
    ASSERT_TRUE(r->WaitForCount(1));
    EXPECT_EQ(r->last().revisions_size(), 1);  // the first message is the current state
  }
  int open = ThreadCount();
  std::printf("threads: %d before, %d with %d more watch streams open\n", before, open, kWatchers);
  EXPECT_LT(open - before, kWatchers / 5) << "watch streams must not hold a thread each";

  Update("big", 0.05);
  for (auto& r : readers) {
    EXPECT_TRUE(r->WaitUntil([](const auto& m) { return HasRevisions(m, 2); }));
  }
  EXPECT_LT(ThreadCount() - before, kWatchers / 5);
  for (auto& r : readers) EXPECT_FALSE(r->Finished(milliseconds(0)));
  // One proto per generation (the first state, the revision), not one per watcher.
  EXPECT_LE(coordinator_->schedule_service().watch_conversions(), 2);
}

TEST_F(WatchStreamTest, WatcherOfOneJobIsNotSentOtherJobsChanges) {
  Launch("a");
  Launch("b");
  auto a = WatchTimeline("a");
  auto b = WatchTimeline("b");
  ASSERT_TRUE(a->WaitForCount(1));
  ASSERT_TRUE(b->WaitForCount(1));
  Update("b", 0.05);
  Update("b", 0.06);
  ASSERT_TRUE(b->WaitUntil([](const auto& m) { return HasRevisions(m, 3); }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(a->count(), 1u);
  EXPECT_EQ(coordinator_->schedules().subscribers("a"), 1u);
  Update("a", 0.07);
  EXPECT_TRUE(a->WaitUntil([](const auto& m) { return HasRevisions(m, 2); }));
}

TEST_F(WatchStreamTest, ManagerListenersOnlyHearTheirJob) {
  Launch("a");
  Launch("b");
  ScheduleManager& s = coordinator_->schedules();
  std::mutex mu;
  std::vector<std::string> heard;
  auto listen = [&](const std::string& job) {
    auto sub = s.Subscribe(job, [&, job](const std::shared_ptr<const TimelineSnapshot>&) {
      std::lock_guard<std::mutex> lock(mu);
      heard.push_back(job);
    });
    EXPECT_TRUE(sub.ok());
    return sub->id;
  };
  int64_t a = listen("a");
  int64_t b = listen("b");
  Update("b", 0.05);
  ASSERT_TRUE(testing::WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !heard.empty();
  }));
  std::this_thread::sleep_for(milliseconds(50));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(heard, std::vector<std::string>{"b"});
  }
  s.Unsubscribe("a", a);
  s.Unsubscribe("b", b);
  EXPECT_EQ(s.subscribers("a"), 0u);
  EXPECT_EQ(s.subscribers("b"), 0u);
  EXPECT_EQ(s.Subscribe("zz", [](const auto&) {}).status().code(), StatusCode::kNotFound);
}

TEST_F(WatchStreamTest, UnknownJobIsNotFound) {
  auto t = WatchTimeline("nope");
  auto j = WatchJob("nope");
  auto ts = t->Finished();
  auto js = j->Finished();
  ASSERT_TRUE(ts && js);
  EXPECT_EQ(ts->error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(js->error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(t->count(), 0u);
}

TEST_F(WatchStreamTest, JobEndEndsStreamsOk) {
  Launch("a");
  auto t = WatchTimeline("a");
  auto j = WatchJob("a");
  ASSERT_TRUE(t->WaitForCount(1));
  ASSERT_TRUE(j->WaitForCount(1));
  EXPECT_EQ(j->last().state(), v1::PENDING);
  Stop("a");
  auto ts = t->Finished();
  auto js = j->Finished();
  ASSERT_TRUE(ts && js);
  EXPECT_TRUE(ts->ok()) << ts->error_message();
  EXPECT_TRUE(js->ok()) << js->error_message();
  EXPECT_EQ(j->last().state(), v1::STOPPED);  // the terminal state is sent before the end
  // A watch of an ended job sends the final state and ends at once.
  auto late = WatchJob("a");
  auto ls = late->Finished();
  ASSERT_TRUE(ls);
  EXPECT_TRUE(ls->ok());
  EXPECT_EQ(late->count(), 1u);
  EXPECT_TRUE(testing::WaitFor([&] { return coordinator_->schedules().subscribers("a") == 0; }));
}

TEST_F(WatchStreamTest, ClientCancelUnsubscribes) {
  Launch("a");
  auto t = WatchTimeline("a");
  ASSERT_TRUE(t->WaitForCount(1));
  EXPECT_EQ(coordinator_->schedules().subscribers("a"), 1u);
  t.reset();  // cancels and waits for OnDone on the client
  EXPECT_TRUE(testing::WaitFor([&] { return coordinator_->schedules().subscribers("a") == 0; }));
  Update("a", 0.05);  // nobody left to notify
}

TEST_F(WatchStreamTest, ShutdownWithOpenStreamsEndsThemUnavailable) {
  Launch("a");
  std::vector<std::unique_ptr<Reader<v1::Timeline>>> timelines;
  std::vector<std::unique_ptr<Reader<v1::Job>>> jobs;
  for (int i = 0; i < 20; ++i) {
    timelines.push_back(WatchTimeline("a"));
    jobs.push_back(WatchJob("a"));
  }
  for (auto& r : timelines) ASSERT_TRUE(r->WaitForCount(1));
  for (auto& r : jobs) ASSERT_TRUE(r->WaitForCount(1));
  auto start = std::chrono::steady_clock::now();
  coordinator_->Shutdown();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, milliseconds(1500)) << "streams must end before the server's deadline";
  for (auto& r : timelines) {
    auto s = r->Finished();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->error_code(), grpc::StatusCode::UNAVAILABLE) << s->error_message();
    EXPECT_EQ(s->error_message(), "coordinator shutting down");
  }
  for (auto& r : jobs) {
    auto s = r->Finished();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->error_code(), grpc::StatusCode::UNAVAILABLE) << s->error_message();
  }
  EXPECT_EQ(coordinator_->schedules().subscribers("a"), 0u);
  coordinator_.reset();
}

}  // namespace
}  // namespace cyclr
