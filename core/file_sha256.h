// SHA-256 of a file, as lowercase hex (what `sha256sum` prints). The coordinator records the
// digest of a job's TorchScript model file at launch; every worker checks it before training, so
// all ranks train the same model. Uses OpenSSL's libcrypto (a dependency of gRPC).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace cyclr {

// The largest model file hashed (and so launched): 4 GiB.
inline constexpr int64_t kMaxModelFileBytes = int64_t{4} << 30;

// NOT_FOUND when `path` does not exist or cannot be opened; INVALID_ARGUMENT when it is not a
// regular file or is larger than `max_bytes`; INTERNAL when reading fails part-way.
StatusOr<std::string> FileSha256(const std::string& path,
                                 int64_t max_bytes = kMaxModelFileBytes);

// SHA-256 of `bytes` as lowercase hex (tokens are stored by their digest).
std::string Sha256Hex(const std::string& bytes);

// `n` bytes from the OS's CSPRNG (OpenSSL RAND_bytes) as lowercase hex; INTERNAL if it fails.
StatusOr<std::string> RandomHex(int n);

}  // namespace cyclr
