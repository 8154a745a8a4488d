// GlooStoreAdapter: lets Gloo's rendezvous (gloo::rendezvous::Context::connectFullMesh) run over
// any cyclr Store (InMemoryStore in tests, CoordinatorStore in production).
//
// Gloo's store interface reports failure by throwing; this adapter is the edge where cyclr's
// Status becomes a gloo::IoException (GlooCommunicator turns it back into a Status). The
// message keeps the Store's own text, so a timeout still names the missing keys.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gloo/common/error.h>
#include <gloo/rendezvous/store.h>

#include "worker/comm/store.h"

namespace cyclr {

// What the adapter throws: a gloo::IoException (so Gloo treats it as I/O failure) that still
// carries the Store's Status, so CallGloo() can hand back the original code (DEADLINE_EXCEEDED).
struct GlooStoreError : public gloo::IoException {
  explicit GlooStoreError(Status s) : gloo::IoException(s.ToString()), status(std::move(s)) {}
  Status status;
};

class GlooStoreAdapter : public gloo::rendezvous::Store {
 public:
  // `timeout` bounds get() and the one-argument wait(). REQUIRES: store != nullptr.
  GlooStoreAdapter(std::shared_ptr<cyclr::Store> store, std::chrono::milliseconds timeout);

  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys,
            const std::chrono::milliseconds& timeout) override;

 private:
  const std::shared_ptr<cyclr::Store> store_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace cyclr
