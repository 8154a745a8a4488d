// ShardSampler: which examples each rank trains on, epoch by epoch.
//
// Every rank draws the same permutation of [0, N) from (seed, epoch) — a Fisher-Yates shuffle on
// std::mt19937_64, so the order is identical across ranks and platforms — and takes every
// world_size-th element from its rank, truncated to floor(N / world_size). Shards are disjoint,
// equal in size (so every rank runs the same number of steps: no rank waits in a collective for
// a peer that ran out of data), and reshuffled each epoch. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace cyclr {

class ShardSampler {
 public:
  ShardSampler(int64_t dataset_size, int rank, int world_size, uint64_t seed);

  // This rank's example indices for `epoch`, in training order.
  std::vector<int64_t> Indices(int64_t epoch) const;
  int64_t shard_size() const { return dataset_size_ / world_size_; }
  // Full batches per epoch (the last partial batch is dropped, as DDP's DistributedSampler +
  // drop_last does, so all ranks agree on the step count).
  int64_t StepsPerEpoch(int64_t batch_size) const { return shard_size() / batch_size; }

 private:
  int64_t dataset_size_;
  int rank_;
  int world_size_;
  uint64_t seed_;
};

}  // namespace cyclr
