// Helpers shared by the coordinator tests: a temporary folder, valid specs, a loopback
// coordinator's options and service stubs, and a recorder for manager subscriptions.
#pragma once

#include <grpcpp/create_channel.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cyclr/v1/job.pb.h"
#include "cyclr/v1/service.grpc.pb.h"
#include "server/coordinator.h"

namespace cyclr::testing {

// A fresh folder under /tmp, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cyclr-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// (Re)opens the managers on `dir`/state.db as a (restarted) coordinator builds them: what was
// open is closed first, the job manager last-built first.
inline void OpenManagers(const TempDir& dir, JobManager::Options options,
                         std::unique_ptr<StateStore>* store,
                         std::unique_ptr<ScheduleManager>* schedules,
                         std::unique_ptr<JobManager>* jobs,
                         JobManager::AliveProbe alive = nullptr) {
  jobs->reset();
  schedules->reset();
  store->reset();
  *store = StateStore::Open(dir.File("state.db")).value();
  *schedules = std::make_unique<ScheduleManager>(store->get());
  *jobs = std::make_unique<JobManager>(store->get(), schedules->get(), std::move(options),
                                       std::move(alive));
}

// triangular, base 0.001, max 0.1, 100 steps up.
// A coordinator on a free loopback port, no metrics endpoint, state and worker logs in `dir`.
// Authentication is off (`insecure`): the tests that use it exercise other concerns through raw
// stubs; authentication itself is tested with it on (integration_security, integration_hostile).
inline CoordinatorOptions LoopbackOptions(const TempDir& dir) {
  CoordinatorOptions o;
  o.insecure = true;
  o.allow_path_prefixes = {dir.path()};  // checkpoints and files of the test live in `dir`
  o.listen = "127.0.0.1:0";
  o.metrics = "";
  o.state_path = dir.File("state.db");
  o.work_dir = dir.File("work");
  return o;
}

// Stubs of the coordinator's three services on one insecure channel to `address`.
struct ServiceStubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::JobService::Stub> jobs;
  std::unique_ptr<v1::ScheduleService::Stub> schedules;
  std::unique_ptr<v1::WorkerService::Stub> workers;
};
inline ServiceStubs ConnectStubs(const std::string& address) {
  ServiceStubs s;
  s.channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  s.jobs = v1::JobService::NewStub(s.channel);
  s.schedules = v1::ScheduleService::NewStub(s.channel);
  s.workers = v1::WorkerService::NewStub(s.channel);
  return s;
}

// Records what a manager's Subscribe() delivers (on the manager's feed thread) for a test to
// wait on. Must outlive the subscription.
template <typename Snap>
class SnapshotRecorder {
 public:
  using Ptr = std::shared_ptr<const Snap>;
  std::function<void(const Ptr&)> Listener() {
    return [this](const Ptr& snap) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(snap);
      cv_.notify_all();
    };
  }
  // Waits up to `timeout` for a delivered snapshot that satisfies `pred`; returns it or null.
  Ptr WaitFor(const std::function<bool(const Snap&)>& pred, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    Ptr found;
    cv_.wait_for(lock, timeout, [&] {
      for (const Ptr& s : seen_) {
        if (pred(*s)) found = s;
      }
      return found != nullptr;
    });
    return found;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Ptr> seen_;  // GUARDED_BY(mu_)
};

inline v1::ScheduleSpec TriangularSpec(double max_lr = 0.1) {
  v1::ScheduleSpec s;
  s.set_policy("triangular");
  s.set_base_lr(0.001);
  s.set_max_lr(max_lr);
  s.set_step_size_up(100);
  return s;
}

inline v1::JobSpec ValidJobSpec(const std::string& name, int workers = 2,
                                const std::string& launcher = "external") {
  v1::JobSpec j;
  j.set_name(name);
  j.set_workers(workers);
  j.set_model("mlp");
  j.set_dataset("synthetic");
  j.set_epochs(1);
  j.set_batch_size(32);
  j.set_launcher(launcher);
  *j.mutable_schedule() = TriangularSpec();
  return j;
}

// Polls `cond` every millisecond until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

}  // namespace cyclr::testing
