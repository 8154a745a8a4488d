// KubernetesLauncher against a fake kubectl (a shell script that records its calls and answers
// `get pods` from a JSON file the test rewrites between polls), the checks of a job's
// `kubernetes` options, and the rendered manifests against tests/server/testdata/k8s_expected.yaml
// (CYCLR_UPDATE_GOLDEN=1 rewrites it; read the diff before committing it).
#include "server/kubernetes_launcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "server/kubernetes_manifest.h"
#include "tests/server/test_util.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAtomically(const std::string& path, const std::string& text) {
  std::ofstream(path + ".tmp", std::ios::binary) << text;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

v1::JobSpec K8sSpec(const std::string& name = "fmnist") {
  v1::JobSpec s = testing::ValidJobSpec(name, 2, "kubernetes");
  v1::KubernetesOptions* k = s.mutable_kubernetes();
  k->set_namespace_("ml");
  k->set_image("registry.example.com:5000/cyclr/worker:1.2");
  k->set_gpus_per_worker(1);
  (*k->mutable_node_selector())["pool"] = "gpu";
  (*k->mutable_node_selector())["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3";
  k->set_cpu("4");
  k->set_memory("16Gi");
  k->set_service_account("cyclr-worker");
  return s;
}

KubernetesRenderOptions RenderOptions(int submission = 1) {
  KubernetesRenderOptions o;
  o.k8s_namespace = "ml";
  o.image = "registry.example.com:5000/cyclr/worker:1.2";
  o.coordinator_address = "cyclr-coordinator.cyclr.svc:7070";
  o.worker_token = "test-worker-token";
  o.tls_ca_secret = "cyclr-tls";
  o.submission = submission;
  return o;
}

// One pod of the test's job as `kubectl get pods -o json` shows it.
std::string Pod(int rank, const std::string& phase, const std::string& node,
                const std::string& status_extra = "", int submission = 1) {
  std::string r = std::to_string(rank);
  return R"({"metadata": {"name": "cyclr-fmnist-)" + r + R"(-x7k2p", "labels": {
      "cyclr.io/job": "fmnist", "cyclr.io/submission": ")" +
         std::to_string(submission) + R"(", "batch.kubernetes.io/job-completion-index": ")" + r +
         R"("}},
    "spec": {"nodeName": ")" +
         node + R"("},
    "status": {"phase": ")" +
         phase + "\"" + status_extra + "}}";
}

std::string PodList(const std::vector<std::string>& pods) {
  std::string items;
  for (const auto& p : pods) items += (items.empty() ? "" : ",\n") + p;
  return "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [" + items + "]}";
}

const char kUnschedulable[] = R"(, "conditions": [{"type": "PodScheduled", "status": "False",
    "reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."}])";
const char kFailedCode3[] = R"(, "containerStatuses": [{"name": "worker", "state": {"terminated":
    {"exitCode": 3, "reason": "Error", "message": "loading data\nValueError: bad shape\n"}}}])";
const char kPullBackOff[] = R"(, "containerStatuses": [{"name": "worker", "state": {"waiting":
    {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope:1\""}}}])";

class KubernetesLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string script = dir_.File("kubectl");
    std::ofstream(script) << "#!/bin/sh\n"
                          << "d='" << dir_.path() << "'\n"
                          << R"(printf '%s\n' "$*" >> "$d/calls"
case "$1" in
  apply) cat > "$d/applied.yaml"
         if [ -f "$d/apply.err" ]; then cat "$d/apply.err" >&2; exit 1; fi
         echo 'secret/cyclr-fmnist created' ;;
  get) cat "$d/pods.json" ;;
  logs) cat "$d/log.txt" ;;
  delete) echo 'job.batch "cyclr-fmnist" deleted' ;;
esac
)";
    chmod(script.c_str(), 0755);
    SetPods({});
    std::ofstream(dir_.File("log.txt")) << "line1\nline2\nline3\n";
  }
  void TearDown() override { launcher_.reset(); }

  KubernetesLauncher& Make(const std::string& kubectl = "") {
    KubernetesLauncher::Options o;
    o.kubectl = kubectl.empty() ? dir_.File("kubectl") : kubectl;
    o.default_namespace = "cyclr";
    o.coordinator_address = "cyclr-coordinator.cyclr.svc:7070";
    o.tls_ca_secret = "cyclr-tls";
    o.poll_interval = milliseconds(20);
    o.image_pull_polls = 3;
    launcher_ = std::make_unique<KubernetesLauncher>(
        o,
        [this](const WorkerExit& x) {
          std::lock_guard<std::mutex> lock(mu_);
          exits_.push_back(x);
        },
        [this](const std::string& job, const v1::ClusterJob& c) {
          std::lock_guard<std::mutex> lock(mu_);
          EXPECT_EQ(job, "fmnist");
          changes_.push_back(c);
        });
    return *launcher_;
  }
  void SetPods(const std::vector<std::string>& pods) {
    WriteAtomically(dir_.File("pods.json"), PodList(pods));
  }
  // The calls so far, repeated polls folded into one.
  std::vector<std::string> Calls() {
    std::vector<std::string> calls;
    std::istringstream in(ReadAll(dir_.File("calls")));
    for (std::string line; std::getline(in, line);) {
      if (calls.empty() || calls.back() != line) calls.push_back(line);
    }
    return calls;
  }
  bool SawChange(const std::function<bool(const v1::ClusterJob&)>& pred) {
    return testing::WaitFor([&] {
      std::lock_guard<std::mutex> lock(mu_);
      return std::any_of(changes_.begin(), changes_.end(), pred);
    });
  }
  size_t ExitCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return exits_.size();
  }

  testing::TempDir dir_;
  std::unique_ptr<KubernetesLauncher> launcher_;
  std::mutex mu_;
  std::vector<WorkerExit> exits_;        // GUARDED_BY(mu_)
  std::vector<v1::ClusterJob> changes_;  // GUARDED_BY(mu_)
};

const char kGet[] = "get pods -n ml -l cyclr.io/job=fmnist -o json";
const char kApply[] = "apply -n ml -f -";
const char kDelete[] =
    "delete job,service,secret -n ml -l cyclr.io/job=fmnist --ignore-not-found --wait=false";

TEST_F(KubernetesLauncherTest, FollowsPodsFromPendingToTheirExits) {
  KubernetesLauncher& l = Make();
  ASSERT_TRUE(l.Launch(K8sSpec(), "test-worker-token").ok());
  EXPECT_EQ(ReadAll(dir_.File("applied.yaml")),
            RenderKubernetesManifests(K8sSpec(), RenderOptions()));
  ASSERT_TRUE(SawChange([](const auto& c) { return c.queued() && c.state() == "Pending"; }));
  SetPods({Pod(0, "Pending", "", kUnschedulable), Pod(1, "Pending", "", kUnschedulable)});
  ASSERT_TRUE(SawChange([](const auto& c) {
    return c.queued() && c.reason().find("rank 0: Unschedulable: 0/1 nodes") == 0;
  }));
  SetPods({Pod(0, "Running", "n1"), Pod(1, "Running", "n1")});
  ASSERT_TRUE(SawChange([](const auto& c) {
    return !c.queued() && c.state() == "Running" && c.nodes() == "n1" && c.reason().empty();
  }));
  EXPECT_EQ(ExitCount(), 0u);
  SetPods({Pod(0, "Succeeded", "n1"), Pod(1, "Failed", "n1", kFailedCode3)});
  ASSERT_TRUE(testing::WaitFor([&] { return ExitCount() == 2; }));
  std::this_thread::sleep_for(milliseconds(100));  // more polls: each exit is reported once
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(exits_.size(), 2u);
  EXPECT_EQ(exits_[0].rank, 1);  // the failure first
  EXPECT_EQ(exits_[0].exit_code, 3);
  EXPECT_EQ(exits_[0].last_log_line, "ValueError: bad shape");
  EXPECT_EQ(exits_[1].rank, 0);
  EXPECT_TRUE(exits_[1].ok());
  EXPECT_EQ(exits_[0].job, "fmnist");
  const v1::ClusterJob& first = changes_.front();
  EXPECT_TRUE(first.queued());
  EXPECT_EQ(first.scheduler(), "kubernetes");
  EXPECT_EQ(first.id(), "ml/cyclr-fmnist");
  EXPECT_EQ(first.submissions(), 1);
  EXPECT_EQ(changes_.back().state(), "Failed");
  EXPECT_EQ(changes_.back().reason(), "rank 1: Error (exit code 3)");
  EXPECT_EQ(Calls(), (std::vector<std::string>{kApply, kGet}));
}

TEST_F(KubernetesLauncherTest, StopDeletesAndReportsTheRanksOnceThePodsAreGone) {
  KubernetesLauncher& l = Make();
  SetPods({Pod(0, "Running", "n1"), Pod(1, "Running", "n2")});
  ASSERT_TRUE(l.Launch(K8sSpec(), "t").ok());
  ASSERT_TRUE(SawChange([](const auto& c) { return c.nodes() == "n1,n2"; }));
  ASSERT_TRUE(l.Stop("fmnist").ok());
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(ExitCount(), 0u);  // the pods are still there
  SetPods({});
  ASSERT_TRUE(testing::WaitFor([&] { return ExitCount() == 2; }));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const WorkerExit& x : exits_) EXPECT_EQ(x.signal, 15) << x.Describe();
  }
  EXPECT_EQ(Calls(), (std::vector<std::string>{kApply, kGet, kDelete, kGet}));
  // A relaunch (a group restart) waits until the old objects are gone, then applies the next
  // submission; the old submission's pods are not its own.
  SetPods({Pod(0, "Running", "n1"), Pod(1, "Running", "n2")});
  ASSERT_TRUE(l.Launch(K8sSpec(), "t2").ok());
  EXPECT_EQ(ReadAll(dir_.File("applied.yaml")), RenderKubernetesManifests(K8sSpec(), [] {
              KubernetesRenderOptions o = RenderOptions(2);
              o.worker_token = "t2";
              return o;
            }()));
  ASSERT_TRUE(SawChange([](const auto& c) { return c.submissions() == 2 && c.queued(); }));
  std::vector<std::string> calls = Calls();
  ASSERT_GE(calls.size(), 7u);
  EXPECT_EQ(calls[4],
            "delete job,service,secret -n ml -l cyclr.io/job=fmnist --ignore-not-found "
            "--cascade=foreground --wait=true --timeout=30s");
  EXPECT_EQ(calls[5], kApply);
  EXPECT_EQ(ExitCount(), 2u);
  EXPECT_TRUE(l.Stop("another-job").ok());  // not ours: no kubectl call
  EXPECT_EQ(Calls().back(), kGet);
}

TEST_F(KubernetesLauncherTest, AnImageThatCannotBePulledFailsTheRank) {
  KubernetesLauncher& l = Make();
  SetPods({Pod(0, "Running", "n1"), Pod(1, "Pending", "n1", kPullBackOff)});
  ASSERT_TRUE(l.Launch(K8sSpec(), "t").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return ExitCount() == 1; }));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(exits_[0].rank, 1);
  EXPECT_EQ(exits_[0].exit_code, 127);
  EXPECT_EQ(exits_[0].last_log_line, "ImagePullBackOff: Back-off pulling image \"nope:1\"");
  EXPECT_NE(changes_.back().reason().find("rank 1: ImagePullBackOff"), std::string::npos);
  EXPECT_FALSE(changes_.back().queued());
}

TEST_F(KubernetesLauncherTest, ReadLogSlicesThePodLog) {
  KubernetesLauncher& l = Make();
  EXPECT_EQ(l.ReadLog("fmnist", 1, 0, 10).status().code(), StatusCode::kNotFound);  // not ours
  ASSERT_TRUE(l.Launch(K8sSpec(), "t").ok());
  StatusOr<LogChunk> c = l.ReadLog("fmnist", 1, 6, 5);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data, "line2");
  EXPECT_EQ(c->offset, 6);
  EXPECT_EQ(c->next_offset(), 11);
  const std::string logs =
      "logs -n ml -l cyclr.io/job=fmnist,cyclr.io/submission=1,"
      "batch.kubernetes.io/job-completion-index=1 --tail=-1 --limit-bytes=12";
  EXPECT_EQ(c->source, dir_.File("kubectl") + " " + logs);
  std::vector<std::string> calls = Calls();
  EXPECT_NE(std::find(calls.begin(), calls.end(), logs), calls.end());
  c = l.ReadLog("fmnist", 1, -6, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data, "line3\n");
  EXPECT_EQ(c->size, 18);
  c = l.ReadLog("fmnist", 1, 100, 10);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data, "");
  EXPECT_EQ(l.LogTail("fmnist", 0), "line1 | line2 | line3");
  EXPECT_EQ(l.ReadLog("fmnist", 2, 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(l.Adopt("fmnist", 0, 1234).code(), StatusCode::kNotFound);
}

TEST_F(KubernetesLauncherTest, KubectlMissingOrRefusingIsAClearError) {
  const char* path = std::getenv("PATH");
  const std::string saved = path ? path : "";
  setenv("PATH", dir_.File("empty").c_str(), 1);
  Status s = Make("kubectl").Launch(K8sSpec(), "t");
  setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "kubectl not found on PATH (install kubernetes-client or give --kubectl)");

  KubernetesLauncher& l = Make();
  std::ofstream(dir_.File("apply.err")) << "error: error validating \"STDIN\": unknown field\n";
  s = l.Launch(K8sSpec(), "t");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("kubectl exited with code 1: error: error validating \"STDIN\""),
            std::string::npos)
      << s.message();
  EXPECT_EQ(Calls(), (std::vector<std::string>{kApply, kDelete}));  // cleans up what it made

  v1::JobSpec no_image = K8sSpec();
  no_image.mutable_kubernetes()->clear_image();
  s = l.Launch(no_image, "t");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("kubernetes.image"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--k8s-image"), std::string::npos) << s.message();
  v1::JobSpec bad = K8sSpec();
  bad.mutable_kubernetes()->set_namespace_("Bad");
  EXPECT_EQ(l.Launch(bad, "t").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Calls().size(), 2u);  // neither reached kubectl
}

// --- CheckKubernetesOptions and the manifests ---

TEST(KubernetesOptionsTest, RefusesEachBadFieldNamingIt) {
  struct Case {
    std::function<void(v1::KubernetesOptions*)> set;
    std::string field;
  };
  const std::string long_label(64, 'a');
  std::vector<Case> cases = {
      {[](auto* k) { k->set_namespace_("Team_A"); }, "kubernetes.namespace"},
      {[&](auto* k) { k->set_namespace_(long_label); }, "kubernetes.namespace"},
      {[](auto* k) { k->set_namespace_("-ml"); }, "kubernetes.namespace"},
      {[](auto* k) { k->set_image("worker image"); }, "kubernetes.image"},
      {[](auto* k) { k->set_image("img\"quoted"); }, "kubernetes.image"},
      {[](auto* k) { k->set_image("img\n  evil: 1"); }, "kubernetes.image"},
      {[](auto* k) { k->set_image("Upper/Case"); }, "kubernetes.image"},
      {[](auto* k) { k->set_image("a/" + std::string(254, 'b')); }, "kubernetes.image"},
      {[](auto* k) { k->set_gpus_per_worker(-1); }, "kubernetes.gpus_per_worker"},
      {[](auto* k) { k->set_gpus_per_worker(17); }, "kubernetes.gpus_per_worker"},
      {[](auto* k) { (*k->mutable_node_selector())["bad key"] = "x"; },
       "kubernetes.node_selector key"},
      {[](auto* k) { (*k->mutable_node_selector())["pool"] = "gpu\nevil: 1"; },
       "kubernetes.node_selector[pool]"},
      {[&](auto* k) { (*k->mutable_node_selector())["pool"] = long_label; },
       "kubernetes.node_selector[pool]"},
      {[](auto* k) { (*k->mutable_node_selector())["Bad_Prefix/x"] = "y"; },
       "kubernetes.node_selector key"},
      {[](auto* k) {
         for (int i = 0; i < 17; ++i) (*k->mutable_node_selector())["k" + std::to_string(i)] = "v";
       },
       "kubernetes.node_selector"},
      {[](auto* k) { k->set_cpu("2 cores"); }, "kubernetes.cpu"},
      {[](auto* k) { k->set_cpu("-1"); }, "kubernetes.cpu"},
      {[](auto* k) { k->set_cpu(std::string(33, '1')); }, "kubernetes.cpu"},
      {[](auto* k) { k->set_memory("8GB"); }, "kubernetes.memory"},
      {[](auto* k) { k->set_service_account("Worker"); }, "kubernetes.service_account"},
  };
  for (const Case& c : cases) {
    v1::KubernetesOptions k = K8sSpec().kubernetes();
    c.set(&k);
    Status s = CheckKubernetesOptions(k);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(s.message().rfind(c.field, 0), 0u) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
}

TEST(KubernetesOptionsTest, AcceptsGoodValues) {
  EXPECT_TRUE(CheckKubernetesOptions(v1::KubernetesOptions()).ok());  // all defaults
  EXPECT_TRUE(CheckKubernetesOptions(K8sSpec().kubernetes()).ok());
  for (const char* image : {"cyclr-worker", "cyclr-worker:latest", "localhost:5000/a/b_c:v1.2-rc",
                            "ghcr.io/org/cyclr-worker@sha256:"
                            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
    v1::KubernetesOptions k;
    k.set_image(image);
    EXPECT_TRUE(CheckKubernetesOptions(k).ok()) << image;
  }
  for (const char* q : {"2", "500m", "0.5", "8Gi", "1e3", "128974848"}) {
    v1::KubernetesOptions k;
    k.set_cpu(q);
    k.set_memory(q);
    EXPECT_TRUE(CheckKubernetesOptions(k).ok()) << q;
  }
  v1::KubernetesOptions k;
  k.set_gpus_per_worker(16);
  k.set_service_account("team.cyclr-runner");
  (*k.mutable_node_selector())["topology.kubernetes.io/zone"] = "";
  EXPECT_TRUE(CheckKubernetesOptions(k).ok());
}

TEST(KubernetesManifestTest, RendersTheCommittedExpectation) {
  const char* src = std::getenv("CYCLR_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  const std::string path = std::string(src) + "/tests/server/testdata/k8s_expected.yaml";
  const std::string rendered = RenderKubernetesManifests(K8sSpec(), RenderOptions());
  if (std::getenv("CYCLR_UPDATE_GOLDEN")) std::ofstream(path, std::ios::binary) << rendered;
  EXPECT_EQ(rendered, ReadAll(path)) << "CYCLR_UPDATE_GOLDEN=1 rewrites " << path;
}

TEST(KubernetesManifestTest, NamesStayDnsLabels) {
  EXPECT_EQ(KubernetesObjectName("fmnist"), "cyclr-fmnist");
  const std::string a = KubernetesObjectName(std::string(63, 'a'));
  const std::string b = KubernetesObjectName(std::string(62, 'a') + "b");
  EXPECT_EQ(a.size(), kMaxK8sObjectNameBytes);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("cyclr-aaaa", 0), 0u);
}

TEST(KubernetesManifestTest, HostileValuesCannotAddKeys) {
  EXPECT_EQ(YamlQuote("plain"), "\"plain\"");
  EXPECT_EQ(YamlQuote("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\x01\"");
  EXPECT_EQ(YamlQuote("x\xe2\x80\xa8y\xc2\x85z"), "\"x\\Ly\\Nz\"");
  EXPECT_EQ(YamlQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // other UTF-8 as it is
  // Values the options checks do not cover (the credential, the address) stay on their line.
  KubernetesRenderOptions o = RenderOptions();
  const std::string plain = RenderKubernetesManifests(K8sSpec(), o);
  o.worker_token = "x\"\n  evil: true\n---\nkind: Pod\n";
  o.coordinator_address = "a:1\" ]\n- --evil";
  const std::string hostile = RenderKubernetesManifests(K8sSpec(), o);
  auto count = [](const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(hostile, "\n"), count(plain, "\n"));
  EXPECT_EQ(count(hostile, "\n---\n"), 2u);
  EXPECT_NE(hostile.find("token: \"x\\\"\\n  evil: true\\n---\\nkind: Pod\\n\""),
            std::string::npos);
}

}  // namespace
}  // namespace cyclr
