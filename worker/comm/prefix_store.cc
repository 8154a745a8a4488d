#include "worker/comm/prefix_store.h"

#include <utility>

namespace cyclr {

PrefixStore::PrefixStore(std::string prefix, std::shared_ptr<Store> base)
    : prefix_(std::move(prefix)), base_(std::move(base)) {
  CYCLR_CHECK(base_ != nullptr);
}

std::string PrefixStore::Join(const std::string& key) const {
  return prefix_.empty() ? key : prefix_ + "/" + key;
}

Status PrefixStore::Set(const std::string& key, const std::string& value) {
  return base_->Set(Join(key), value);
}

StatusOr<std::vector<std::string>> PrefixStore::Get(const std::vector<std::string>& keys,
                                                    std::chrono::milliseconds timeout) {
  std::vector<std::string> full;
  full.reserve(keys.size());
  for (const auto& k : keys) full.push_back(Join(k));
  return base_->Get(full, timeout);
}

}  // namespace cyclr
