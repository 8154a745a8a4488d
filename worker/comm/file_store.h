// FileStore: a Store in a folder that every rank can read (a local or shared file system), for
// runs without a coordinator (the worker's --standalone mode, benchmarks). One file per key,
// written to a temporary name and renamed, so a reader never sees half a value; Get() polls.
// Thread- and process-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "worker/comm/store.h"

namespace cyclr {

class FileStore : public Store {
 public:
  // Creates `dir` if needed. `poll` is how often Get() looks for missing keys.
  explicit FileStore(std::string dir,
                     std::chrono::milliseconds poll = std::chrono::milliseconds(10));

  Status Set(const std::string& key, const std::string& value) override;
  StatusOr<std::vector<std::string>> Get(const std::vector<std::string>& keys,
                                         std::chrono::milliseconds timeout) override;

 private:
  std::string PathOf(const std::string& key) const;  // keys are hex-encoded into file names

  const std::string dir_;
  const std::chrono::milliseconds poll_;
};

}  // namespace cyclr
