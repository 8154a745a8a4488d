// CheckRequest: one row per rule of every request type (request_limits.h), each refused with
// INVALID_ARGUMENT naming the field; the edge values themselves are accepted; a huge value is
// echoed cut.
#include "server/request_limits.h"

#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/limits.h"
#include "server/job_spec_rules.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

// Proto3 messages keep unknown fields but have no accessor for them: through reflection.
google::protobuf::UnknownFieldSet* Unknown(google::protobuf::Message* m) {
  return m->GetReflection()->MutableUnknownFields(m);
}
bool NoUnknown(const google::protobuf::Message& m) {
  return m.GetReflection()->GetUnknownFields(m).empty();
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

void ExpectRefused(const Status& s, const std::string& part) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << part << ": " << s.ToString();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
  EXPECT_LT(s.message().size(), 400u) << "a reply must not echo a value whole";
}

v1::ReportProgressRequest GoodReport() {
  v1::ReportProgressRequest r;
  r.set_job("a");
  r.set_rank(0);
  v1::StepReport* s = r.add_steps();
  s->set_step(10);
  s->set_loss(1.5);
  s->set_lr(0.1);
  s->set_samples_per_second(100);
  v1::EpochReport* e = r.add_epochs();
  e->set_epoch(0);
  e->set_step(11);
  e->set_test_accuracy(0.5);
  e->set_test_loss(0.7);
  v1::AppliedRevision* a = r.add_applied();
  a->set_version(1);
  a->set_step(0);
  return r;
}

struct ReportRule {
  const char* name;
  std::function<void(v1::ReportProgressRequest*)> mutate;
  const char* message;
};

class ReportRulesTest : public ::testing::TestWithParam<ReportRule> {};

TEST_P(ReportRulesTest, RefusedNamingTheField) {
  v1::ReportProgressRequest r = GoodReport();
  ASSERT_TRUE(CheckRequest(r).ok()) << CheckRequest(r).ToString();
  GetParam().mutate(&r);
  ExpectRefused(CheckRequest(r), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    AllRules, ReportRulesTest,
    ::testing::Values(
        ReportRule{"step_max", [](auto* r) { r->mutable_steps(0)->set_step(kInt64Max); },
                   "steps[0].step (9223372036854775807) must be between 0 and 1099511627775"},
        ReportRule{"step_neg", [](auto* r) { r->mutable_steps(0)->set_step(-1); },
                   "steps[0].step (-1)"},
        ReportRule{"step_edge", [](auto* r) { r->mutable_steps(0)->set_step(limits::kMaxStep); },
                   "steps[0].step (1099511627776)"},
        ReportRule{"epoch", [](auto* r) { r->mutable_steps(0)->set_epoch(-3); },
                   "steps[0].epoch (-3)"},
        ReportRule{"lr", [](auto* r) { r->mutable_steps(0)->set_lr(kNaN); },
                   "steps[0].lr (nan) must be a finite number"},
        ReportRule{"sps", [](auto* r) { r->mutable_steps(0)->set_samples_per_second(-1); },
                   "steps[0].samples_per_second (-1) must be >= 0"},
        ReportRule{"step_seconds", [](auto* r) { r->mutable_steps(0)->set_step_seconds(kInf); },
                   "steps[0].step_seconds (inf)"},
        ReportRule{"version", [](auto* r) { r->mutable_steps(0)->set_schedule_version(-1); },
                   "steps[0].schedule_version (-1)"},
        ReportRule{"accuracy_nan", [](auto* r) { r->mutable_epochs(0)->set_test_accuracy(kNaN); },
                   "epochs[0].test_accuracy (nan) must be a finite number"},
        ReportRule{"accuracy_range", [](auto* r) { r->mutable_epochs(0)->set_test_accuracy(1.5); },
                   "epochs[0].test_accuracy (1.5) must be in [0, 1]"},
        ReportRule{"test_loss", [](auto* r) { r->mutable_epochs(0)->set_test_loss(kInf); },
                   "epochs[0].test_loss (inf)"},
        ReportRule{"epoch_step", [](auto* r) { r->mutable_epochs(0)->set_step(-1); },
                   "epochs[0].step (-1)"},
        ReportRule{"applied_version", [](auto* r) { r->mutable_applied(0)->set_version(0); },
                   "applied[0].version (0) must be between 1 and 1000"},
        ReportRule{"applied_step", [](auto* r) { r->mutable_applied(0)->set_step(kInt64Max); },
                   "applied[0].step (9223372036854775807)"},
        ReportRule{"rank", [](auto* r) { r->set_rank(-1); }, "rank (-1) must be between 0 and 63"},
        ReportRule{"blas", [](auto* r) { r->set_blas("evil\"} 1\nx{"); },
                   "blas \"evil\"} 1?x{\" must be one of openblas-openmp"},
        ReportRule{"threads", [](auto* r) { r->set_threads(1025); },
                   "threads (1025) must be between 0 and 1024"},
        ReportRule{"total_steps", [](auto* r) { r->set_total_steps(-5); }, "total_steps (-5)"},
        ReportRule{"error",
                   [](auto* r) { r->set_error(std::string(limits::kMaxErrorBytes + 1, 'e')); },
                   "error (\"eeee"},
        ReportRule{"job", [](auto* r) { r->set_job(std::string(10240, 'a')); },
                   "(10240 bytes)) must be a job name"},
        ReportRule{"too_many_steps",
                   [](auto* r) {
                     for (int i = 0; i < limits::kMaxReportsPerRequest; ++i) r->add_steps();
                   },
                   "steps has 10001 entries; at most 10000 are allowed"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RequestLimitsTest, ADivergingLossAndTheEdgeValuesAreAccepted) {
  v1::ReportProgressRequest r = GoodReport();
  r.mutable_steps(0)->set_loss(kNaN);  // what a diverging worker may send
  r.add_steps()->set_loss(kInf);
  r.mutable_steps(0)->set_step(limits::kMaxStep - 1);
  r.mutable_epochs(0)->set_test_accuracy(1.0);
  r.set_total_steps(limits::kMaxStep);
  r.set_error(std::string(limits::kMaxErrorBytes, 'e'));
  EXPECT_TRUE(CheckRequest(r).ok()) << CheckRequest(r).ToString();
}

TEST(RequestLimitsTest, ScheduleRequests) {
  v1::PreviewScheduleRequest p;
  p.set_start_step(kInt64Max);
  p.set_steps(5);
  ExpectRefused(CheckRequest(p), "start_step (9223372036854775807) must be between 0 and");
  p.set_start_step(limits::kMaxStep);
  EXPECT_TRUE(CheckRequest(p).ok());
  p.set_steps(limits::kMaxPreviewSteps + 1);
  ExpectRefused(CheckRequest(p), "steps (100001) must be between 1 and 100000");
  p.set_steps(1);
  p.set_job("Bad Name");
  ExpectRefused(CheckRequest(p), "job (\"Bad Name\")");

  v1::UpdateScheduleRequest u;
  u.set_job("a");
  EXPECT_TRUE(CheckRequest(u).ok());
  u.set_phase(static_cast<v1::PhaseMode>(99));
  ExpectRefused(CheckRequest(u), "phase (99) must be");
  u.set_phase(v1::PHASE_MODE_RESTART);
  u.set_reason(std::string(3 << 20, 'r'));
  ExpectRefused(CheckRequest(u), "reason (\"rrr");
  EXPECT_NE(CheckRequest(u).message().find("(3145728 bytes)) must be at most 1024 bytes"),
            std::string::npos);
  u.set_reason("");
  u.set_author(std::string(limits::kMaxTextBytes + 1, 'x'));
  ExpectRefused(CheckRequest(u), "author (");
  u.set_author("");
  u.set_effective_step(-1);
  ExpectRefused(CheckRequest(u), "effective_step (-1)");
  u.set_effective_step(limits::kMaxStep);
  u.set_revert_to(0);
  ExpectRefused(CheckRequest(u), "revert_to (0) must be between 1 and 1000");

  v1::GetTimelineRequest g;
  ExpectRefused(CheckRequest(g), "job (\"\") must be a job name");
}

TEST(RequestLimitsTest, JobRequests) {
  v1::LaunchJobRequest l;
  ExpectRefused(CheckRequest(l), "spec is required");
  v1::GetJobRequest g;
  g.set_name(std::string(10240, 'n'));
  ExpectRefused(CheckRequest(g), "name (\"nnn");
  v1::StopJobRequest s;
  s.set_name("a");
  s.set_reason(std::string(1 << 20, 's'));
  ExpectRefused(CheckRequest(s), "reason (");
  s.set_reason(std::string(limits::kMaxTextBytes, 's'));
  EXPECT_TRUE(CheckRequest(s).ok());
}

TEST(RequestLimitsTest, WorkerLogRequests) {
  v1::GetWorkerLogRequest r;
  ExpectRefused(CheckRequest(r), "job (\"\") must be a job name");
  r.set_job("a");
  EXPECT_TRUE(CheckRequest(r).ok());
  r.set_rank(-1);
  ExpectRefused(CheckRequest(r), "rank (-1) must be between 0 and");
  r.set_rank(0);
  r.set_max_bytes(kMaxLogReadBytes + 1);
  ExpectRefused(CheckRequest(r), "max_bytes (1048577) must be between 0 and 1048576");
  r.set_max_bytes(kMaxLogReadBytes);
  r.set_offset(std::numeric_limits<int64_t>::min());  // -offset would overflow
  ExpectRefused(CheckRequest(r), "offset (");
  r.set_offset(-4096);
  EXPECT_TRUE(CheckRequest(r).ok());
}

// Found by tests/fuzz/request_fuzzer: a LaunchJob spec with fields this coordinator does not
// know passed NormalizeJobSpec with them, so they were stored and served back with every
// GetJob/ListJobs (megabytes of them past every size rule). They are dropped.
TEST(RequestLimitsTest, LaunchDropsUnknownFields) {
  v1::LaunchJobRequest l;
  *l.mutable_spec() = testing::ValidJobSpec("a");
  // JobSpec field 999 (a length-delimited blob of 64 KiB) inside field 1 (spec).
  v1::JobSpec extra;
  Unknown(&extra)->AddLengthDelimited(999, std::string(64 << 10, 'x'));
  Unknown(extra.mutable_schedule())->AddVarint(998, 7);
  v1::LaunchJobRequest with_extra;
  *with_extra.mutable_spec() = extra;
  ASSERT_TRUE(l.MergeFromString(with_extra.SerializeAsString()));
  ASSERT_GT(l.spec().ByteSizeLong(), size_t{64 << 10});
  ASSERT_TRUE(CheckRequest(l).ok());
  v1::JobSpec spec = l.spec();
  ASSERT_TRUE(NormalizeJobSpec(&spec).ok());
  EXPECT_TRUE(NoUnknown(spec));
  EXPECT_TRUE(NoUnknown(spec.schedule()));
  EXPECT_LT(spec.ByteSizeLong(), 1024u);
}

TEST(RequestLimitsTest, WorkerRequests) {
  v1::RegisterRequest r;
  r.set_job("a");
  r.set_rank(-1);
  r.set_world_size(2);
  r.set_pid(123);
  EXPECT_TRUE(CheckRequest(r).ok());
  r.set_rank(-2);
  ExpectRefused(CheckRequest(r), "rank (-2) must be between -1 and 63");
  r.set_rank(0);
  r.set_world_size(0);
  ExpectRefused(CheckRequest(r), "world_size (0)");
  r.set_world_size(65);
  ExpectRefused(CheckRequest(r), "world_size (65)");
  r.set_world_size(2);
  r.set_pid(-1);
  ExpectRefused(CheckRequest(r), "pid (-1)");
  r.set_pid(1);
  r.set_host(std::string(limits::kMaxTextBytes + 1, 'h'));
  ExpectRefused(CheckRequest(r), "host (");

  v1::StoreSetRequest set;
  set.set_job("a");
  ExpectRefused(CheckRequest(set), "key must not be empty");
  set.set_key(std::string(limits::kMaxStoreKeyBytes + 1, 'k'));
  ExpectRefused(CheckRequest(set), "key (");
  set.set_key("k");
  set.set_value(std::string(4 << 20, 'v'));
  ExpectRefused(CheckRequest(set), "value (4194304 bytes) must be at most 65536 bytes");

  v1::StoreGetRequest get;
  get.set_job("a");
  ExpectRefused(CheckRequest(get), "keys must not be empty");
  for (int i = 0; i <= limits::kMaxStoreKeysPerGet; ++i) get.add_keys("k");
  ExpectRefused(CheckRequest(get), "keys has 1025 entries");
  get.clear_keys();
  get.add_keys("k");
  get.add_keys("");
  ExpectRefused(CheckRequest(get), "keys[1] must not be empty");
  get.mutable_keys()->RemoveLast();
  get.set_timeout_ms(-1);
  ExpectRefused(CheckRequest(get), "timeout_ms (-1) must be >= 0");
  get.set_timeout_ms(kInt64Max);  // longer than kMaxStoreTimeout is cut, not refused
  EXPECT_TRUE(CheckRequest(get).ok());
}

}  // namespace
}  // namespace cyclr
