#include "worker/train/shard_sampler.h"

#include <gtest/gtest.h>

#include <set>

namespace cyclr {
namespace {

TEST(ShardSamplerTest, ShardsAreDisjointEqualAndCoverAllButTheRemainder) {
  const int64_t n = 1003;
  for (int world : {1, 2, 3, 4}) {
    std::set<int64_t> seen;
    for (int r = 0; r < world; ++r) {
      ShardSampler s(n, r, world, 42);
      auto idx = s.Indices(0);
      EXPECT_EQ(static_cast<int64_t>(idx.size()), n / world);
      for (int64_t i : idx) {
        EXPECT_TRUE(seen.insert(i).second) << "index " << i << " in two shards";
        EXPECT_GE(i, 0);
        EXPECT_LT(i, n);
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), n / world * world);
  }
}

TEST(ShardSamplerTest, SameSeedSameOrderNewEpochNewOrder) {
  ShardSampler a(500, 1, 2, 7), b(500, 1, 2, 7), c(500, 1, 2, 8);
  EXPECT_EQ(a.Indices(3), b.Indices(3));
  EXPECT_NE(a.Indices(3), a.Indices(4));
  EXPECT_NE(a.Indices(3), c.Indices(3));
}

TEST(ShardSamplerTest, StepsPerEpochDropsTheLastPartialBatch) {
  ShardSampler s(1000, 0, 3, 1);  // 333 per rank
  EXPECT_EQ(s.StepsPerEpoch(64), 5);
  EXPECT_EQ(s.StepsPerEpoch(333), 1);
  EXPECT_EQ(s.StepsPerEpoch(334), 0);
}

}  // namespace
}  // namespace cyclr
