// Job files (YAML and JSON) and job flags -> JobSpec.
#include "client/job_file.h"

#include <gtest/gtest.h>

#include "client/cluster_flags.h"
#include "client/option_flags.h"
#include "client/spec_flags.h"
#include "test_util.h"

namespace cyclr::client {
namespace {

using testing::Parse;
using testing::TempDir;

constexpr char kYamlJob[] = R"(name: fmnist-clr
workers: 2
model: cnn
dataset: fashion-mnist
data_dir: /data/fm
train_limit: 6000
test_limit: 1000
epochs: 3
batch_size: 64
optimizer: sgd
momentum: 0.9
weight_decay: 5e-4
nesterov: true
seed: 42
backend: gloo
bucket_mb: 12.5
threads: 1
launcher: local
schedule:
  policy: triangular2
  base_lr: 0.001
  max_lr: 0.1
  step_size_up: 200
)";

StatusOr<v1::JobSpec> FromFile(const std::string& path) {
  CYCLR_ASSIGN_OR_RETURN(JobFile file, LoadJobFile(path));
  CYCLR_ASSIGN_OR_RETURN(ScheduleSpec spec, SpecFromOptions(file.schedule));
  return BuildJobSpec(file.job, spec, {"name"});
}

TEST(JobFileTest, YamlFileSetsEveryField) {
  TempDir dir;
  auto spec = FromFile(dir.Write("job.yaml", kYamlJob));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name(), "fmnist-clr");
  EXPECT_EQ(spec->workers(), 2);
  EXPECT_EQ(spec->model(), "cnn");
  EXPECT_EQ(spec->dataset(), "fashion-mnist");
  EXPECT_EQ(spec->data_dir(), "/data/fm");
  EXPECT_EQ(spec->train_limit(), 6000);
  EXPECT_EQ(spec->test_limit(), 1000);
  EXPECT_EQ(spec->epochs(), 3);
  EXPECT_EQ(spec->batch_size(), 64);
  EXPECT_EQ(spec->optimizer(), "sgd");
  EXPECT_EQ(spec->momentum(), 0.9);
  EXPECT_EQ(spec->weight_decay(), 5e-4);
  EXPECT_TRUE(spec->nesterov());
  EXPECT_EQ(spec->seed(), 42u);
  EXPECT_EQ(spec->backend(), "gloo");
  EXPECT_EQ(spec->bucket_mb(), 12.5);
  EXPECT_EQ(spec->threads(), 1);
  EXPECT_EQ(spec->launcher(), "local");
  EXPECT_EQ(spec->schedule().policy(), "triangular2");
  EXPECT_EQ(spec->schedule().base_lr(), 0.001);
  EXPECT_EQ(spec->schedule().max_lr(), 0.1);
  EXPECT_EQ(spec->schedule().step_size_up(), 200);
  EXPECT_FALSE(spec->schedule().has_gamma());
}

TEST(JobFileTest, JsonFileGivesTheSameSpec) {
  TempDir dir;
  auto yaml = FromFile(dir.Write("job.yaml", kYamlJob));
  auto json = FromFile(dir.Write("job.json", R"({
    "name": "fmnist-clr", "workers": 2, "model": "cnn", "dataset": "fashion-mnist",
    "data_dir": "/data/fm", "train_limit": 6000, "test_limit": 1000, "epochs": 3,
    "batch_size": 64, "optimizer": "sgd", "momentum": 0.9, "weight_decay": 5e-4,
    "nesterov": true, "seed": 42, "backend": "gloo", "bucket_mb": 12.5, "threads": 1,
    "launcher": "local",
    "schedule": {"policy": "triangular2", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 200}
  })"));
  ASSERT_TRUE(yaml.ok() && json.ok()) << json.status().message();
  EXPECT_EQ(yaml->SerializeAsString(), json->SerializeAsString());
}

TEST(JobFileTest, FlagsOverrideTheFile) {
  TempDir dir;
  auto file = LoadJobFile(dir.Write("job.yaml", kYamlJob));
  ASSERT_TRUE(file.ok());
  CLI::App app;
  OptionFlags job_flags(JobOptionNames(), JobBoolOptionNames(), {}, "Job");
  SpecFlags spec_flags;
  job_flags.AddTo(&app);
  spec_flags.AddTo(&app);
  Parse(&app, {"--workers", "4", "--batch-size", "32", "--nesterov=false", "--max-lr", "0.05",
               "--data-dir", "/other"});
  auto schedule = spec_flags.Resolve(file->schedule);
  ASSERT_TRUE(schedule.ok()) << schedule.status().message();
  auto spec = BuildJobSpec(Merge(file->job, job_flags.Given()), *schedule);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->workers(), 4);
  EXPECT_EQ(spec->batch_size(), 32);
  EXPECT_FALSE(spec->nesterov());
  EXPECT_EQ(spec->data_dir(), "/other");
  EXPECT_EQ(spec->epochs(), 3);  // from the file
  EXPECT_EQ(spec->schedule().max_lr(), 0.05);
  EXPECT_EQ(spec->schedule().base_lr(), 0.001);
}

TEST(JobFileTest, NesterovFlagAloneMeansTrue) {
  CLI::App app;
  OptionFlags job_flags(JobOptionNames(), JobBoolOptionNames(), {}, "Job");
  job_flags.AddTo(&app);
  Parse(&app, {"--name", "a", "--nesterov"});
  auto spec = BuildJobSpec(job_flags.Given(), ScheduleSpec{});
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->nesterov());
}

TEST(JobFileTest, UnknownKeysAreRejected) {
  TempDir dir;
  auto top = LoadJobFile(dir.Write("a.yaml", "name: a\nworker: 2\n"));
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message().rfind("option \"worker\" in " + dir.Path("a.yaml") +
                                             " is unknown; expected one of name, workers",
                                         0),
            0u)
      << top.status().message();
  auto nested = LoadJobFile(dir.Write("b.yaml", "name: a\nschedule:\n  policy: sine\n  lr: 1\n"));
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("option \"lr\" in schedule: in"), std::string::npos)
      << nested.status().message();
}

TEST(JobFileTest, ValuesAreParsedByFieldType) {
  struct Case {
    OptionMap job;
    std::string message;
  };
  std::vector<Case> cases = {
      {{{"workers", "two"}}, "workers \"two\" is not an integer"},
      {{{"workers", "3000000000"}}, "workers (3000000000) must be in [1, 64]"},
      {{{"checkpoint_keep", "3000000000"}},
       "checkpoint_keep (3000000000) must be in [0, 2147483647]"},
      {{{"epochs", "1.5"}}, "epochs \"1.5\" is not an integer"},
      {{{"momentum", "high"}}, "momentum \"high\" is not a finite number"},
      {{{"bucket_mb", "inf"}}, "bucket_mb \"inf\" is not a finite number"},
      {{{"nesterov", "yes please"}},
       "nesterov \"yes please\" is not a boolean; expected true, "
       "false, 1 or 0"},
      {{{"seed", "-1"}}, "seed (-1) must be in [0, 9223372036854775807]"},
      {{{"schedule", "x"}},
       "job option \"schedule\" is unknown; expected one of " + JoinNames(JobOptionNames())},
  };
  for (const Case& c : cases) {
    auto spec = BuildJobSpec(c.job, ScheduleSpec{});
    ASSERT_FALSE(spec.ok()) << c.message;
    EXPECT_EQ(spec.status().message(), c.message);
  }
}

TEST(JobFileTest, OptionNamesAreTheJobSpecFieldsButSchedule) {
  const auto& names = JobOptionNames();
  ASSERT_GE(names.size(), 18u);
  EXPECT_EQ(names[0], "name");
  EXPECT_EQ(names[17], "launcher");
  EXPECT_EQ(std::count(names.begin(), names.end(), "schedule"), 0);
  EXPECT_EQ(JobBoolOptionNames().count("nesterov"), 1u);
}

TEST(JobFileTest, RequiredFieldNamesFlagAndFileKey) {
  auto spec = BuildJobSpec({{"workers", "2"}}, ScheduleSpec{}, {"name"});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "name is required: give --name or name: in the job file");
  auto batch = BuildJobSpec({}, ScheduleSpec{}, {"batch_size"});
  EXPECT_EQ(batch.status().message(),
            "batch_size is required: give --batch-size or batch_size: in the job file");
}

TEST(JobFileTest, DuplicateKeysAreRefusedWithTheirLine) {
  TempDir dir;
  const std::string top = dir.Write("top.yaml", "name: a\nepochs: 2\nworkers: 1\nepochs: 9\n");
  EXPECT_EQ(LoadJobFile(top).status().message(), top + ": line 4: duplicate key \"epochs\"");
  const std::string nested = dir.Write(
      "nested.yaml", "name: a\nschedule:\n  policy: constant\n  base_lr: 0.1\n  base_lr: 1\n");
  EXPECT_EQ(LoadJobFile(nested).status().message(), nested + ": line 5: duplicate key \"base_lr\"");
  const std::string json = dir.Write("job.json", "{\"name\": \"a\",\n \"name\": \"b\"}\n");
  EXPECT_EQ(LoadJobFile(json).status().message(), json + ": line 2: duplicate key \"name\"");
  const std::string spec = dir.Write("spec.yaml", "policy: constant\npolicy: sine\n");
  EXPECT_EQ(SpecFlags::LoadSpecFile(spec).status().message(),
            spec + ": line 2: duplicate key \"policy\"");
}

TEST(JobFileTest, FieldsAreRangeChecked) {
  struct Case {
    OptionMap job;
    std::string message;
  };
  const std::string long_name(10240, 'a');
  std::vector<Case> cases = {
      {{{"epochs", "1000000000"}}, "epochs (1000000000) must be in [1, 1000000]"},
      {{{"epochs", "0"}}, "epochs (0) must be in [1, 1000000]"},
      {{{"threads", "2000"}}, "threads (2000) must be in [0, 1024]"},
      {{{"threads", "-1"}}, "threads (-1) must be in [0, 1024]"},
      {{{"batch_size", "-8"}}, "batch_size (-8) must be in [1, 2147483647]"},
      {{{"train_limit", "-1"}}, "train_limit (-1) must be in [0, 9223372036854775807]"},
      {{{"checkpoint_every", "2000000000000"}},
       "checkpoint_every (2000000000000) must be in [0, 1099511627776]"},
      {{{"max_restarts", "-2"}}, "max_restarts (-2) must be in [0, 2147483647]"},
      {{{"momentum", "1"}}, "momentum (1) must be in [0, 1)"},
      {{{"weight_decay", "-0.5"}}, "weight_decay (-0.5) must be >= 0"},
      {{{"bucket_mb", "0"}}, "bucket_mb (0) must be in (0, 1024]"},
      {{{"divergence_factor", "0.5"}},
       "divergence_factor (0.5) must be > 1 (or 0 for the default 10)"},
      {{{"name", "Bad_Name"}}, "name (\"Bad_Name\") must match [a-z0-9][a-z0-9-]{0,62}"},
      {{{"name", long_name}},
       "name (\"" + std::string(80, 'a') +
           "...\" (10240 bytes)) must match [a-z0-9][a-z0-9-]{0,62}"},
      {{{"data_dir", std::string(4097, 'd')}},
       "data_dir (\"" + std::string(80, 'd') + "...\" (4097 bytes)) must be at most 4096 bytes"},
      {{{"model", std::string(2000, 'm')}},
       "model (\"" + std::string(80, 'm') + "...\" (2000 bytes)) must be at most 1024 bytes"},
      {{{"workers", std::string(5000, '1')}},
       "workers \"" + std::string(80, '1') + "...\" (5000 bytes) is not an integer"},
  };
  for (const Case& c : cases) {
    auto spec = BuildJobSpec(c.job, ScheduleSpec{});
    ASSERT_FALSE(spec.ok()) << c.message;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(spec.status().message(), c.message);
  }
  // The bounds themselves are accepted.
  auto edge = BuildJobSpec({{"epochs", "1000000"},
                            {"threads", "1024"},
                            {"workers", "64"},
                            {"name", std::string(63, 'z')}},
                           ScheduleSpec{});
  EXPECT_TRUE(edge.ok()) << edge.status().message();
}

// Found by tests/fuzz/job_file_fuzzer: a path or text that is not UTF-8 made a JobSpec the
// coordinator could not parse (proto3 strings must be UTF-8); it is refused here, naming the field.
TEST(JobFileTest, TextMustBeUtf8) {
  for (const std::string& bad : {std::string("/tmp/\xff"), std::string("a\xc3"),
                                 std::string("\xc0\xaf"), std::string("\xed\xa0\x80")}) {
    auto spec = BuildJobSpec({{"name", "a"}, {"checkpoint_dir", bad}}, ScheduleSpec{});
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_EQ(spec.status().message(),
              "checkpoint_dir (" + std::to_string(bad.size()) + " bytes) must be valid UTF-8");
  }
  TempDir dir;
  // yaml-cpp passes raw bytes through (this is the fuzzer's input, cut down).
  auto file = LoadJobFile(dir.Write("j.yaml", "name: r\nresume_from: /tmp/ckpt-00000\xb0.pt\n"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto spec = BuildJobSpec(file->job, ScheduleSpec{});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "resume_from (19 bytes) must be valid UTF-8");
  auto good = BuildJobSpec({{"name", "a"}, {"data_dir", "/données/\u00e9t\u00e9 \U0001F600"}},
                           ScheduleSpec{});
  EXPECT_TRUE(good.ok()) << good.status().message();
}

TEST(JobFileTest, HugeFileIsRefusedUnread) {
  TempDir dir;
  const std::string path = dir.Write("big.yaml", "name: a\n# " + std::string(2 << 20, 'x') + "\n");
  auto file = LoadJobFile(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            path + ": 2097163 bytes; a job or spec file must be at most 1048576 bytes");
}

TEST(JobFileTest, TopLevelMustBeAMapping) {
  TempDir dir;
  auto list = LoadJobFile(dir.Write("l.yaml", "- a\n- b\n"));
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("must hold a mapping"), std::string::npos);
}

}  // namespace
}  // namespace cyclr::client

namespace cyclr::client {
namespace {

TEST(JobFileTest, SchedulerSectionsSetTheirOptions) {
  TempDir dir;
  auto spec = FromFile(dir.Write("job.yaml", R"(name: on-slurm
workers: 4
launcher: slurm
slurm: {partition: gpu, time: "2:00:00", gpus_per_task: 1, constraint: "h200&ib"}
schedule: {policy: triangular, base_lr: 0.001, max_lr: 0.1, step_size_up: 10}
)"));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->launcher(), "slurm");
  EXPECT_EQ(spec->slurm().partition(), "gpu");
  EXPECT_EQ(spec->slurm().time(), "2:00:00");
  EXPECT_EQ(spec->slurm().gpus_per_task(), 1);
  EXPECT_EQ(spec->slurm().constraint(), "h200&ib");
  EXPECT_FALSE(spec->has_kubernetes());

  auto k8s = FromFile(dir.Write("k.yaml", R"(name: on-k8s
launcher: kubernetes
kubernetes:
  image: ghcr.io/me/cyclr:1
  node_selector: {gpu: h200, zone: a}
  memory: 8Gi
schedule: {policy: triangular, base_lr: 0.001, max_lr: 0.1, step_size_up: 10}
)"));
  ASSERT_TRUE(k8s.ok()) << k8s.status().message();
  EXPECT_EQ(k8s->kubernetes().image(), "ghcr.io/me/cyclr:1");
  EXPECT_EQ(k8s->kubernetes().memory(), "8Gi");
  ASSERT_EQ(k8s->kubernetes().node_selector().size(), 2u);
  EXPECT_EQ(k8s->kubernetes().node_selector().at("gpu"), "h200");
}

TEST(JobFileTest, SchedulerSectionsRefuseUnknownAndNestedValues) {
  TempDir dir;
  auto unknown = FromFile(dir.Write("u.yaml", "name: x\nslurm: {partitions: gpu}\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("option \"partitions\" in slurm: in"),
            std::string::npos)
      << unknown.status().message();
  auto nested = FromFile(dir.Write("n.yaml", "name: x\nslurm: {partition: [a, b]}\n"));
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("must have a single value"), std::string::npos);
  auto bad_type = BuildJobSpec({{"slurm.gpus_per_task", "two"}}, ScheduleSpec{});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("slurm.gpus_per_task \"two\" is not an integer"),
            std::string::npos)
      << bad_type.status().message();
  auto selector = BuildJobSpec({{"kubernetes.node_selector", "gpu"}}, ScheduleSpec{});
  ASSERT_FALSE(selector.ok());
  EXPECT_NE(selector.status().message().find("is not KEY=VALUE"), std::string::npos);
}

TEST(JobFileTest, SchedulerFlagsBecomeTheLauncherAndItsOptions) {
  ClusterFlags flags;
  CLI::App app;
  flags.AddTo(&app);
  Parse(&app, {"--scheduler", "slurm", "--slurm-partition", "gpu", "--slurm-gpus-per-task", "2"});
  auto job = flags.Apply({{"name", "x"}});
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->at("launcher"), "slurm");
  EXPECT_EQ(job->at("slurm.partition"), "gpu");
  EXPECT_EQ(job->at("slurm.gpus_per_task"), "2");
  auto disagree = flags.Apply({{"launcher", "external"}});
  ASSERT_FALSE(disagree.ok());
  EXPECT_EQ(disagree.status().message(),
            "--scheduler slurm and launcher external disagree: give one of them");

  ClusterFlags k8s_flag_only;
  CLI::App app2;
  k8s_flag_only.AddTo(&app2);
  Parse(&app2, {"--k8s-image", "img:1"});
  auto wrong = k8s_flag_only.Apply({});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "--k8s-image is for --scheduler kubernetes (this job's launcher is local)");
}

}  // namespace
}  // namespace cyclr::client
