// Store: the rendezvous key-value store ranks use to find each other (as gloo's and c10d's).
// Implementations: InMemoryStore (tests: ranks as threads in one process) and CoordinatorStore
// (production: the coordinator's WorkerService StoreSet/StoreGet RPCs). Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr {

class Store {
 public:
  virtual ~Store() = default;
  virtual Status Set(const std::string& key, const std::string& value) = 0;
  // Waits until every key exists (or `timeout`: DEADLINE_EXCEEDED naming the missing keys) and
  // returns their values in order.
  virtual StatusOr<std::vector<std::string>> Get(const std::vector<std::string>& keys,
                                                 std::chrono::milliseconds timeout) = 0;
};

}  // namespace cyclr
