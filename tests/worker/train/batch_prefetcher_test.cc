#include "worker/train/batch_prefetcher.h"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "worker/train/throughput_meter.h"

namespace cyclr {
namespace {

// Example e has every pixel equal to e and label e % 10, so a batch says which examples it holds.
Dataset Numbered(int64_t n) {
  Dataset d;
  d.images =
      torch::arange(n, torch::kFloat32).view({n, 1, 1, 1}).expand({n, 1, 28, 28}).contiguous();
  d.labels = torch::arange(n, torch::kInt64).remainder(10);
  return d;
}

std::vector<int64_t> Shuffled(int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::reverse(order.begin(), order.end());
  std::swap(order[1], order[7]);
  return order;
}

TEST(BatchPrefetcherTest, BatchesEqualInlineGatheringInOrder) {
  Dataset data = Numbered(50);
  std::vector<int64_t> order = Shuffled(50);
  for (int depth : {1, 3}) {
    BatchPrefetcher batches(&data, order, 8, 0, 6, depth);  // 48 of 50: the last partial dropped
    for (int64_t i = 0; i < 6; ++i) {
      std::optional<Batch> b = batches.Next();
      ASSERT_TRUE(b.has_value()) << "batch " << i;
      EXPECT_EQ(b->index, i);
      torch::Tensor idx =
          torch::tensor(std::vector<int64_t>(order.begin() + i * 8, order.begin() + (i + 1) * 8));
      EXPECT_TRUE(torch::equal(b->images, data.images.index_select(0, idx)));
      EXPECT_TRUE(torch::equal(b->labels, data.labels.index_select(0, idx)));
    }
    EXPECT_FALSE(batches.Next().has_value());
    EXPECT_FALSE(batches.Next().has_value());
  }
}

TEST(BatchPrefetcherTest, StartsMidEpochForAResumedRun) {
  Dataset data = Numbered(40);
  std::vector<int64_t> order = Shuffled(40);
  BatchPrefetcher batches(&data, order, 10, 3, 4);
  std::optional<Batch> b = batches.Next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->index, 3);
  EXPECT_EQ(b->images[0][0][0][0].item<float>(), static_cast<float>(order[30]));
  EXPECT_FALSE(batches.Next().has_value());
}

TEST(BatchPrefetcherTest, GathersTheNextBatchWhileTheConsumerWorks) {
  Dataset data = Numbered(64);
  BatchPrefetcher batches(&data, Shuffled(64), 16, 0, 4);
  ASSERT_TRUE(batches.Next().has_value());
  // While "the step" runs, the background thread has the next batch ready; taking it then does
  // not need any gathering on this thread. (Checked by content, not by time: the batch must be
  // the right one whether or not the thread was fast.)
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::optional<Batch> b = batches.Next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->index, 1);
}

TEST(BatchPrefetcherTest, DestroyedBeforeTheEpochEndsJoinsCleanly) {
  Dataset data = Numbered(1000);
  for (int taken = 0; taken < 3; ++taken) {
    BatchPrefetcher batches(&data, Shuffled(1000), 10, 0, 100, 2);
    for (int i = 0; i < taken; ++i) ASSERT_TRUE(batches.Next().has_value());
  }  // a stop or rollback cuts the epoch short: the destructor must not hang or crash
}

TEST(ThroughputMeterTest, CountsOnlyStepsAfterWarmupAndOnlyTimeInsideEpochs) {
  ThroughputMeter m(2);
  m.Resume();
  m.Step(1);
  m.Step(2);  // clock starts
  EXPECT_EQ(m.counted_steps(), 0);
  m.Step(3);
  m.Step(4);
  m.Pause();
  const double after_epoch = m.seconds();
  EXPECT_GE(after_epoch, 0.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // "evaluation": not counted
  m.Resume();
  m.Step(5);
  m.Pause();
  EXPECT_EQ(m.counted_steps(), 3);
  EXPECT_LT(m.seconds() - after_epoch, 0.03);
}

TEST(ThroughputMeterTest, AveragesWaitsOverMeasuredStepsOnly) {
  ThroughputMeter m(1);
  m.Resume();
  m.AddWaits(100, 100);  // warm-up step: not counted
  m.Step(1);
  m.AddWaits(2, 0.5);
  m.Step(2);
  m.AddWaits(4, 1.5);
  m.Step(3);
  EXPECT_DOUBLE_EQ(m.gradient_wait_ms_per_step(), 3.0);
  EXPECT_DOUBLE_EQ(m.agreement_wait_ms_per_step(), 1.0);
}

}  // namespace
}  // namespace cyclr
