// FakeLauncher: records what the JobManager asks of a launcher instead of starting processes.
// Tests report exits themselves (JobManager::OnWorkerExit), as the real launcher's reaper would.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "server/launcher.h"

namespace cyclr::testing {

class FakeLauncher : public Launcher {
 public:
  Status Launch(const v1::JobSpec& spec, const std::string& worker_token) override {
    std::lock_guard<std::mutex> lock(mu);
    launched.push_back(spec.name());
    tokens.push_back(worker_token);
    return fail_launch ? Status::Unavailable("no such binary") : Status::Ok();
  }
  Status Stop(const std::string& job) override {
    std::lock_guard<std::mutex> lock(mu);
    stopped.push_back(job);
    return Status::Ok();
  }
  // Succeeds for the pids in `running_pids` (the processes that "exist").
  Status Adopt(const std::string& job, int rank, int pid) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!running_pids.count(pid)) return Status::NotFound("no process " + std::to_string(pid));
    adopted.emplace_back(job, rank, pid);
    return Status::Ok();
  }

  std::string LogTail(const std::string& job, int rank) const override {
    return log_tail.empty() ? "" : job + "/" + std::to_string(rank) + ": " + log_tail;
  }

  std::mutex mu;
  std::string log_tail;  // what LogTail() reports, prefixed by "job/rank: "
  std::vector<std::string> launched, stopped;
  std::vector<std::string> tokens;  // the worker credential of each Launch
  std::vector<std::tuple<std::string, int, int>> adopted;  // job, rank, pid
  std::set<int> running_pids;
  bool fail_launch = false;
};

}  // namespace cyclr::testing
