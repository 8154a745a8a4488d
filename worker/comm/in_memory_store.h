// InMemoryStore: a Store for ranks that are threads of one process (tests, single-process runs).
// A map guarded by a mutex; Get() sleeps on a condition variable until every key exists.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "worker/comm/store.h"

namespace cyclr {

class InMemoryStore : public Store {
 public:
  InMemoryStore() = default;
  InMemoryStore(const InMemoryStore&) = delete;
  InMemoryStore& operator=(const InMemoryStore&) = delete;

  // Overwrites an existing key and wakes every waiting Get().
  Status Set(const std::string& key, const std::string& value) override;
  // DEADLINE_EXCEEDED after `timeout` names the keys still missing.
  StatusOr<std::vector<std::string>> Get(const std::vector<std::string>& keys,
                                         std::chrono::milliseconds timeout) override;

  // Number of keys set so far (for tests).
  size_t size() const;

 private:
  // REQUIRES: mu_ held.
  std::vector<std::string> MissingLocked(const std::vector<std::string>& keys) const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> data_;  // GUARDED_BY(mu_)
};

// "a, b, c" — for messages naming keys.
std::string JoinKeys(const std::vector<std::string>& keys);

}  // namespace cyclr
