// LauncherRouter: the one Launcher the JobManager calls, handing each job to the launcher of its
// spec.launcher() ("local", "slurm", "kubernetes").
//
// Calls by job name reach the launcher of the job's kind: as remembered from Launch and Reattach,
// else as `kind_of` (the JobManager's record; it must not call back into a launcher) tells. A job
// of no known kind (deleted meanwhile): Adopt goes to "local" (only local workers are adopted by
// pid), Stop to every launcher (each ignores jobs it does not run), LogTail and ReadLog to each
// in turn until one has the log. Launchers are added before the router is used; its calls are
// then thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/launcher.h"

namespace cyclr {

class LauncherRouter : public Launcher {
 public:
  // The spec.launcher() of a job, "" when unknown.
  using KindOf = std::function<std::string(const std::string& job)>;
  explicit LauncherRouter(KindOf kind_of = nullptr) : kind_of_(std::move(kind_of)) {}

  // Adds the launcher of spec.launcher() == `kind`; call before any other method.
  void Add(const std::string& kind, std::unique_ptr<Launcher> launcher);
  // The launcher of `kind`, or null.
  Launcher* Get(const std::string& kind) const;

  // FAILED_PRECONDITION when no launcher of the spec's kind was added (e.g. the coordinator was
  // started without --slurm).
  Status Launch(const v1::JobSpec& spec, const std::string& worker_token) override;
  Status Stop(const std::string& job) override;
  Status Adopt(const std::string& job, int rank, int pid) override;
  std::string LogTail(const std::string& job, int rank) const override;
  StatusOr<LogChunk> ReadLog(const std::string& job, int rank, int64_t offset,
                             int max_bytes) const override;
  Status Reattach(const v1::Job& job) override;

 private:
  StatusOr<Launcher*> For(const std::string& kind) const;
  Launcher* Owner(const std::string& job) const;  // null when not seen
  void Remember(const std::string& job, const std::string& kind);

  KindOf kind_of_;
  std::vector<std::pair<std::string, std::unique_ptr<Launcher>>> launchers_;  // set before use
  mutable std::mutex mu_;
  std::map<std::string, std::string> kinds_;  // job -> kind; GUARDED_BY(mu_)
};

}  // namespace cyclr
