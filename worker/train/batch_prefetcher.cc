#include "worker/train/batch_prefetcher.h"

#include "core/status.h"

namespace cyclr {

BatchPrefetcher::BatchPrefetcher(const Dataset* data, std::vector<int64_t> order,
                                 int64_t batch_size, int64_t first_batch, int64_t num_batches,
                                 int depth)
    : data_(data),
      order_(std::move(order)),
      index_(torch::from_blob(const_cast<int64_t*>(order_.data()),
                              {static_cast<int64_t>(order_.size())}, torch::kInt64)),
      batch_size_(batch_size),
      end_(num_batches),
      depth_(static_cast<size_t>(depth)),
      next_out_(first_batch) {
  CYCLR_CHECK(data_ != nullptr && batch_size_ > 0 && depth >= 1);
  CYCLR_CHECK(num_batches * batch_size_ <= static_cast<int64_t>(order_.size()));
  thread_ = std::thread(&BatchPrefetcher::Run, this);
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Batch BatchPrefetcher::Gather(int64_t i) const {
  torch::Tensor idx = index_.slice(0, i * batch_size_, (i + 1) * batch_size_);
  return Batch{i, data_->Inputs(idx), data_->Targets(idx)};
}

void BatchPrefetcher::Run() {
  int64_t i;
  {
    std::lock_guard<std::mutex> lock(mu_);
    i = next_out_;
  }
  for (; i < end_; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || ready_.size() < depth_; });
      if (stopping_) return;
    }
    Batch b = Gather(i);  // outside the lock: this is the work that overlaps the step
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(b));
    }
    cv_.notify_all();
  }
}

std::optional<Batch> BatchPrefetcher::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (next_out_ >= end_) return std::nullopt;
  cv_.wait(lock, [&] { return !ready_.empty(); });
  Batch b = std::move(ready_.front());
  ready_.pop_front();
  ++next_out_;
  lock.unlock();
  cv_.notify_all();  // room for the next one
  return b;
}

}  // namespace cyclr
