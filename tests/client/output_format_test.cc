// Table / JSON / CSV output of the read commands.
#include "client/output_format.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "client/text_table.h"
#include "proto/proto_convert.h"

namespace cyclr::client {
namespace {

v1::Job SampleJob() {
  v1::Job job;
  job.set_name("fmnist-clr");
  job.set_state(v1::RUNNING);
  job.set_global_step(340);
  job.set_total_steps(705);
  job.set_epoch(1);
  job.set_loss(0.41234);
  job.set_lr(0.0042131);
  job.set_momentum(0.88123);
  job.set_schedule_version(2);
  job.mutable_spec()->set_epochs(3);
  job.mutable_spec()->set_workers(2);
  job.mutable_spec()->mutable_schedule()->set_policy("triangular2");
  job.mutable_spec()->mutable_schedule()->set_base_lr(0.001);
  job.mutable_spec()->mutable_schedule()->set_max_lr(0.1);
  job.mutable_spec()->mutable_schedule()->set_step_size_up(200);
  v1::RankStatus* r = job.add_ranks();
  r->set_rank(0);
  r->set_step(341);
  r->set_alive(true);
  return job;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  EXPECT_EQ(start, text.size()) << "output must end with a newline";
  return out;
}

TEST(OutputFormatTest, PreviewCsvRoundTripsValues) {
  std::vector<v1::SchedulePoint> points(3);
  points[0].set_step(0);
  points[0].set_lr(0.1 + 0.2);  // 0.30000000000000004: needs 17 digits
  points[1].set_step(1);
  points[1].set_lr(1e-5);
  points[1].set_momentum(0.85);
  points[2].set_step(2);
  points[2].set_lr(2.0 / 3.0);
  std::string csv = FormatPreview(points, PreviewFormat::kCsv);
  auto lines = Lines(csv);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "step,lr,momentum");
  EXPECT_EQ(lines[1], "0,0.30000000000000004,");
  EXPECT_EQ(lines[2], "1,1.0000000000000001e-05,0.84999999999999998");
  EXPECT_EQ(std::stod(lines[3].substr(2, lines[3].size() - 3)), 2.0 / 3.0);
  EXPECT_EQ(lines[3].back(), ',');
}

TEST(OutputFormatTest, PreviewJsonParsesBack) {
  std::vector<v1::SchedulePoint> points(2);
  points[0].set_lr(0.5);
  points[1].set_step(1);
  points[1].set_lr(0.25);
  points[1].set_momentum(0.9);
  std::string json = FormatPreview(points, PreviewFormat::kJson);
  v1::PreviewScheduleResponse back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok()) << json;
  ASSERT_EQ(back.points_size(), 2);
  EXPECT_EQ(back.points(1).lr(), 0.25);
  EXPECT_FALSE(back.points(0).has_momentum());
  EXPECT_TRUE(back.points(1).has_momentum());
  EXPECT_NE(json.find("\"cycle_position\""), std::string::npos);  // snake_case names
}

TEST(OutputFormatTest, PreviewTableHasOneRowPerPoint) {
  std::vector<v1::SchedulePoint> points(5);
  for (int i = 0; i < 5; ++i) points[i].set_step(i);
  auto lines = Lines(FormatPreview(points, PreviewFormat::kTable));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0].rfind("STEP", 0), 0u);
}

TEST(OutputFormatTest, JobJsonIsTheProtosJson) {
  v1::Job job = SampleJob();
  std::string json = FormatJob(job, OutputFormat::kJson);
  v1::Job back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok()) << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(job, back));
  EXPECT_NE(json.find("\"global_step\""), std::string::npos);
  EXPECT_NE(json.find("\"test_accuracy\": 0"), std::string::npos);  // zero fields printed
  EXPECT_NE(json.find("\"RUNNING\""), std::string::npos);
}

TEST(OutputFormatTest, JobTableShowsProgress) {
  std::string table = FormatJob(SampleJob(), OutputFormat::kTable);
  EXPECT_NE(table.find("state:          RUNNING\n"), std::string::npos) << table;
  EXPECT_NE(table.find("epoch:          2/3\n"), std::string::npos) << table;
  EXPECT_NE(table.find("step:           340/705\n"), std::string::npos) << table;
  EXPECT_NE(table.find("momentum:       0.8812\n"), std::string::npos) << table;
  EXPECT_NE(table.find("test accuracy:  -\n"), std::string::npos) << table;
  EXPECT_NE(table.find("v2 (initial: triangular2 "), std::string::npos) << table;
  EXPECT_NE(table.find("RANK"), std::string::npos) << table;
}

TEST(OutputFormatTest, JobListAlignsColumns) {
  v1::ListJobsResponse list;
  *list.add_jobs() = SampleJob();
  v1::Job other = SampleJob();
  other.set_name("a-much-longer-job-name");
  other.set_state(v1::SUCCEEDED);
  other.set_test_accuracy(0.8712);
  *list.add_jobs() = other;
  auto lines = Lines(FormatJobList(list, OutputFormat::kTable));
  ASSERT_EQ(lines.size(), 3u);
  size_t state_col = lines[0].find("STATE");
  EXPECT_EQ(lines[1].find("RUNNING"), state_col);
  EXPECT_EQ(lines[2].find("SUCCEEDED"), state_col);
  EXPECT_NE(lines[2].find("0.8712"), std::string::npos);
}

TEST(OutputFormatTest, TimelineTable) {
  v1::Timeline timeline;
  v1::Revision* r1 = timeline.add_revisions();
  r1->set_version(1);
  *r1->mutable_spec() = SampleJob().spec().schedule();
  r1->set_applied_step(0);
  v1::Revision* r2 = timeline.add_revisions();
  r2->set_version(2);
  r2->set_effective_step(500);
  r2->set_phase(v1::PHASE_MODE_RESTART);
  r2->set_author("ana");
  r2->set_reason("loss plateau");
  *r2->mutable_spec() = SampleJob().spec().schedule();
  r2->mutable_spec()->set_max_lr(0.05);
  auto lines = Lines(FormatTimeline(timeline, OutputFormat::kTable));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "VERSION  EFFECTIVE  APPLIED  PHASE     AUTHOR  REASON        SPEC");
  EXPECT_EQ(lines[1].rfind("1        0          0        continue  -       -             "
                           "triangular2 ",
                           0),
            0u)
      << lines[1];
  EXPECT_EQ(lines[2].rfind("2        500        -        restart   ana     loss plateau  ", 0),
            0u)
      << lines[2];
  EXPECT_NE(lines[2].find("max_lr=0.05"), std::string::npos);
}

TEST(OutputFormatTest, RevisionJson) {
  v1::Revision r;
  r.set_version(3);
  r.set_effective_step(10);
  std::string json = FormatRevision(r, OutputFormat::kJson);
  EXPECT_NE(json.find("\"version\": \"3\""), std::string::npos) << json;  // int64 as string
}

TEST(OutputFormatTest, ParseFormats) {
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("yaml").status().message(),
            "--output 'yaml' is unknown; expected table or json");
  EXPECT_EQ(*ParsePreviewFormat("csv"), PreviewFormat::kCsv);
  EXPECT_EQ(ParsePreviewFormat("tsv").status().message(),
            "--format 'tsv' is unknown; expected csv, table or json");
}

TEST(OutputFormatTest, InvalidSpecFallsBackToRawFields) {
  v1::ScheduleSpec bad;
  bad.set_policy("wobble");
  EXPECT_NE(SpecText(bad).find("wobble"), std::string::npos);
}

TEST(TextTableTest, TrimsTrailingSpaces) {
  TextTable t({"A", "LONGER"});
  t.AddRow({"xyz", ""});
  EXPECT_EQ(t.Render(), "A    LONGER\nxyz\n");
}

}  // namespace
}  // namespace cyclr::client
