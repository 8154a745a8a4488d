// The files behind HTTPS on /metrics (--metrics-tls-cert, --metrics-tls-key).
//
// CivetWeb (inside prometheus-cpp's Exposer) takes ONE PEM file holding both the private key and
// the certificate chain (its ssl_certificate option); our flags name two, like gRPC's. So the
// coordinator reads both, writes key + chain into a file of its own that only it can read, lets
// CivetWeb load it at start, and removes it at once: the key then lives in the process only.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "proto/tls_credentials.h"

namespace cyclr {

struct KeyCertPem {
  std::string key;   // the private key (PEM)
  std::string cert;  // the certificate chain (PEM)
};

// Reads files.cert and files.key, which go together (one without the other is INVALID_ARGUMENT
// "--metrics-tls-cert and --metrics-tls-key go together: give both"). Each must be a regular file
// of at most kMaxPemBytes; the certificate file must hold a CERTIFICATE block, the key file an
// unencrypted PRIVATE KEY block (with an encrypted one OpenSSL would ask for a passphrase on the
// terminal). Errors are INVALID_ARGUMENT naming the flag (files.cert_flag, files.key_flag) and the
// file:
// "--metrics-tls-key /x.pem: No such file or directory".
StatusOr<KeyCertPem> ReadKeyCertPem(const TlsFiles& files);

// Loads libcyclr_civetweb_ssl.so from the folder of this executable (once; it stays loaded), so
// that CivetWeb's dlopen("libssl.so") finds it: without it CivetWeb 1.15 crashes at the first
// TLS handshake on OpenSSL 3 (civetweb_ssl_shim.cc). UNAVAILABLE naming the file if it cannot.
Status LoadCivetWebSsl();

// A file holding key + chain, created exclusively (O_EXCL, mode 0600) in a new folder of mode
// 0700 (mkdtemp under $TMPDIR, else /tmp). The destructor removes the file and the folder.
class TempKeyCertFile {
 public:
  // UNAVAILABLE (with the path and errno's text) when the folder or the file cannot be written.
  static StatusOr<std::unique_ptr<TempKeyCertFile>> Write(const KeyCertPem& pem);
  ~TempKeyCertFile();
  TempKeyCertFile(const TempKeyCertFile&) = delete;
  TempKeyCertFile& operator=(const TempKeyCertFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit TempKeyCertFile(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/key-cert.pem") {}

  std::string dir_;
  std::string path_;
};

}  // namespace cyclr
