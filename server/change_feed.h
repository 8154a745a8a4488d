// ChangeFeed<Snap>: per-key (per-job) listeners and one thread that delivers changes to them, so
// a manager notifies its watchers instead of being polled.
//
// The owning manager calls Changed(key) when a key's generation grows (cheap, allowed under the
// manager's lock). The feed's thread then builds ONE snapshot of the key with `snapshot(key)`
// (which takes the manager's lock itself) and hands the same immutable object to every listener of
// that key; changes that arrive before a delivery starts are coalesced into it. Keys without
// listeners cost nothing.
//
// Locking contract: listeners run on the feed's thread with no feed or manager lock held, one key
// at a time, so a listener may call Add/Remove/Changed and the manager's methods, but it must not
// block (it is on every watcher's path). Lock order: manager -> feed (the feed's mutex is a
// leaf: it is never held while calling out). Remove() does not wait for a delivery already under
// way: a listener may run once more after Remove() returns, so it must hold what it touches by
// shared/weak pointer. Deliveries of one key come in generation order (one thread), but the first
// one after Add() can carry the generation the subscriber already has: compare generations.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cyclr {

template <typename Snap>
class ChangeFeed {
 public:
  using SnapPtr = std::shared_ptr<const Snap>;
  using Listener = std::function<void(const SnapPtr&)>;
  // Builds the key's current snapshot, or null when the key is gone (nothing is delivered).
  using SnapshotFn = std::function<SnapPtr(const std::string& key)>;
  // What a manager's Subscribe() returns: the listener's id (for Remove) and the snapshot
  // current at registration.
  struct Subscription {
    int64_t id = 0;
    SnapPtr current;
  };

  explicit ChangeFeed(SnapshotFn snapshot)
      : snapshot_(std::move(snapshot)), thread_([this] { Run(); }) {}
  ~ChangeFeed() {  // drops pending deliveries; REQUIRES no listener is running on this thread
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Registers `listener` for `key`; returns its id for Remove().
  int64_t Add(const std::string& key, Listener listener) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t id = next_id_++;
    listeners_[key].emplace(id, std::move(listener));
    return id;
  }

  // Unregisters a listener (unknown ids are ignored). See the contract above.
  void Remove(const std::string& key, int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = listeners_.find(key);
    if (it == listeners_.end()) return;
    it->second.erase(id);
    if (it->second.empty()) listeners_.erase(it);
  }

  // Schedules a delivery of the key's current snapshot to its listeners, if it has any.
  void Changed(const std::string& key) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (listeners_.count(key) == 0) return;
      if (!pending_.insert(key).second) return;  // a delivery is scheduled already
    }
    cv_.notify_one();
  }

  size_t listeners(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = listeners_.find(key);
    return it == listeners_.end() ? 0 : it->second.size();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      std::set<std::string> keys;
      keys.swap(pending_);
      for (const std::string& key : keys) {
        lock.unlock();
        SnapPtr snap = snapshot_(key);
        lock.lock();
        auto it = listeners_.find(key);
        if (!snap || it == listeners_.end()) continue;
        std::vector<Listener> calls;
        calls.reserve(it->second.size());
        for (const auto& [id, listener] : it->second) calls.push_back(listener);
        lock.unlock();
        for (const Listener& call : calls) call(snap);
        lock.lock();
        if (stop_) return;
      }
    }
  }

  const SnapshotFn snapshot_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::map<int64_t, Listener>> listeners_;  // GUARDED_BY(mu_)
  std::set<std::string> pending_;                                 // GUARDED_BY(mu_)
  int64_t next_id_ = 1;                                           // GUARDED_BY(mu_)
  bool stop_ = false;                                             // GUARDED_BY(mu_)
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace cyclr
