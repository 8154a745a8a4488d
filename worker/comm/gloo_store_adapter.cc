#include "worker/comm/gloo_store_adapter.h"

#include <utility>


namespace cyclr {
namespace {

[[noreturn]] void ThrowStatus(const Status& status, const char* what) {
  throw GlooStoreError(status.WithContext(std::string("rendezvous store ") + what));
}

}  // namespace

GlooStoreAdapter::GlooStoreAdapter(std::shared_ptr<cyclr::Store> store,
                                   std::chrono::milliseconds timeout)
    : store_(std::move(store)), timeout_(timeout) {
  CYCLR_CHECK(store_ != nullptr);
}

void GlooStoreAdapter::set(const std::string& key, const std::vector<char>& data) {
  Status s = store_->Set(key, std::string(data.begin(), data.end()));
  if (!s.ok()) ThrowStatus(s, "set");
}

std::vector<char> GlooStoreAdapter::get(const std::string& key) {
  auto values = store_->Get({key}, timeout_);
  if (!values.ok()) ThrowStatus(values.status(), "get");
  const std::string& v = values->front();
  return std::vector<char>(v.begin(), v.end());
}

void GlooStoreAdapter::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void GlooStoreAdapter::wait(const std::vector<std::string>& keys,
                            const std::chrono::milliseconds& timeout) {
  // gloo passes kNoTimeout (0 ms) to mean "forever"; we never wait forever.
  const auto bound = timeout.count() > 0 ? timeout : timeout_;
  auto values = store_->Get(keys, bound);
  if (!values.ok()) ThrowStatus(values.status(), "wait");
}

}  // namespace cyclr
