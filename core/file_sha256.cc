#include "core/file_sha256.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

namespace cyclr {

StatusOr<std::string> FileSha256(const std::string& path, int64_t max_bytes) {
  // Only regular files of bounded size: a path from a request may name a device or a FIFO
  // (/dev/zero never ends) or a file too large to hash within an RPC.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(path + ": no such file");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  if (st.st_size > max_bytes) {
    return Status::InvalidArgument(path + ": " + std::to_string(st.st_size) +
                                   " bytes, more than the " + std::to_string(max_bytes) +
                                   " a model file may have");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": not readable");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("SHA-256 is not available from libcrypto");
  }
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (!in.eof()) return Status::Internal(path + ": read failed while hashing");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Hex(digest, sizeof digest);
}

StatusOr<std::string> RandomHex(int n) {
  std::vector<unsigned char> buf(static_cast<size_t>(n));
  if (RAND_bytes(buf.data(), n) != 1) return Status::Internal("no random bytes from libcrypto");
  return Hex(buf.data(), buf.size());
}

}  // namespace cyclr
