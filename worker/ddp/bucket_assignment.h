// Bucket assignment for the gradient reducer, as PyTorch DDP does it: parameters are taken in
// REVERSE order (backward produces the last layer's gradients first), packed greedily into
// buckets up to a byte cap; the first bucket has a smaller cap so its all-reduce starts early.
// Pure function of the sizes, so every rank computes the same buckets.
#pragma once

#include <cstddef>
#include <vector>

namespace cyclr {

// `param_bytes[i]` is parameter i's gradient size. Returns buckets in launch order, each a list
// of parameter indices in the order they are laid out in the bucket's flat buffer. A parameter
// larger than the cap gets a bucket of its own. Every index appears exactly once.
std::vector<std::vector<size_t>> AssignBuckets(const std::vector<size_t>& param_bytes,
                                               size_t first_bucket_cap_bytes,
                                               size_t bucket_cap_bytes);

}  // namespace cyclr
