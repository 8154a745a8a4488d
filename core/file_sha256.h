// SHA-256 of a file, as lowercase hex (what `sha256sum` prints). The coordinator records the
// digest of a job's TorchScript model file at launch; every worker checks it before training, so
// all ranks train the same model. Uses OpenSSL's libcrypto (a dependency of gRPC).
#pragma once

#include <string>

#include "core/status.h"

namespace cyclr {

// NOT_FOUND when `path` cannot be opened; INTERNAL when reading fails part-way.
StatusOr<std::string> FileSha256(const std::string& path);

}  // namespace cyclr
