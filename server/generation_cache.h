// GenerationCache<Msg>: per key, the message built for the newest generation seen, so a state
// that many watchers share is converted (e.g. to proto) once per generation, not once per
// watcher. Thread-safe; the message is built outside the lock (two racing first callers may
// both build it; one copy wins).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace cyclr {

template <typename Msg>
class GenerationCache {
 public:
  // The cached message of `key` at `generation`, built with `build()` (returning Msg) if missing.
  template <typename Build>
  std::shared_ptr<const Msg> Get(const std::string& key, int64_t generation, Build&& build) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(key);
      if (it != entries_.end() && it->second.generation == generation) return it->second.msg;
    }
    auto msg = std::make_shared<const Msg>(build());
    std::lock_guard<std::mutex> lock(mu_);
    ++builds_;
    Entry& e = entries_[key];
    if (!e.msg || generation > e.generation) e = Entry{generation, msg};
    return msg;
  }

  int64_t builds() const {  // how many messages were built (tests)
    std::lock_guard<std::mutex> lock(mu_);
    return builds_;
  }

 private:
  struct Entry {
    int64_t generation = 0;
    std::shared_ptr<const Msg> msg;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  int64_t builds_ = 0;                    // GUARDED_BY(mu_)
};

}  // namespace cyclr
