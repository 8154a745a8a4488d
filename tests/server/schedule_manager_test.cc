// ScheduleManager with a real StateStore: updates, validation, past steps, revert, applied
// steps, durability and watcher notification.
#include "server/schedule_manager.h"

#include <gtest/gtest.h>

#include "proto/proto_convert.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

class ScheduleManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = StateStore::Open(dir_.File("state.db"));
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    Revision first;
    first.version = 1;
    first.spec = *FromProto(testing::TriangularSpec(0.1));
    v1::Job job;
    job.set_name("job");
    *job.mutable_spec() = testing::ValidJobSpec("job");
    ASSERT_TRUE(store_->CreateJob(job, first).ok());
    Timeline t;
    ASSERT_TRUE(t.Append(first).ok());
    manager_ = std::make_unique<ScheduleManager>(store_.get());
    manager_->AddJob("job", t, 0, false);
  }
  ScheduleUpdate Update(double max_lr, std::optional<int64_t> effective = std::nullopt) {
    ScheduleUpdate u;
    u.job = "job";
    u.spec = *FromProto(testing::TriangularSpec(max_lr));
    u.effective_step = effective;
    u.author = "bob";
    return u;
  }

  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ScheduleManager> manager_;
};

TEST_F(ScheduleManagerTest, UpdateAppendsAndIsDurable) {
  manager_->SetCurrentStep("job", 30);
  auto rev = manager_->Update(Update(0.05));
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_EQ(rev->version, 2);
  EXPECT_EQ(rev->effective_step, 30);  // default: the job's current step
  auto point = manager_->PointAt("job", 100);
  ASSERT_TRUE(point.ok());
  EXPECT_EQ(point->version, 2);
  EXPECT_NEAR(point->lr, 0.05, 1e-12);  // continue phase: step 100 of the cycle is the peak
  // Durable: a fresh store on the same file sees it.
  auto reopened = StateStore::Open(dir_.File("state.db"));
  ASSERT_TRUE(reopened.ok());
  auto revs = (*reopened)->LoadRevisions("job");
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->size(), 2u);
  EXPECT_EQ((*revs)[1].author, "bob");
  EXPECT_DOUBLE_EQ(*(*revs)[1].spec.max_lr, 0.05);
}

TEST_F(ScheduleManagerTest, PastEffectiveStepIsFailedPreconditionAndChangesNothing) {
  manager_->SetCurrentStep("job", 25);
  auto rev = manager_->Update(Update(0.05, 10));
  ASSERT_FALSE(rev.ok());
  EXPECT_EQ(rev.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(rev.status().message().find("effective_step (10)"), std::string::npos);
  EXPECT_NE(rev.status().message().find("(25)"), std::string::npos);
  EXPECT_EQ(manager_->Snapshot("job")->timeline.latest_version(), 1);
  EXPECT_EQ(store_->LoadRevisions("job")->size(), 1u);
}

TEST_F(ScheduleManagerTest, InvalidSpecIsInvalidArgumentNamingTheField) {
  ScheduleUpdate u = Update(0.1);
  u.spec->max_lr = 0.0001;  // below base_lr
  auto rev = manager_->Update(u);
  ASSERT_FALSE(rev.ok());
  EXPECT_EQ(rev.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rev.status().message().find("max_lr"), std::string::npos) << rev.status().message();
  EXPECT_EQ(manager_->Snapshot("job")->timeline.latest_version(), 1);
  EXPECT_EQ(store_->LoadRevisions("job")->size(), 1u);

  ScheduleUpdate none;
  none.job = "job";
  EXPECT_EQ(manager_->Update(none).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ScheduleManagerTest, UnknownAndEndedJobs) {
  ScheduleUpdate u = Update(0.1);
  u.job = "ghost";
  EXPECT_EQ(manager_->Update(u).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(manager_->Snapshot("ghost").status().code(), StatusCode::kNotFound);
  manager_->EndJob("job");
  auto rev = manager_->Update(Update(0.2));
  EXPECT_EQ(rev.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ScheduleManagerTest, RevertAppendsTheOldSpecAgain) {
  ASSERT_TRUE(manager_->Update(Update(0.05, 10)).ok());
  ScheduleUpdate revert;
  revert.job = "job";
  revert.revert_to = 1;
  revert.effective_step = 20;
  auto rev = manager_->Update(revert);
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_EQ(rev->version, 3);
  EXPECT_DOUBLE_EQ(*rev->spec.max_lr, 0.1);
  EXPECT_EQ(rev->reason, "revert to revision 1");
  revert.revert_to = 9;
  auto bad = manager_->Update(revert);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("revert_to (9)"), std::string::npos);
}

TEST_F(ScheduleManagerTest, MarkAppliedIsPersistedAndIdempotent) {
  ASSERT_TRUE(manager_->Update(Update(0.05, 10)).ok());
  int64_t gen = manager_->Snapshot("job")->generation;
  ASSERT_TRUE(manager_->MarkApplied("job", 2, 12).ok());
  auto snap = manager_->Snapshot("job");
  EXPECT_EQ(snap->timeline.revision(2).applied_step, 12);
  EXPECT_GT(snap->generation, gen);
  ASSERT_TRUE(manager_->MarkApplied("job", 2, 12).ok());
  EXPECT_EQ(manager_->Snapshot("job")->generation, snap->generation);  // no change, no event
  EXPECT_EQ((*store_->LoadRevisions("job"))[1].applied_step, 12);
  EXPECT_EQ(manager_->MarkApplied("job", 5, 12).code(), StatusCode::kInvalidArgument);
}

TEST_F(ScheduleManagerTest, SubscribersHearUpdateAndEnd) {
  testing::SnapshotRecorder<TimelineSnapshot> seen;
  auto sub = manager_->Subscribe("job", seen.Listener());
  ASSERT_TRUE(sub.ok());
  const int64_t gen = sub->current->generation;
  auto any = [](const TimelineSnapshot&) { return true; };
  EXPECT_EQ(seen.WaitFor(any, milliseconds(20)), nullptr) << "nothing changed, nothing delivered";

  ASSERT_TRUE(manager_->Update(Update(0.07, 5)).ok());
  auto changed = seen.WaitFor([&](const TimelineSnapshot& s) { return s.generation > gen; },
                              milliseconds(5000));
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->timeline.latest_version(), 2);

  manager_->EndJob("job");
  EXPECT_NE(seen.WaitFor([](const TimelineSnapshot& s) { return s.ended; }, milliseconds(5000)),
            nullptr);
  manager_->Unsubscribe("job", sub->id);
  EXPECT_EQ(manager_->subscribers("job"), 0u);
}

TEST_F(ScheduleManagerTest, PreviewChecksItsRange) {
  auto points = manager_->PreviewJob("job", 0, 201);
  ASSERT_TRUE(points.ok());
  EXPECT_NEAR((*points)[0].lr, 0.001, 1e-12);
  EXPECT_NEAR((*points)[100].lr, 0.1, 1e-12);
  EXPECT_EQ(manager_->PreviewJob("job", -1, 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->PreviewJob("job", 0, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cyclr
