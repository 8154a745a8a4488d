#include "worker/ddp/bucket_assignment.h"

namespace cyclr {

std::vector<std::vector<size_t>> AssignBuckets(const std::vector<size_t>& param_bytes,
                                               size_t first_bucket_cap_bytes,
                                               size_t bucket_cap_bytes) {
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> current;
  size_t current_bytes = 0;
  for (size_t k = param_bytes.size(); k-- > 0;) {
    current.push_back(k);
    current_bytes += param_bytes[k];
    const size_t cap = buckets.empty() ? first_bucket_cap_bytes : bucket_cap_bytes;
    if (current_bytes >= cap) {  // closed once it reaches the cap, as DDP does
      buckets.push_back(std::move(current));
      current.clear();
      current_bytes = 0;
    }
  }
  if (!current.empty()) buckets.push_back(std::move(current));
  return buckets;
}

}  // namespace cyclr
