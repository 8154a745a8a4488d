#include "worker/comm/in_memory_store.h"

namespace cyclr {

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

Status InMemoryStore::Set(const std::string& key, const std::string& value) {
  if (key.empty()) return Status::InvalidArgument("store key must not be empty");
  {
    std::lock_guard<std::mutex> lock(mu_);
    data_[key] = value;
  }
  cv_.notify_all();
  return Status::Ok();
}

std::vector<std::string> InMemoryStore::MissingLocked(const std::vector<std::string>& keys) const {
  std::vector<std::string> missing;
  for (const auto& k : keys) {
    if (data_.count(k) == 0) missing.push_back(k);
  }
  return missing;
}

StatusOr<std::vector<std::string>> InMemoryStore::Get(const std::vector<std::string>& keys,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool all_there = cv_.wait_for(lock, timeout, [&] { return MissingLocked(keys).empty(); });
  if (!all_there) {
    return Status::DeadlineExceeded("store keys still missing after " +
                                    std::to_string(timeout.count()) +
                                    " ms: " + JoinKeys(MissingLocked(keys)));
  }
  std::vector<std::string> values;
  values.reserve(keys.size());
  for (const auto& k : keys) values.push_back(data_.at(k));
  return values;
}

size_t InMemoryStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_.size();
}

}  // namespace cyclr
