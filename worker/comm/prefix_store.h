// PrefixStore: namespaces another Store's keys ("<prefix>/<key>"), so several communicators (or
// several incarnations of a job) can rendezvous through one store without colliding.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "worker/comm/store.h"

namespace cyclr {

class PrefixStore : public Store {
 public:
  // REQUIRES: base != nullptr.
  PrefixStore(std::string prefix, std::shared_ptr<Store> base);

  Status Set(const std::string& key, const std::string& value) override;
  StatusOr<std::vector<std::string>> Get(const std::vector<std::string>& keys,
                                         std::chrono::milliseconds timeout) override;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string Join(const std::string& key) const;

  const std::string prefix_;
  const std::shared_ptr<Store> base_;
};

}  // namespace cyclr
