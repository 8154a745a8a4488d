// JobManager, fourth part: listing in pages, deletion and expiry of ended jobs (the policy is in
// job_manager.h).
#include <cstdio>
#include <iterator>

#include "core/limits.h"
#include "server/job_manager.h"
#include "server/manager_util.h"

namespace cyclr {
namespace {

// A page token is the decimal creation sequence number of the page's last job.
StatusOr<int64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  int64_t seq = 0;
  bool ok = token.size() <= 18;
  for (char c : token) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) seq = seq * 10 + (c - '0');
  }
  if (!ok || seq < 1) {
    return Status::InvalidArgument("page_token " + limits::Echo(token) +
                                   " must be a next_page_token from ListJobs");
  }
  return seq;
}

}  // namespace

StatusOr<v1::ListJobsResponse> JobManager::ListPage(int page_size,
                                                    const std::string& page_token) const {
  if (page_size < 0 || page_size > limits::kMaxListPageSize) {
    return Status::InvalidArgument("page_size (" + std::to_string(page_size) +
                                   ") must be between 0 and " +
                                   std::to_string(limits::kMaxListPageSize));
  }
  const int size = page_size == 0 ? limits::kDefaultListPageSize : page_size;
  CYCLR_ASSIGN_OR_RETURN(int64_t after, ParsePageToken(page_token));
  std::lock_guard<std::mutex> lock(mu_);
  v1::ListJobsResponse out;
  auto it = order_.upper_bound(after);
  for (; it != order_.end() && out.jobs_size() < size; ++it) {
    *out.add_jobs() = ToJob(jobs_.at(it->second));
  }
  if (it != order_.end()) out.set_next_page_token(std::to_string(std::prev(it)->first));
  return out;
}

Status JobManager::Delete(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = Find(name);
    if (!e) return UnknownJob(name);
    if (!IsTerminal(e->job.state())) {
      return Status::FailedPrecondition("job \"" + name + "\" is " +
                                        v1::JobState_Name(e->job.state()) +
                                        ": only an ended job can be deleted (stop it first)");
    }
    // Stored first: a crash in between leaves the job deleted, never half-deleted in memory only.
    CYCLR_RETURN_IF_ERROR(store_->DeleteJob(name));
    order_.erase(e->seq);
    jobs_.erase(name);
    schedules_->RemoveJob(name);
  }
  if (options_.on_deleted) options_.on_deleted(name);
  return Status::Ok();
}

std::vector<std::string> JobManager::ExpireEnded(int64_t now_unix_ms,
                                                 std::chrono::milliseconds retain) {
  std::vector<std::string> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, e] : jobs_) {
      if (IsTerminal(e.job.state()) && now_unix_ms - e.job.updated_unix_ms() >= retain.count()) {
        expired.push_back(name);
      }
    }
  }
  std::vector<std::string> deleted;
  for (const std::string& name : expired) {
    Status s = Delete(name);  // may have been deleted meanwhile: NOT_FOUND is fine
    if (s.ok()) {
      deleted.push_back(name);
    } else if (s.code() != StatusCode::kNotFound) {
      std::fprintf(stderr, "cyclr: expiring job %s: %s\n", name.c_str(), s.ToString().c_str());
    }
  }
  return deleted;
}

}  // namespace cyclr
