// BatchPrefetcher: gathers a rank's next training batch on a background thread while the current
// step runs, so copying examples out of the dataset stays off the step's critical path (as
// PyTorch's DataLoader does with its worker and prefetch queue).
//
// One epoch's batches, in order: batch i holds the examples order[i*B, (i+1)*B). The thread keeps
// at most `depth` gathered batches ahead of the consumer (double buffering with depth 1), so
// memory stays bounded. Next() hands them out in order; the batches are identical to gathering
// them inline, so training is bit-for-bit the same with or without the prefetcher.
//
// Threads: Next() from one consumer thread; the gathering thread is owned and joined by the
// destructor (which may be called before every batch was taken: an epoch cut short by a stop or a
// rollback).
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "worker/train/dataset.h"

namespace cyclr {

struct Batch {
  int64_t index = 0;  // position in the epoch
  torch::Tensor images;
  torch::Tensor labels;
};

class BatchPrefetcher {
 public:
  // `data` is not owned and must outlive the prefetcher. Batches first_batch .. num_batches-1 of
  // `order` are produced. REQUIRES: batch_size > 0, (num_batches * batch_size) <= order.size(),
  // depth >= 1.
  BatchPrefetcher(const Dataset* data, std::vector<int64_t> order, int64_t batch_size,
                  int64_t first_batch, int64_t num_batches, int depth = 1);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch in order, waiting for it if it is still being gathered; nullopt after the
  // last one.
  std::optional<Batch> Next();

 private:
  void Run();
  Batch Gather(int64_t i) const;

  const Dataset* const data_;
  const std::vector<int64_t> order_;
  const torch::Tensor index_;  // view over order_
  const int64_t batch_size_;
  const int64_t end_;
  const size_t depth_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;  // GUARDED_BY(mu_)
  int64_t next_out_;         // GUARDED_BY(mu_): index of the batch Next() returns
  bool stopping_ = false;    // GUARDED_BY(mu_)
  std::thread thread_;       // started at the end of the constructor
};

}  // namespace cyclr
