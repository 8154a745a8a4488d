// The timeline survives serialisation (checkpoints and the coordinator's state store hold it as
// a proto): the same revisions, applied steps and the same value at every step.
#include "proto/proto_convert.h"

#include <gtest/gtest.h>

namespace cyclr {
namespace {

Timeline Sample() {
  auto spec = [](std::map<std::string, std::string> o) {
    auto s = SpecFromOptions(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  };
  std::vector<ScheduleSpec> specs = {
      spec({{"policy", "triangular2"}, {"base_lr", "0.001"}, {"max_lr", "0.1"},
            {"step_size_up", "20"}, {"step_size_down", "30"}, {"base_momentum", "0.8"},
            {"max_momentum", "0.95"}, {"warmup_steps", "5"}}),
      spec({{"policy", "exp_range"}, {"base_lr", "0.0001"}, {"max_lr", "0.01"},
            {"step_size_up", "10"}, {"gamma", "0.999"}, {"scale_mode", "cycle"}}),
      spec({{"policy", "sine"}, {"base_lr", "0.01"}, {"max_lr", "0.3"}, {"step_size_up", "7"},
            {"decay", "exp"}, {"gamma", "0.99"}}),
      spec({{"policy", "one-cycle"}, {"max_lr", "0.5"}, {"total_steps", "300"},
            {"pct_start", "0.25"}, {"anneal", "linear"}, {"three_phase", "true"},
            {"div_factor", "10"}, {"final_div_factor", "100"}}),
      spec({{"policy", "cosine-restarts"}, {"base_lr", "0.001"}, {"max_lr", "0.2"}, {"t0", "10"},
            {"t_mult", "2"}}),
      spec({{"policy", "constant"}, {"base_lr", "0.05"}}),
  };
  Timeline t;
  int64_t step = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    Revision r;
    r.version = static_cast<int64_t>(i) + 1;
    r.effective_step = step;
    r.spec = specs[i];
    r.phase = i % 2 ? PhaseMode::kRestart : PhaseMode::kContinue;
    r.author = "alice";
    r.reason = "revision " + std::to_string(i + 1);
    r.created_unix_ms = 1700000000000 + static_cast<int64_t>(i);
    EXPECT_TRUE(t.Append(r).ok());
    if (i > 0 && i % 2 == 0) {
      EXPECT_TRUE(t.MarkApplied(r.version, step + 3).ok());
    }
    step += 40;
  }
  return t;
}

TEST(ProtoConvertTest, TimelineRoundTripsThroughBytes) {
  Timeline original = Sample();
  std::string bytes;
  ASSERT_TRUE(ToProto(original).SerializeToString(&bytes));
  v1::Timeline parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  StatusOr<Timeline> back = FromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->revisions().size(), original.revisions().size());
  for (size_t i = 0; i < original.revisions().size(); ++i) {
    const Revision& a = original.revisions()[i];
    const Revision& b = back->revisions()[i];
    EXPECT_EQ(a.spec, b.spec) << "revision " << a.version;
    EXPECT_EQ(a.effective_step, b.effective_step);
    EXPECT_EQ(a.applied_step, b.applied_step);
    EXPECT_EQ(a.phase, b.phase);
    EXPECT_EQ(a.author, b.author);
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_EQ(a.created_unix_ms, b.created_unix_ms);
  }
  for (int64_t step = 0; step < 400; ++step) {
    TimelinePoint p = original.At(step), q = back->At(step);
    EXPECT_EQ(p.lr, q.lr) << "step " << step;  // bit-identical
    EXPECT_EQ(p.momentum, q.momentum) << "step " << step;
    EXPECT_EQ(p.version, q.version);
    EXPECT_EQ(p.cycle, q.cycle);
  }
}

TEST(ProtoConvertTest, InvalidSpecOnTheWireNamesTheField) {
  v1::ScheduleSpec p;
  p.set_policy("triangular");
  p.set_base_lr(0.01);
  p.set_max_lr(0.001);
  p.set_step_size_up(10);
  StatusOr<ScheduleSpec> s = FromProto(p);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("max_lr"), std::string::npos) << s.status().message();
  EXPECT_EQ(ToGrpc(s.status()).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  p.set_policy("zigzag");
  EXPECT_NE(FromProto(p).status().message().find("zigzag"), std::string::npos);
}

TEST(ProtoConvertTest, HugeEnumTextIsRefusedWithoutQuotingItWhole) {
  v1::ScheduleSpec p;
  p.set_policy(std::string(10240, 'p'));
  Status s = FromProto(p).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("policy (\"ppp"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("(10240 bytes)) must be at most 64 bytes"), std::string::npos);
  EXPECT_LT(s.message().size(), 200u);
}

TEST(ProtoConvertTest, AnUnknownPhaseIsRefusedNotTakenAsContinue) {
  v1::Revision p;
  p.set_version(1);
  p.mutable_spec()->set_policy("constant");
  p.mutable_spec()->set_base_lr(0.1);
  p.set_phase(v1::PHASE_MODE_RESTART);
  EXPECT_EQ(FromProto(p)->phase, PhaseMode::kRestart);
  p.set_phase(v1::PHASE_MODE_UNSPECIFIED);
  EXPECT_EQ(FromProto(p)->phase, PhaseMode::kContinue);
  p.set_phase(static_cast<v1::PhaseMode>(99));
  Status s = FromProto(p).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("phase (99) must be"), std::string::npos) << s.message();
}

TEST(ProtoConvertTest, StatusCodesMapOneToOne) {
  for (StatusCode c :
       {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kFailedPrecondition,
        StatusCode::kUnauthenticated, StatusCode::kDeadlineExceeded, StatusCode::kUnavailable,
        StatusCode::kResourceExhausted, StatusCode::kCancelled}) {
    Status s(c, "m");
    EXPECT_EQ(FromGrpc(ToGrpc(s)).code(), c);
    EXPECT_EQ(FromGrpc(ToGrpc(s)).message(), "m");
  }
}

}  // namespace
}  // namespace cyclr
