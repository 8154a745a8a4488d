// Bucket assignment for the gradient reducer, as PyTorch DDP does it: parameters are taken in
// REVERSE order (backward produces the last layer's gradients first) and a bucket is closed as
// soon as it holds at least its cap (`compute_bucket_assignment_by_size`: the parameter that
// crosses the cap still joins the bucket, so a 1.6 MB layer after a 21 KB one makes one bucket,
// not two). The first bucket has a smaller cap so its all-reduce starts early.
// Pure function of the sizes, so every rank computes the same buckets.
#pragma once

#include <cstddef>
#include <vector>

namespace cyclr {

// `param_bytes[i]` is parameter i's gradient size. Returns buckets in launch order, each a list
// of parameter indices in the order they are laid out in the bucket's flat buffer. Every index
// appears exactly once; only the last bucket may hold less than its cap.
std::vector<std::vector<size_t>> AssignBuckets(const std::vector<size_t>& param_bytes,
                                               size_t first_bucket_cap_bytes,
                                               size_t bucket_cap_bytes);

}  // namespace cyclr
