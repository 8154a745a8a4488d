// SPEC flags and spec files -> ScheduleSpec, through core's one parser and validator.
#include "client/spec_flags.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cyclr::client {
namespace {

using testing::Parse;
using testing::TempDir;

StatusOr<ScheduleSpec> ResolveArgs(std::vector<std::string> args, const OptionMap& base = {}) {
  CLI::App app;
  SpecFlags flags;
  flags.AddTo(&app);
  Parse(&app, std::move(args));
  return flags.Resolve(base);
}

TEST(SpecFlagsTest, CyclicFlags) {
  auto spec = ResolveArgs({"--policy", "exp_range", "--base-lr", "0.001", "--max-lr", "0.1",
                           "--step-size-up", "200", "--step-size-down", "300", "--gamma",
                           "0.9995", "--scale-mode", "iterations", "--base-momentum", "0.85",
                           "--max-momentum", "0.95", "--warmup-steps", "50"});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->policy, Policy::kExpRange);
  EXPECT_EQ(spec->base_lr, 0.001);
  EXPECT_EQ(spec->max_lr, 0.1);
  EXPECT_EQ(spec->step_size_up, 200);
  EXPECT_EQ(spec->step_size_down, 300);
  EXPECT_EQ(spec->gamma, 0.9995);
  EXPECT_EQ(spec->scale_mode, ScaleMode::kIterations);
  EXPECT_EQ(spec->base_momentum, 0.85);
  EXPECT_EQ(spec->max_momentum, 0.95);
  EXPECT_EQ(spec->warmup_steps, 50);
}

TEST(SpecFlagsTest, OneCycleFlags) {
  auto spec = ResolveArgs({"--policy", "one-cycle", "--max-lr", "0.2", "--total-steps", "1000",
                           "--pct-start", "0.25", "--anneal", "linear", "--div-factor", "20",
                           "--final-div-factor", "1000", "--three-phase"});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->policy, Policy::kOneCycle);
  EXPECT_EQ(spec->max_lr, 0.2);
  EXPECT_EQ(spec->total_steps, 1000);
  EXPECT_EQ(spec->pct_start, 0.25);
  EXPECT_EQ(spec->anneal, Anneal::kLinear);
  EXPECT_EQ(spec->div_factor, 20.0);
  EXPECT_EQ(spec->final_div_factor, 1000.0);
  EXPECT_EQ(spec->three_phase, true);
}

TEST(SpecFlagsTest, BooleanFlagTakesAnExplicitValue) {
  auto spec = ResolveArgs({"--policy", "one-cycle", "--max-lr", "0.2", "--total-steps", "10",
                           "--three-phase=false"});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->three_phase, false);
}

TEST(SpecFlagsTest, CosineRestartsAndSineFlags) {
  auto cos = ResolveArgs({"--policy", "cosine-restarts", "--base-lr", "0.001", "--max-lr", "0.1",
                          "--t0", "100", "--t-mult", "2"});
  ASSERT_TRUE(cos.ok()) << cos.status().message();
  EXPECT_EQ(cos->t0, 100);
  EXPECT_EQ(cos->t_mult, 2);
  auto sine = ResolveArgs({"--policy", "sine", "--base-lr", "0.001", "--max-lr", "0.1",
                           "--step-size-up", "50", "--decay", "halve"});
  ASSERT_TRUE(sine.ok()) << sine.status().message();
  EXPECT_EQ(sine->decay, Decay::kHalve);
}

TEST(SpecFlagsTest, InvalidSpecGivesCoresMessage) {
  auto spec = ResolveArgs({"--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.001",
                           "--step-size-up", "10"});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), "max_lr (0.001) must be >= base_lr (0.01)");
}

TEST(SpecFlagsTest, OptionOfAnotherPolicyIsRejected) {
  auto spec = ResolveArgs({"--policy", "triangular", "--base-lr", "0.001", "--max-lr", "0.1",
                           "--step-size-up", "10", "--total-steps", "100"});
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("total_steps"), std::string::npos)
      << spec.status().message();
}

TEST(SpecFlagsTest, NothingGivenIsAnError) {
  auto spec = ResolveArgs({});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "no schedule given: use --policy with its options, or --spec FILE");
}

TEST(SpecFlagsTest, YamlFileWithFlagOverride) {
  TempDir dir;
  std::string file = dir.Write("spec.yaml",
                               "policy: triangular2\nbase_lr: 1e-3\nmax_lr: 0.1\n"
                               "step_size_up: 200\n");
  auto spec = ResolveArgs({"--spec", file, "--max-lr", "0.05"});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->policy, Policy::kTriangular2);
  EXPECT_EQ(spec->base_lr, 0.001);
  EXPECT_EQ(spec->max_lr, 0.05);  // the flag wins
  EXPECT_EQ(spec->step_size_up, 200);
}

TEST(SpecFlagsTest, JsonFile) {
  TempDir dir;
  std::string file = dir.Write("spec.json",
                               R"({"policy": "one-cycle", "max_lr": 0.1, "total_steps": 500,
                                   "three_phase": true})");
  auto spec = ResolveArgs({"--spec", file});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->policy, Policy::kOneCycle);
  EXPECT_EQ(spec->total_steps, 500);
  EXPECT_EQ(spec->three_phase, true);
}

TEST(SpecFlagsTest, BaseMapIsOverriddenByFileAndFlags) {
  TempDir dir;
  std::string file = dir.Write("spec.yaml", "max_lr: 0.2\n");
  OptionMap base{{"policy", "triangular"}, {"base_lr", "0.01"}, {"max_lr", "0.5"},
                 {"step_size_up", "7"}};
  auto spec = ResolveArgs({"--spec", file, "--step-size-up", "9"}, base);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->base_lr, 0.01);
  EXPECT_EQ(spec->max_lr, 0.2);
  EXPECT_EQ(spec->step_size_up, 9);
}

TEST(SpecFlagsTest, UnknownKeyInFileIsRejected) {
  TempDir dir;
  std::string file = dir.Write("spec.yaml", "policy: triangular\nbase_lr: 0.001\nmax_lr: 0.1\n"
                                            "step_size: 100\n");
  auto spec = ResolveArgs({"--spec", file});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message().rfind("option \"step_size\" in " + file + " is unknown", 0), 0u)
      << spec.status().message();
}

TEST(SpecFlagsTest, KebabCaseKeyInFileIsRejected) {
  TempDir dir;
  std::string file = dir.Write("spec.yaml", "policy: triangular\nbase-lr: 0.001\n");
  auto spec = ResolveArgs({"--spec", file});
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("\"base-lr\""), std::string::npos);
}

TEST(SpecFlagsTest, NestedValueEmptyValueAndMissingFile) {
  TempDir dir;
  auto nested = ResolveArgs({"--spec", dir.Write("a.yaml", "policy: [a, b]\n")});
  EXPECT_NE(nested.status().message().find("option \"policy\" in"), std::string::npos);
  auto empty = ResolveArgs({"--spec", dir.Write("b.yaml", "policy: triangular\nbase_lr:\n")});
  EXPECT_NE(empty.status().message().find("\"base_lr\""), std::string::npos);
  EXPECT_NE(empty.status().message().find("has no value"), std::string::npos);
  auto missing = ResolveArgs({"--spec", dir.Path("none.yaml")});
  EXPECT_NE(missing.status().message().find("cannot read '" + dir.Path("none.yaml") + "'"),
            std::string::npos);
  auto syntax = ResolveArgs({"--spec", dir.Write("c.yaml", "policy: [triangular\n")});
  EXPECT_NE(syntax.status().message().find("c.yaml:"), std::string::npos)
      << syntax.status().message();
}

TEST(SpecFlagsTest, UnparsableValueNamesTheOption) {
  auto spec = ResolveArgs({"--policy", "triangular", "--base-lr", "abc", "--max-lr", "0.1"});
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("base_lr"), std::string::npos) << spec.status().message();
}

TEST(SpecFlagsTest, AnyGiven) {
  CLI::App app;
  SpecFlags flags;
  flags.AddTo(&app);
  Parse(&app, {});
  EXPECT_FALSE(flags.AnyGiven());
  CLI::App app2;
  SpecFlags flags2;
  flags2.AddTo(&app2);
  Parse(&app2, {"--gamma", "0.9"});
  EXPECT_TRUE(flags2.AnyGiven());
}

}  // namespace
}  // namespace cyclr::client
