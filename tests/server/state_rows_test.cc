// The state-row decoders on their own: a good row decodes, and every column rule refuses a bad
// one naming the column.
#include "server/state_rows.h"

#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include <limits>

#include "core/limits.h"
#include "proto/proto_convert.h"
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

JobRow GoodRow() {
  JobRow row;
  row.name = "a";
  row.spec = testing::ValidJobSpec("a").SerializeAsString();
  row.state = v1::RUNNING;
  row.global_step = 10;
  row.total_steps = 100;
  v1::Job snap;
  snap.set_epoch(1);
  snap.set_test_accuracy(0.5);
  row.snapshot = snap.SerializeAsString();
  return row;
}

RevisionRow GoodRevision(int64_t version, int64_t effective) {
  Revision r;
  r.version = version;
  r.effective_step = effective;
  r.spec = *FromProto(testing::TriangularSpec());
  RevisionRow row;
  row.version = version;
  row.effective_step = effective;
  row.revision = ToProto(r).SerializeAsString();
  return row;
}

void ExpectBad(const JobRow& row, const std::string& part) {
  StatusOr<v1::Job> job = DecodeJobRow(row);
  ASSERT_FALSE(job.ok()) << part;
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(job.status().message().find(part), std::string::npos) << job.status().message();
}

TEST(StateRowsTest, AGoodJobRowDecodes) {
  StatusOr<v1::Job> job = DecodeJobRow(GoodRow());
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->name(), "a");
  EXPECT_EQ(job->state(), v1::RUNNING);
  EXPECT_EQ(job->global_step(), 10);
  EXPECT_EQ(job->epoch(), 1);
}

// Found by tests/fuzz/state_rows_fuzzer: unknown fields in the snapshot or spec blob (a newer
// version's, or damage) were kept and served with the job, unchecked by any rule.
TEST(StateRowsTest, UnknownFieldsAreNotServed) {
  JobRow row = GoodRow();
  v1::Job snap;
  ASSERT_TRUE(snap.ParseFromString(row.snapshot));
  Unknown(&snap)->AddLengthDelimited(999, std::string(1 << 20, 'x'));
  row.snapshot = snap.SerializeAsString();
  v1::JobSpec spec;
  ASSERT_TRUE(spec.ParseFromString(row.spec));
  Unknown(&spec)->AddVarint(998, 1);
  row.spec = spec.SerializeAsString();
  StatusOr<v1::Job> job = DecodeJobRow(row);
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_TRUE(NoUnknown(*job));
  EXPECT_TRUE(NoUnknown(job->spec()));
  EXPECT_LT(job->ByteSizeLong(), 2048u);
}

// Found by tests/fuzz/state_rows_fuzzer: a stored reason with a surrogate, an overlong form or a
// code point past U+10FFFF passed the UTF-8 check but not protobuf's, so the served job could not
// be parsed by any client; and a reason too long *and* not UTF-8 put its bytes into the
// quarantine reason. Both are refused, and what recovery serves instead parses.
TEST(StateRowsTest, ReasonMustBeUtf8AsProtobufReadsIt) {
  for (const std::string& bad : {std::string("\xed\xa0\x80"), std::string("\xc0\xaf"),
                                 std::string("\xf4\x90\x80\x80"), std::string(6000, '\xff')}) {
    JobRow row = GoodRow();
    row.reason = bad;
    StatusOr<v1::Job> job = DecodeJobRow(row);
    ASSERT_FALSE(job.ok()) << bad.size();
    EXPECT_EQ(job.status().message(), "reason is not valid UTF-8");
    v1::Job served = QuarantinedJob(row, job.status().message());
    v1::Job parsed;
    EXPECT_TRUE(parsed.ParseFromString(served.SerializeAsString()));
  }
  JobRow row = GoodRow();
  row.reason = "r\u00e9sum\u00e9 \U0001F600";
  EXPECT_TRUE(DecodeJobRow(row).ok());
}

TEST(StateRowsTest, EveryJobColumnIsRangeChecked) {
  JobRow r = GoodRow();
  r.global_step = -5;
  ExpectBad(r, "global_step (-5) must be between 0 and 1099511627776");
  r = GoodRow();
  r.global_step = std::numeric_limits<int64_t>::min();
  ExpectBad(r, "global_step (-9223372036854775808)");
  r = GoodRow();
  r.total_steps = limits::kMaxStep + 1;
  ExpectBad(r, "total_steps (1099511627777)");
  r = GoodRow();
  r.state = 99;
  ExpectBad(r, "state (99) must be one of PENDING (1) .. STOPPED (5)");
  r.state = 0;
  ExpectBad(r, "state (0)");
  r = GoodRow();
  r.spec = "\xff\xff garbage";
  ExpectBad(r, "spec is not a serialized cyclr.v1.JobSpec");
  r = GoodRow();
  v1::JobSpec bad = testing::ValidJobSpec("a");
  bad.set_workers(0);
  r.spec = bad.SerializeAsString();
  ExpectBad(r, "spec: workers (0)");
  r = GoodRow();
  r.spec = testing::ValidJobSpec("b").SerializeAsString();
  ExpectBad(r, "spec.name (\"b\") must equal the row's name (\"a\")");
  r = GoodRow();
  r.snapshot = "\x0a\xff";
  ExpectBad(r, "snapshot is not a serialized cyclr.v1.Job");
  r = GoodRow();
  v1::Job snap;
  snap.set_test_accuracy(std::numeric_limits<double>::quiet_NaN());
  r.snapshot = snap.SerializeAsString();
  ExpectBad(r, "snapshot.test_accuracy (nan)");
  r = GoodRow();
  r.reason = "\xc3";
  ExpectBad(r, "reason is not valid UTF-8");
  r = GoodRow();
  r.name = "Not A Name";
  ExpectBad(r, "name (\"Not A Name\") is not a job name");
}

TEST(StateRowsTest, RevisionsDecodeIntoATimeline) {
  std::vector<RevisionRow> rows = {GoodRevision(1, 0), GoodRevision(2, 50)};
  rows[1].applied_step = 53;
  Timeline t;
  ASSERT_TRUE(DecodeTimeline(rows, &t).ok());
  EXPECT_EQ(t.latest_version(), 2);
  EXPECT_EQ(t.StartStep(2), 53);
}

TEST(StateRowsTest, ABadRevisionStopsTheTimelineAndSaysWhere) {
  std::vector<RevisionRow> rows = {GoodRevision(1, 0), GoodRevision(2, 50), GoodRevision(3, 60)};
  rows[1].revision = "\xff\xfe";
  Timeline t;
  Status s = DecodeTimeline(rows, &t);
  EXPECT_EQ(s.message(), "revision 2: revision is not a serialized cyclr.v1.Revision");
  EXPECT_EQ(t.latest_version(), 1);  // the revisions before it are kept

  rows = {GoodRevision(1, 0), GoodRevision(2, 50)};
  rows[1].applied_step = -7;
  EXPECT_NE(DecodeTimeline(rows, &(t = Timeline())).message().find("applied_step (-7)"),
            std::string::npos);
  rows[1].applied_step.reset();
  rows[1].effective_step = 51;  // the column disagrees with the blob
  EXPECT_NE(DecodeTimeline(rows, &(t = Timeline())).message().find("must equal its column (51)"),
            std::string::npos);
  rows = {GoodRevision(2, 0)};  // no revision 1
  EXPECT_NE(DecodeTimeline(rows, &(t = Timeline())).message().find("version (2)"),
            std::string::npos);
  EXPECT_EQ(DecodeTimeline({}, &(t = Timeline())).message(), "the job has no revision");

  v1::Revision p;
  ASSERT_TRUE(p.ParseFromString(GoodRevision(1, 0).revision));
  p.set_phase(static_cast<v1::PhaseMode>(99));
  RevisionRow phase = GoodRevision(1, 0);
  phase.revision = p.SerializeAsString();
  EXPECT_NE(DecodeRevisionRow(phase).status().message().find("phase (99)"), std::string::npos);
}

TEST(StateRowsTest, AQuarantinedJobIsFailedWithItsReasonAndSafeSteps) {
  JobRow r = GoodRow();
  r.global_step = -5;
  r.spec = "garbage";
  v1::Job job = QuarantinedJob(r, "global_step (-5) must be between 0 and 1099511627776");
  EXPECT_EQ(job.name(), "a");
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_EQ(job.reason(),
            "quarantined at recovery: global_step (-5) must be between 0 and 1099511627776");
  EXPECT_EQ(job.global_step(), 0);
  EXPECT_EQ(job.spec().workers(), 0);  // the spec did not parse
}

}  // namespace
}  // namespace cyclr
