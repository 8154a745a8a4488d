// SlurmLauncher and its script and parsers, against fake Slurm commands: shell scripts in a temp
// folder (Options::bin_dir) that record their arguments and answer from a state file the test
// rewrites. The real Slurm run is tests/deploy/slurm_test.py.
#include "server/slurm_launcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "server/command_runner.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using testing::TempDir;
using testing::WaitFor;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Write(const std::string& path, const std::string& text, int mode = 0644) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

// Fake sbatch/scontrol/sacct/scancel. scontrol answers the line in `state`; scancel writes a
// CANCELLED state; sbatch prints `sbatch_out` (or fails with `sbatch_err`).
class FakeSlurm {
 public:
  explicit FakeSlurm(const TempDir& dir) : bin_(dir.File("bin")) {
    std::filesystem::create_directories(bin_);
    const std::string calls = dir.File("calls");
    const std::string log = "echo \"$(basename \"$0\") $*\" >> " + calls + "\n";
    Write(bin_ + "/sbatch",
          "#!/bin/sh\n" + log + "if [ -s " + bin_ + "/sbatch_err ]; then cat " + bin_ +
              "/sbatch_err >&2; exit 1; fi\ncp \"$3\" " + bin_ + "/script\necho '42;cluster'\n",
          0755);
    Write(
        bin_ + "/scontrol",
        "#!/bin/sh\n" + log + "if [ -s " + bin_ + "/state ]; then cat " + bin_ +
            "/state; else echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1; fi\n",
        0755);
    Write(bin_ + "/sacct", "#!/bin/sh\n" + log + "exit 1\n", 0755);
    Write(bin_ + "/scancel",
          "#!/bin/sh\n" + log + "echo 'JobId=42 JobState=CANCELLED Reason=None ExitCode=0:15 " +
              "NodeList=n1' > " + bin_ + "/state.new && mv " + bin_ + "/state.new " + bin_ +
              "/state\n",
          0755);
    calls_ = calls;
  }
  // Atomically (a rename): a scontrol reading a half-written file would see no job at all.
  void State(const std::string& line) {
    Write(bin_ + "/state.new", line + "\n");
    std::filesystem::rename(bin_ + "/state.new", bin_ + "/state");
  }
  void SbatchFails(const std::string& err) { Write(bin_ + "/sbatch_err", err + "\n"); }
  std::string Calls() const { return Read(calls_); }
  std::string Script() const { return Read(bin_ + "/script"); }
  const std::string& bin() const { return bin_; }

 private:
  std::string bin_, calls_;
};

struct Recorder {
  std::mutex mu;
  std::vector<WorkerExit> exits;
  std::vector<v1::ClusterJob> changes;
  size_t Exits() {
    std::lock_guard<std::mutex> l(mu);
    return exits.size();
  }
  std::vector<std::string> States() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<std::string> out;
    for (const auto& c : changes) out.push_back(c.state() + (c.queued() ? "/queued" : ""));
    return out;
  }
};

class SlurmLauncherTest : public ::testing::Test {
 protected:
  std::unique_ptr<SlurmLauncher> Make(const std::string& bin_dir) {
    SlurmLauncher::Options o;
    o.bin_dir = bin_dir;
    o.worker_binary = "/opt/cyclr/bin/cyclr-worker";
    o.coordinator_address = "10.0.0.1:7070";
    o.work_dir = dir_.File("work");
    o.poll_interval = std::chrono::milliseconds(10);
    return std::make_unique<SlurmLauncher>(
        o,
        [this](const WorkerExit& x) {
          std::lock_guard<std::mutex> l(rec_.mu);
          rec_.exits.push_back(x);
        },
        [this](const std::string&, const v1::ClusterJob& c) {
          std::lock_guard<std::mutex> l(rec_.mu);
          rec_.changes.push_back(c);
        });
  }
  v1::JobSpec Spec() {
    v1::JobSpec s = testing::ValidJobSpec("sj", 2, "slurm");
    s.mutable_slurm()->set_partition("gpu");
    s.mutable_slurm()->set_time("1:00:00");
    s.mutable_slurm()->set_gpus_per_task(1);
    return s;
  }
  TempDir dir_;
  Recorder rec_;
};

TEST_F(SlurmLauncherTest, SubmitsFollowsAndReportsACompletedAllocation) {
  FakeSlurm slurm(dir_);
  slurm.State(
      "JobId=42 JobName=cyclr-sj JobState=PENDING Reason=Resources ExitCode=0:0 "
      "NodeList=(null)");
  auto launcher = Make(slurm.bin());
  ASSERT_TRUE(launcher->Launch(Spec(), "secret-token").ok());
  ASSERT_TRUE(WaitFor([&] { return !rec_.States().empty(); }));
  slurm.State("JobId=42 JobState=RUNNING Reason=None ExitCode=0:0 NodeList=n1");
  ASSERT_TRUE(WaitFor([&] { return rec_.States().size() >= 2; }));
  EXPECT_TRUE(launcher->Adopt("sj", 1, 77).ok());  // followed: no pid adoption needed
  slurm.State("JobId=42 JobState=COMPLETED Reason=None ExitCode=0:0 NodeList=n1");
  ASSERT_TRUE(WaitFor([&] { return rec_.Exits() == 2; }));
  EXPECT_EQ(rec_.States(), (std::vector<std::string>{"PENDING/queued", "RUNNING", "COMPLETED"}));
  for (const WorkerExit& x : rec_.exits) EXPECT_TRUE(x.ok()) << x.Describe();
  EXPECT_EQ(rec_.changes[1].nodes(), "n1");
  EXPECT_EQ(rec_.changes[1].id(), "42");
  EXPECT_EQ(rec_.changes[1].submissions(), 1);
  // sbatch got the script and the output path on its command line; the script holds the
  // options and the worker's command, the credential is a 0600 file and not in the script.
  const std::string calls = slurm.Calls();
  EXPECT_NE(calls.find("sbatch --parsable --output=" + dir_.File("work") + "/jobs/sj/slurm-%j.out"),
            std::string::npos)
      << calls;
  EXPECT_NE(calls.find("scontrol show job -o 42"), std::string::npos);
  const std::string script = slurm.Script();
  for (const char* want :
       {"#SBATCH --ntasks=2", "#SBATCH --partition=gpu", "#SBATCH --time=1:00:00",
        "#SBATCH --gpus-per-task=1", "srun --kill-on-bad-exit=1", "'/opt/cyclr/bin/cyclr-worker'",
        "--coordinator '10.0.0.1:7070'", "--world-size 2"}) {
    EXPECT_NE(script.find(want), std::string::npos) << want << "\n" << script;
  }
  EXPECT_EQ(script.find("secret-token"), std::string::npos);
  const std::string token = dir_.File("work") + "/jobs/sj/worker.token";
  EXPECT_EQ(Read(token), "secret-token\n");
  struct stat st {};
  ASSERT_EQ(stat(token.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The allocation is no longer followed once it ended.
  EXPECT_EQ(launcher->Adopt("sj", 1, 77).code(), StatusCode::kNotFound);
}

TEST_F(SlurmLauncherTest, ATimeoutIsAFailedExitOfEveryRankWithSlurmsWords) {
  FakeSlurm slurm(dir_);
  slurm.State("JobId=42 JobState=RUNNING Reason=None ExitCode=0:0 NodeList=n1");
  auto launcher = Make(slurm.bin());
  ASSERT_TRUE(launcher->Launch(Spec(), "t").ok());
  ASSERT_TRUE(WaitFor([&] { return !rec_.States().empty(); }));
  std::filesystem::create_directories(dir_.File("work") + "/jobs/sj");
  Write(dir_.File("work") + "/jobs/sj/worker-1.log", "epoch 3\nstep 900 loss 0.3\n");
  slurm.State("JobId=42 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15 NodeList=n1");
  ASSERT_TRUE(WaitFor([&] { return rec_.Exits() == 2; }));
  const WorkerExit& x = rec_.exits[1];
  EXPECT_FALSE(x.ok());
  EXPECT_EQ(x.signal, 15);
  EXPECT_NE(x.Describe().find("Slurm job 42 TIMEOUT (TimeLimit)"), std::string::npos)
      << x.Describe();
  EXPECT_NE(x.Describe().find("step 900 loss 0.3"), std::string::npos) << x.Describe();
}

TEST_F(SlurmLauncherTest, NodeFailWithExitCodeZeroIsNotACleanEnd) {
  FakeSlurm slurm(dir_);
  slurm.State("JobId=42 JobState=NODE_FAIL Reason=NodeDown ExitCode=0:0 NodeList=n1");
  auto launcher = Make(slurm.bin());
  ASSERT_TRUE(launcher->Launch(Spec(), "t").ok());
  ASSERT_TRUE(WaitFor([&] { return rec_.Exits() == 2; }));
  EXPECT_FALSE(rec_.exits[0].ok());
}

TEST_F(SlurmLauncherTest, StopCancelsAndTheEndIsReported) {
  FakeSlurm slurm(dir_);
  slurm.State("JobId=42 JobState=RUNNING Reason=None ExitCode=0:0 NodeList=n1");
  auto launcher = Make(slurm.bin());
  ASSERT_TRUE(launcher->Launch(Spec(), "t").ok());
  ASSERT_TRUE(launcher->Stop("sj").ok());
  ASSERT_TRUE(WaitFor([&] { return rec_.Exits() == 2; }));
  EXPECT_NE(slurm.Calls().find("scancel 42"), std::string::npos);
  EXPECT_EQ(rec_.exits[0].signal, 15);
  EXPECT_TRUE(launcher->Stop("sj").ok());  // no longer followed: nothing to do
}

TEST_F(SlurmLauncherTest, SbatchRefusalAndMissingCommandsAreClearErrors) {
  FakeSlurm slurm(dir_);
  slurm.SbatchFails("sbatch: error: invalid partition specified: nosuch");
  auto launcher = Make(slurm.bin());
  Status s = launcher->Launch(Spec(), "t");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("invalid partition specified: nosuch"), std::string::npos)
      << s.ToString();
  auto missing = Make(dir_.File("no-such-bin"));
  s = missing->Launch(Spec(), "t");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("sbatch: not found on PATH"), std::string::npos) << s.ToString();
  EXPECT_EQ(rec_.Exits(), 0u);
}

TEST_F(SlurmLauncherTest, ReattachFollowsTheRecordedAllocation) {
  FakeSlurm slurm(dir_);
  slurm.State("JobId=42 JobState=COMPLETED Reason=None ExitCode=0:0 NodeList=n1");
  auto launcher = Make(slurm.bin());
  v1::Job job;
  job.set_name("sj");
  *job.mutable_spec() = Spec();
  EXPECT_EQ(launcher->Reattach(job).code(), StatusCode::kNotFound);  // no id recorded
  job.mutable_cluster()->set_id("42");
  job.mutable_cluster()->set_submissions(3);
  ASSERT_TRUE(launcher->Reattach(job).ok());
  ASSERT_TRUE(WaitFor([&] { return rec_.Exits() == 2; }));
  EXPECT_EQ(rec_.changes.back().submissions(), 3);
}

TEST(SlurmScriptTest, OptionsAreRangeChecked) {
  auto bad = [](auto set) {
    v1::SlurmOptions o;
    set(&o);
    return CheckSlurmOptions(o);
  };
  EXPECT_TRUE(CheckSlurmOptions(v1::SlurmOptions()).ok());
  Status s = bad([](v1::SlurmOptions* o) { o->set_partition("gpu\n#SBATCH --uid=0"); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("slurm.partition"), std::string::npos) << s.ToString();
  EXPECT_FALSE(bad([](v1::SlurmOptions* o) { o->set_time("1h; rm -rf /"); }).ok());
  EXPECT_FALSE(bad([](v1::SlurmOptions* o) { o->set_account("a b"); }).ok());
  EXPECT_FALSE(bad([](v1::SlurmOptions* o) { o->set_constraint("x'y"); }).ok());
  EXPECT_FALSE(bad([](v1::SlurmOptions* o) { o->set_gpus_per_task(-1); }).ok());
  EXPECT_FALSE(bad([](v1::SlurmOptions* o) { o->set_cpus_per_task(100000); }).ok());
  for (const char* t : {"30", "30:00", "2:00:00", "1-12", "1-12:30", "1-12:30:00", "UNLIMITED"}) {
    EXPECT_TRUE(bad([t](v1::SlurmOptions* o) { o->set_time(t); }).ok()) << t;
  }
  EXPECT_TRUE(bad([](v1::SlurmOptions* o) {
                o->set_partition("gpu,debug");
                o->set_constraint("h200&ib|[a*2]");
              }).ok());
}

TEST(SlurmScriptTest, TheScriptIsValidShellWhateverThePathsHold) {
  TempDir dir;
  v1::JobSpec spec = testing::ValidJobSpec("sj", 3, "slurm");
  SlurmScriptOptions o;
  o.worker_binary = "/opt/it's here/cyclr-worker";
  o.coordinator_address = "h:1";
  o.job_dir = "/shared/a b/$(x)/jobs/sj";
  o.worker_tls.ca = "/ca dir/ca.pem";
  o.token_file = o.job_dir + "/worker.token";
  const std::string script = RenderSlurmScript(spec, o);
  Write(dir.File("s.sh"), script);
  StatusOr<CommandResult> r = RunCommand({"bash", "-n", dir.File("s.sh")});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->Describe("bash -n") << "\n" << script;
  EXPECT_NE(script.find("'/opt/it'\\''s here/cyclr-worker'"), std::string::npos) << script;
  EXPECT_NE(script.find("--tls-ca '/ca dir/ca.pem'"), std::string::npos) << script;
  EXPECT_NE(script.find("export CYCLR_WORKER_TOKEN_FILE='/shared/a b/$(x)/jobs/sj/worker.token'"),
            std::string::npos);
}

TEST(SlurmScriptTest, ParsesScontrolAndSacct) {
  StatusOr<SlurmJobInfo> a = ParseScontrolJob(
      "JobId=7 JobName=cyclr-x UserId=root(0) JobState=FAILED Reason=NonZeroExitCode "
      "Dependency=(null) ExitCode=3:0 RunTime=00:00:05 NodeList=node[1-2] BatchHost=node1\n");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->state, "FAILED");
  EXPECT_EQ(a->reason, "NonZeroExitCode");
  EXPECT_EQ(a->nodes, "node[1-2]");
  EXPECT_EQ(a->exit_code, 3);
  EXPECT_FALSE(ParseScontrolJob("slurm_load_jobs error: Invalid job id").ok());
  StatusOr<SlurmJobInfo> b = ParseSacctJob("CANCELLED by 0|0:15|node1\n");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->state, "CANCELLED");
  EXPECT_EQ(b->signal, 15);
  EXPECT_FALSE(ParseSacctJob("").ok());
  EXPECT_TRUE(SlurmQueued("PENDING"));
  EXPECT_FALSE(SlurmEnded("COMPLETING"));
  EXPECT_TRUE(SlurmEnded("OUT_OF_MEMORY"));
}

}  // namespace
}  // namespace cyclr
