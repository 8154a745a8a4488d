// Spawn(size, fn): runs fn(rank) for every rank on its own thread and joins them all, as gloo's
// tests do. gtest's EXPECT_* is thread-safe; ASSERT_* only leaves the rank's lambda.
#pragma once

#include <functional>
#include <thread>
#include <vector>

namespace cyclr {
namespace testing {

inline void Spawn(int size, const std::function<void(int rank)>& fn) {
  std::vector<std::thread> threads;
  threads.reserve(size);
  for (int rank = 0; rank < size; ++rank) threads.emplace_back(fn, rank);
  for (auto& t : threads) t.join();
}

}  // namespace testing
}  // namespace cyclr
