// Timeline: append rules, phase continuity (continue / restart), late application, version
// limits, and the binary search against a linear scan.
#include <random>

#include <gtest/gtest.h>

#include "core/timeline.h"

namespace cyclr {
namespace {

ScheduleSpec Triangular(double base, double max, int64_t up = 10) {
  ScheduleSpec s;
  s.policy = Policy::kTriangular;
  s.base_lr = base;
  s.max_lr = max;
  s.step_size_up = up;
  return s;
}

Revision Rev(int64_t version, int64_t effective, ScheduleSpec spec,
             PhaseMode phase = PhaseMode::kContinue) {
  Revision r;
  r.version = version;
  r.effective_step = effective;
  r.spec = std::move(spec);
  r.phase = phase;
  return r;
}

Schedule Sched(const ScheduleSpec& spec) { return *Schedule::Create(spec); }

TEST(TimelineTest, AppendChecksVersionStepsAndSpec) {
  Timeline t;
  Status s = t.Append(Rev(2, 0, Triangular(0.1, 0.2)));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "version (2) must be the latest version + 1 (1)");
  s = t.Append(Rev(1, 5, Triangular(0.1, 0.2)));
  EXPECT_EQ(s.message(), "effective_step (5) must be 0 for the first revision");
  s = t.Append(Rev(1, 0, Triangular(0.2, 0.1)));
  EXPECT_EQ(s.message(), "max_lr (0.1) must be >= base_lr (0.2)");
  EXPECT_TRUE(t.empty());
  ASSERT_TRUE(t.Append(Rev(1, 0, Triangular(0.1, 0.2))).ok());

  s = t.Append(Rev(2, 10, Triangular(0.1, 0.3)), /*current_step=*/25);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "effective_step (10) must be >= the job's current step (25)");
  s = t.Append(Rev(2, -1, Triangular(0.1, 0.3)));
  EXPECT_EQ(s.message(), "effective_step (-1) must be in [0, 1099511627776]");
  ASSERT_TRUE(t.Append(Rev(2, 30, Triangular(0.1, 0.3)), 25).ok());
  s = t.Append(Rev(3, 29, Triangular(0.1, 0.3)));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "effective_step (29) must be >= the previous revision's effective_step (30)");
  EXPECT_EQ(t.latest_version(), 2);
  EXPECT_EQ(t.revision(2).effective_step, 30);
}

TEST(TimelineTest, ContinueKeepsThePhaseRestartStartsANewCycle) {
  Timeline t;
  ASSERT_TRUE(t.Append(Rev(1, 0, Triangular(0.1, 0.2))).ok());
  ASSERT_TRUE(t.Append(Rev(2, 25, Triangular(0.2, 0.4))).ok());                      // continue
  ASSERT_TRUE(t.Append(Rev(3, 47, Triangular(0.01, 0.02), PhaseMode::kRestart)).ok());
  ASSERT_TRUE(t.Append(Rev(4, 50, Triangular(0.03, 0.05))).ok());                    // continue

  EXPECT_EQ(t.At(24).version, 1);
  EXPECT_EQ(t.At(24).lr, Sched(Triangular(0.1, 0.2)).At(24).lr);
  // Continue: same cycle and position as revision 1 would have had; new bounds.
  TimelinePoint p = t.At(25);
  EXPECT_EQ(p.version, 2);
  EXPECT_EQ(p.cycle, 1);
  EXPECT_EQ(p.cycle_position, Sched(Triangular(0.1, 0.2)).At(25).cycle_position);
  EXPECT_EQ(p.lr, Sched(Triangular(0.2, 0.4)).At(25).lr);
  // Restart: cycle 0, position 0, at the base LR.
  p = t.At(47);
  EXPECT_EQ(p.version, 3);
  EXPECT_EQ(p.cycle, 0);
  EXPECT_EQ(p.cycle_position, 0.0);
  EXPECT_EQ(p.lr, 0.01);
  // Continue after a restart keeps the restart's anchor (47).
  p = t.At(60);
  EXPECT_EQ(p.version, 4);
  EXPECT_EQ(p.lr, Sched(Triangular(0.03, 0.05)).At(60 - 47).lr);
  EXPECT_DOUBLE_EQ(p.cycle_position, 13.0 / 20);
}

TEST(TimelineTest, MarkAppliedShiftsTheStartAndLaterAnchors) {
  Timeline t;
  ASSERT_TRUE(t.Append(Rev(1, 0, Triangular(0.1, 0.2))).ok());
  ASSERT_TRUE(t.Append(Rev(2, 40, Triangular(0.3, 0.4), PhaseMode::kRestart)).ok());
  ASSERT_TRUE(t.Append(Rev(3, 60, Triangular(0.5, 0.6))).ok());
  EXPECT_EQ(t.At(40).version, 2);
  EXPECT_EQ(t.At(65).lr, Sched(Triangular(0.5, 0.6)).At(25).lr);

  ASSERT_TRUE(t.MarkApplied(2, 44).ok());
  EXPECT_EQ(t.StartStep(2), 44);
  EXPECT_EQ(t.At(43).version, 1);
  EXPECT_EQ(t.At(44).version, 2);
  EXPECT_EQ(t.At(44).cycle_position, 0.0);  // the restart moved with the start
  EXPECT_EQ(t.At(65).lr, Sched(Triangular(0.5, 0.6)).At(21).lr);  // anchor 44 now

  // Idempotent for the same step; a different step is refused and changes nothing.
  EXPECT_TRUE(t.MarkApplied(2, 44).ok());
  Status s = t.MarkApplied(2, 50);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "revision 2 was already applied at step 44; cannot record step 50");
  EXPECT_EQ(t.StartStep(2), 44);
  EXPECT_EQ(*t.revision(2).applied_step, 44);

  // Applied before its effective step: recorded, but the effective step still rules.
  ASSERT_TRUE(t.MarkApplied(3, 55).ok());
  EXPECT_EQ(*t.revision(3).applied_step, 55);
  EXPECT_EQ(t.StartStep(3), 60);

  EXPECT_EQ(t.MarkApplied(4, 70).code(), StatusCode::kNotFound);
  EXPECT_EQ(t.MarkApplied(0, 70).code(), StatusCode::kNotFound);
  EXPECT_EQ(t.MarkApplied(1, -1).message(), "step (-1) must be in [0, 1099511627776]");
  EXPECT_EQ(t.MarkApplied(1, kMaxSteps + 1).code(), StatusCode::kInvalidArgument);
}

TEST(TimelineTest, ALateRevisionIsOvertakenByTheNextOne) {
  Timeline t;
  ASSERT_TRUE(t.Append(Rev(1, 0, Triangular(0.1, 0.2))).ok());
  ASSERT_TRUE(t.Append(Rev(2, 100, Triangular(0.3, 0.4))).ok());
  ASSERT_TRUE(t.Append(Rev(3, 120, Triangular(0.5, 0.6)), /*current_step=*/110).ok());
  ASSERT_TRUE(t.MarkApplied(2, 150).ok());
  EXPECT_EQ(t.StartStep(2), 150);
  EXPECT_EQ(t.StartStep(3), 150);  // never before the previous revision
  EXPECT_EQ(t.At(130).version, 1);
  EXPECT_EQ(t.At(150).version, 3);
  EXPECT_EQ(t.At(150, /*max_version=*/2).version, 2);
}

TEST(TimelineTest, ARestoredTimelineReplaysAppliedSteps) {
  Timeline t;
  Revision r1 = Rev(1, 0, Triangular(0.1, 0.2));
  r1.applied_step = 3;  // ignored for the first revision: it is in force from step 0
  Revision r2 = Rev(2, 100, Triangular(0.3, 0.4));
  r2.applied_step = 150;
  Revision r3 = Rev(3, 120, Triangular(0.5, 0.6), PhaseMode::kRestart);
  r3.applied_step = 150;
  ASSERT_TRUE(t.Append(r1).ok());
  ASSERT_TRUE(t.Append(r2).ok());
  ASSERT_TRUE(t.Append(r3).ok());
  EXPECT_EQ(t.At(0).version, 1);
  EXPECT_EQ(t.At(149).version, 1);
  EXPECT_EQ(t.At(150).version, 3);
  EXPECT_EQ(t.At(150).cycle_position, 0.0);
}

TEST(TimelineTest, MaxVersionLimitsTheRevisionsUsed) {
  Timeline t;
  ASSERT_TRUE(t.Append(Rev(1, 0, Triangular(0.1, 0.2))).ok());
  ASSERT_TRUE(t.Append(Rev(2, 10, Triangular(0.3, 0.4))).ok());
  ASSERT_TRUE(t.Append(Rev(3, 20, Triangular(0.5, 0.6))).ok());
  EXPECT_EQ(t.At(25).version, 3);
  EXPECT_EQ(t.At(25, 3).version, 3);
  EXPECT_EQ(t.At(25, 99).version, 3);
  EXPECT_EQ(t.At(25, 2).version, 2);
  EXPECT_EQ(t.At(25, 2).lr, Sched(Triangular(0.3, 0.4)).At(25).lr);
  EXPECT_EQ(t.At(25, 1).version, 1);
  EXPECT_EQ(t.At(5, 3).version, 1);
}

TEST(TimelineTest, PhaseModeNames) {
  EXPECT_STREQ(PhaseModeName(PhaseMode::kRestart), "restart");
  EXPECT_EQ(*ParsePhaseMode("continue"), PhaseMode::kContinue);
  EXPECT_EQ(ParsePhaseMode("reset").status().message(),
            "phase 'reset' is unknown; expected one of continue, restart");
}

// The binary search agrees with a linear scan over 1,000 random revisions.
TEST(TimelineTest, LookupMatchesALinearScan) {
  std::mt19937_64 rng(42);
  Timeline t;
  int64_t effective = 0;
  for (int v = 1; v <= 1000; ++v) {
    PhaseMode phase = rng() % 2 ? PhaseMode::kRestart : PhaseMode::kContinue;
    double base = 0.001 * static_cast<double>(1 + rng() % 100);
    ASSERT_TRUE(t.Append(Rev(v, effective, Triangular(base, base * 2, 1 + rng() % 50), phase)).ok());
    if (rng() % 3 == 0) {
      ASSERT_TRUE(t.MarkApplied(v, effective + static_cast<int64_t>(rng() % 40)).ok());
    }
    effective += static_cast<int64_t>(rng() % 30);
  }
  for (int i = 0; i < 5000; ++i) {
    int64_t step = static_cast<int64_t>(rng() % static_cast<uint64_t>(effective + 100));
    int64_t max_version = 1 + static_cast<int64_t>(rng() % 1000);
    // Linear scan: the last revision <= max_version whose start is <= step; anchors by the rules.
    size_t in_force = 0;
    int64_t anchor = 0, anchor_in_force = 0;
    for (int64_t v = 1; v <= max_version; ++v) {
      if (t.revision(v).phase == PhaseMode::kRestart) anchor = t.StartStep(v);
      if (t.StartStep(v) <= step) {
        in_force = static_cast<size_t>(v);
        anchor_in_force = anchor;
      }
    }
    TimelinePoint p = t.At(step, max_version);
    ASSERT_EQ(p.version, static_cast<int64_t>(in_force)) << step;
    ASSERT_EQ(p.lr, Sched(t.revision(p.version).spec).At(step - anchor_in_force).lr);
  }
}

}  // namespace
}  // namespace cyclr
