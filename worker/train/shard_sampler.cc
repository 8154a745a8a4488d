#include "worker/train/shard_sampler.h"

#include <numeric>
#include <random>

#include "core/status.h"

namespace cyclr {

ShardSampler::ShardSampler(int64_t dataset_size, int rank, int world_size, uint64_t seed)
    : dataset_size_(dataset_size), rank_(rank), world_size_(world_size), seed_(seed) {
  CYCLR_CHECK(world_size_ > 0 && rank_ >= 0 && rank_ < world_size_ && dataset_size_ >= 0);
}

std::vector<int64_t> ShardSampler::Indices(int64_t epoch) const {
  std::vector<int64_t> perm(static_cast<size_t>(dataset_size_));
  std::iota(perm.begin(), perm.end(), 0);
  // The epoch is mixed into the seed so each epoch reshuffles; std::shuffle's algorithm is
  // implementation-defined, so the swap loop is written out.
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch));
  for (int64_t i = dataset_size_ - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(perm[i], perm[j]);
  }
  std::vector<int64_t> shard;
  shard.reserve(static_cast<size_t>(shard_size()));
  for (int64_t k = 0; k < shard_size(); ++k) shard.push_back(perm[k * world_size_ + rank_]);
  return shard;
}

}  // namespace cyclr
