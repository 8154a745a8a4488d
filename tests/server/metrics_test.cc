// Metrics over HTTP: the real Coordinator's /metrics endpoint, fetched with a plain socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cyclr/v1/service.grpc.pb.h"
#include "server/coordinator.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  close(fd);
  return out;
}

// The value of the sample line that starts with `series` ("name{labels}"), or NaN.
double Sample(const std::string& text, const std::string& series) {
  size_t pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return std::nan("");
  return std::stod(text.substr(pos + series.size() + 2));
}

TEST(MetricsTest, ExposesTheScheduleValueAtTheGlobalStep) {
  testing::TempDir dir;
  CoordinatorOptions o = testing::LoopbackOptions(dir);
  o.metrics = "127.0.0.1:0";
  auto c = Coordinator::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_GT((*c)->metrics_port(), 0);

  testing::ServiceStubs stubs = testing::ConnectStubs((*c)->address());
  {
    grpc::ClientContext ctx;
    v1::LaunchJobRequest req;
    *req.mutable_spec() = testing::ValidJobSpec("m", 1);
    v1::Job job;
    ASSERT_TRUE(stubs.jobs->LaunchJob(&ctx, req, &job).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::ReportProgressRequest req;
    req.set_job("m");
    req.set_rank(0);
    v1::StepReport* s = req.add_steps();
    s->set_step(50);
    s->set_loss(0.75);
    s->set_step_seconds(0.02);
    s->set_allreduce_seconds(0.005);
    req.set_blas("openblas-openmp");
    req.set_threads(1);
    v1::ReportProgressResponse resp;
    ASSERT_TRUE(stubs.workers->ReportProgress(&ctx, req, &resp).ok());
  }
  std::string text = HttpGet((*c)->metrics_port(), "/metrics");
  ASSERT_NE(text.find("200 OK"), std::string::npos) << text;
  // Step 50 done: the global step is 51. triangular 0.001..0.1 over 100 steps up.
  double expected = 0.001 + (0.1 - 0.001) * 0.51;
  EXPECT_NEAR(Sample(text, "cyclr_learning_rate{job=\"m\"}"), expected, 1e-9) << text;
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_global_step{job=\"m\"}"), 51);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_loss{job=\"m\",rank=\"0\"}"), 0.75);
  EXPECT_NEAR(Sample(text, "cyclr_cycle_position_ratio{job=\"m\"}"), 0.255, 1e-12);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_schedule_version{job=\"m\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_jobs{state=\"RUNNING\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_job_state{job=\"m\",state=\"RUNNING\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_job_state{job=\"m\",state=\"PENDING\"}"), 0);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_job_world_size{job=\"m\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_rank_step{job=\"m\",rank=\"0\"}"), 50);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_step_duration_seconds_count{job=\"m\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_allreduce_duration_seconds_count{job=\"m\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_rpc_requests_total{code=\"OK\",method=\"LaunchJob\"}"), 1);
  EXPECT_DOUBLE_EQ(Sample(text, "cyclr_schedule_revisions_total{job=\"m\"}"), 0);
  EXPECT_DOUBLE_EQ(
      Sample(text,
             "cyclr_worker_info{blas=\"openblas-openmp\",job=\"m\",rank=\"0\",threads=\"1\"}"),
      1)
      << text;
  {  // The rank comes back on another BLAS: one series per rank, the new one.
    grpc::ClientContext ctx;
    v1::ReportProgressRequest req;
    req.set_job("m");
    req.set_rank(0);
    req.set_blas("reference");
    req.set_threads(2);
    v1::ReportProgressResponse resp;
    ASSERT_TRUE(stubs.workers->ReportProgress(&ctx, req, &resp).ok());
  }
  text = HttpGet((*c)->metrics_port(), "/metrics");
  EXPECT_EQ(text.find("blas=\"openblas-openmp\""), std::string::npos) << text;
  EXPECT_DOUBLE_EQ(
      Sample(text, "cyclr_worker_info{blas=\"reference\",job=\"m\",rank=\"0\",threads=\"2\"}"), 1)
      << text;
  // Never a step or free text as a label.
  EXPECT_EQ(text.find("step=\""), std::string::npos);
}

}  // namespace
}  // namespace cyclr
