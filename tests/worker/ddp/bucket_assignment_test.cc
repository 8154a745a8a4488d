#include "worker/ddp/bucket_assignment.h"

#include <gtest/gtest.h>

namespace cyclr {
namespace {

using Buckets = std::vector<std::vector<size_t>>;

TEST(AssignBucketsTest, ReverseOrderWithSmallFirstBucket) {
  // sizes of params 0..5; first cap 100, later caps 250.
  Buckets b = AssignBuckets({40, 200, 60, 60, 50, 30}, 100, 250);
  EXPECT_EQ(b, (Buckets{{5, 4, 3}, {2, 1}, {0}}));
}

TEST(AssignBucketsTest, ParamThatCrossesTheCapClosesItsBucket) {
  Buckets b = AssignBuckets({10, 1000, 10}, 16, 16);
  EXPECT_EQ(b, (Buckets{{2, 1}, {0}}));
}

TEST(AssignBucketsTest, BenchmarkMlpIsOneBucketAsInDdp) {
  // mlp 784-512-10: weight0, bias0, weight1, bias1 in bytes; DDP's caps (1 MiB first, 25 MiB).
  // DDP 1.13 puts all four in one bucket: one all-reduce per step.
  Buckets b = AssignBuckets({784 * 512 * 4, 512 * 4, 512 * 10 * 4, 10 * 4}, 1 << 20, 25 << 20);
  EXPECT_EQ(b, (Buckets{{3, 2, 1, 0}}));
}

TEST(AssignBucketsTest, TinyCapsGiveOneBucketPerParam) {
  EXPECT_EQ(AssignBuckets({4, 4, 4}, 1, 1), (Buckets{{2}, {1}, {0}}));
}

TEST(AssignBucketsTest, HugeCapsGiveOneBucket) {
  EXPECT_EQ(AssignBuckets({4, 4, 4}, 1 << 30, 1 << 30), (Buckets{{2, 1, 0}}));
}

TEST(AssignBucketsTest, NoParamsNoBuckets) { EXPECT_TRUE(AssignBuckets({}, 1, 1).empty()); }

}  // namespace
}  // namespace cyclr
