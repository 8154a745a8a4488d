// StateStore over a real SQLite file: round trip, recovery after reopening, durability of
// schedule updates, and the errors for duplicates and unknown rows.
#include "server/state_store.h"

#include <gtest/gtest.h>

#include "proto/proto_convert.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using testing::TempDir;

Revision MakeRevision(int64_t version, int64_t effective, double max_lr) {
  Revision r;
  r.version = version;
  r.effective_step = effective;
  r.spec = *FromProto(testing::TriangularSpec(max_lr));
  r.author = "alice";
  r.reason = "test";
  r.created_unix_ms = 1700000000000 + version;
  return r;
}

v1::Job MakeJob(const std::string& name) {
  v1::Job job;
  job.set_name(name);
  *job.mutable_spec() = testing::ValidJobSpec(name);
  job.set_state(v1::PENDING);
  job.set_created_unix_ms(1000);
  job.set_updated_unix_ms(1000);
  return job;
}

TEST(StateStoreTest, RoundTripSurvivesReopen) {
  TempDir dir;
  {
    auto store = StateStore::Open(dir.File("state.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CreateJob(MakeJob("a"), MakeRevision(1, 0, 0.1)).ok());
    ASSERT_TRUE((*store)->CreateJob(MakeJob("b"), MakeRevision(1, 0, 0.2)).ok());
    v1::Job a = MakeJob("a");
    a.set_state(v1::RUNNING);
    a.set_global_step(42);
    a.set_total_steps(500);
    a.set_epoch(3);
    a.set_test_accuracy(0.81);
    a.set_reason("why");
    ASSERT_TRUE((*store)->SaveJob(a).ok());
    ASSERT_TRUE((*store)->AppendRevision("a", MakeRevision(2, 50, 0.05)).ok());
    ASSERT_TRUE((*store)->SetApplied("a", 2, 53).ok());
  }
  auto store = StateStore::Open(dir.File("state.db"));
  ASSERT_TRUE(store.ok());
  auto jobs = (*store)->LoadJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  const v1::Job& a = (*jobs)[0];
  EXPECT_EQ(a.name(), "a");
  EXPECT_EQ(a.state(), v1::RUNNING);
  EXPECT_EQ(a.global_step(), 42);
  EXPECT_EQ(a.total_steps(), 500);
  EXPECT_EQ(a.epoch(), 3);
  EXPECT_DOUBLE_EQ(a.test_accuracy(), 0.81);
  EXPECT_EQ(a.reason(), "why");
  EXPECT_EQ(a.spec().workers(), 2);
  EXPECT_EQ((*jobs)[1].name(), "b");

  auto revs = (*store)->LoadRevisions("a");
  ASSERT_TRUE(revs.ok()) << revs.status().ToString();
  ASSERT_EQ(revs->size(), 2u);
  EXPECT_EQ((*revs)[0].spec, MakeRevision(1, 0, 0.1).spec);
  EXPECT_FALSE((*revs)[0].applied_step.has_value());
  EXPECT_EQ((*revs)[1].effective_step, 50);
  EXPECT_EQ((*revs)[1].applied_step, 53);
  EXPECT_EQ((*revs)[1].author, "alice");
  EXPECT_DOUBLE_EQ(*(*revs)[1].spec.max_lr, 0.05);
}

TEST(StateStoreTest, WorkerPidsAndRestartsSurviveReopen) {
  TempDir dir;
  {
    auto store = StateStore::Open(dir.File("state.db"));
    ASSERT_TRUE(store.ok());
    v1::Job a = MakeJob("a");
    ASSERT_TRUE((*store)->CreateJob(a, MakeRevision(1, 0, 0.1)).ok());
    a.set_restarts(2);
    ASSERT_TRUE((*store)->SaveJob(a).ok());
    ASSERT_TRUE((*store)->SaveWorkerPid("a", 0, 100).ok());
    ASSERT_TRUE((*store)->SaveWorkerPid("a", 1, 101).ok());
    ASSERT_TRUE((*store)->SaveWorkerPid("a", 0, 200).ok());  // rank 0 restarted
  }
  auto store = StateStore::Open(dir.File("state.db"));
  ASSERT_TRUE(store.ok());
  auto pids = (*store)->LoadWorkerPids("a");
  ASSERT_TRUE(pids.ok()) << pids.status().ToString();
  EXPECT_EQ(*pids, (std::map<int, int>{{0, 200}, {1, 101}}));
  EXPECT_TRUE((*store)->LoadWorkerPids("b")->empty());
  EXPECT_EQ((*store)->LoadJobs()->at(0).restarts(), 2);
}

TEST(StateStoreTest, UsesWalAndFullSync) {
  TempDir dir;
  auto store = StateStore::Open(dir.File("state.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateJob(MakeJob("a"), MakeRevision(1, 0, 0.1)).ok());
  // WAL mode leaves a -wal file next to the database while it is open.
  EXPECT_TRUE(std::filesystem::exists(dir.File("state.db-wal")));
}

TEST(StateStoreTest, DuplicatesAndUnknownRowsAreErrors) {
  TempDir dir;
  auto store = StateStore::Open(dir.File("state.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateJob(MakeJob("a"), MakeRevision(1, 0, 0.1)).ok());
  Status dup = (*store)->CreateJob(MakeJob("a"), MakeRevision(1, 0, 0.1));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.message().find("\"a\""), std::string::npos) << dup.message();
  EXPECT_EQ((*store)->AppendRevision("a", MakeRevision(1, 0, 0.3)).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ((*store)->SaveJob(MakeJob("nope")).code(), StatusCode::kNotFound);
  EXPECT_EQ((*store)->SetApplied("a", 7, 1).code(), StatusCode::kNotFound);
  // The failed transactions changed nothing.
  auto revs = (*store)->LoadRevisions("a");
  ASSERT_TRUE(revs.ok());
  ASSERT_EQ(revs->size(), 1u);
  EXPECT_DOUBLE_EQ(*(*revs)[0].spec.max_lr, 0.1);
}

TEST(StateStoreTest, RevisionOfUnknownJobIsRejected) {
  TempDir dir;
  auto store = StateStore::Open(dir.File("state.db"));
  ASSERT_TRUE(store.ok());
  Status s = (*store)->AppendRevision("ghost", MakeRevision(1, 0, 0.1));
  EXPECT_FALSE(s.ok());  // foreign key
  auto jobs = (*store)->LoadJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
}

TEST(StateStoreTest, OpenFailsWithClearErrorForBadPath) {
  auto store = StateStore::Open("/nonexistent-dir/for/sure/state.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/for/sure/state.db"), std::string::npos);
}

}  // namespace
}  // namespace cyclr
