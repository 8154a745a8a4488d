// PathPolicy: which folders a job spec may name (issue 14: a job's checkpoint_dir made root-run
// workers write into root-only folders).
#include "server/path_policy.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/server/test_util.h"

namespace cyclr {
namespace {

namespace fs = std::filesystem;

class PathPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = dir_.File("work");
    fs::create_directories(work_);
    fs::create_directories(dir_.File("elsewhere"));
    fs::create_symlink(dir_.File("elsewhere"), work_ + "/escape");  // a planted link
  }
  Status Check(const std::string& field, const std::string& path) const {
    v1::JobSpec spec;
    spec.GetReflection()->SetString(&spec, v1::JobSpec::descriptor()->FindFieldByName(field),
                                    path);
    return policy_.Check(spec);
  }

  testing::TempDir dir_;
  std::string work_;
  PathPolicy policy_{{dir_.File("work")}, {kDatasetsPrefix}};
};

TEST_F(PathPolicyTest, AllowsTheWorkDirAndDatasetsForReading) {
  EXPECT_TRUE(Check("checkpoint_dir", work_ + "/jobs/a/ckpt").ok());
  EXPECT_TRUE(Check("output_dir", work_).ok());
  EXPECT_TRUE(Check("data_dir", "/usr/share/datasets/fashion-mnist").ok());
  EXPECT_TRUE(Check("model_file", work_ + "/m.pt").ok());
  EXPECT_TRUE(Check("checkpoint_dir", "").ok());  // no checkpoints: nothing to check
}

TEST_F(PathPolicyTest, RefusesEverythingElseNamingTheFieldAndTheFolders) {
  struct Case {
    const char* field;
    std::string path;
  };
  for (const Case& c : {Case{"checkpoint_dir", "/root/.ssh"},
                        Case{"checkpoint_dir", "/usr/share/datasets/x"},  // read-only there
                        Case{"output_dir", work_ + "/../elsewhere"},
                        Case{"checkpoint_dir", work_ + "/escape/ckpt"},  // through the link
                        Case{"resume_from", "/etc/shadow"},
                        Case{"data_dir", work_ + "2"},  // a sibling sharing the prefix's text
                        Case{"model_file", "/nonexistent/m.pt"}}) {
    Status s = Check(c.field, c.path);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << c.field << " " << c.path;
    EXPECT_NE(s.message().find(std::string(c.field) + " ("), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("--allow-path-prefix"), std::string::npos) << s.message();
  }
  Status relative = Check("checkpoint_dir", "ckpt");
  EXPECT_EQ(relative.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(relative.message().find("must be an absolute path"), std::string::npos);
}

TEST_F(PathPolicyTest, SlashAllowsEveryPath) {
  PathPolicy open({"/"}, {});
  v1::JobSpec spec;
  spec.set_checkpoint_dir("/anywhere/at/all");
  EXPECT_TRUE(open.Check(spec).ok());
}

}  // namespace
}  // namespace cyclr
