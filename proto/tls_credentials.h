// TlsCredentials: gRPC's channel and server credentials from PEM files — one place for the
// coordinator, its workers and cyclrctl.
//
// A client with an empty `ca` talks plaintext; with `ca` it verifies the coordinator's certificate
// against it (the certificate must name the host it is reached by, e.g. SAN IP:127.0.0.1), and with
// `cert` + `key` it also presents its own (mutual TLS). A server with `cert` + `key` serves TLS;
// with `client_ca` it also requires and verifies a client certificate.
//
// Files are read whole (regular files of at most kMaxPemBytes); every error names the flag and
// the file: "--tls-ca /x.pem: No such file or directory".
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace cyclr {

inline constexpr size_t kMaxPemBytes = 1 << 20;

// A PEM file read whole: a regular file of at most kMaxPemBytes with a -----BEGIN line, else
// INVALID_ARGUMENT naming `flag` and the path.
StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& flag);

struct TlsFiles {
  std::string ca;    // client: the CA to trust; server: the CA of client certificates (mTLS)
  std::string cert;  // own certificate chain (PEM)
  std::string key;   // own private key (PEM)
  // The flag names used in errors (the CLI, the worker and the coordinator call them differently).
  std::string ca_flag = "--tls-ca", cert_flag = "--tls-cert", key_flag = "--tls-key";
  bool enabled() const { return !ca.empty() || !cert.empty(); }
};

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const TlsFiles& files);
StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& files);

// Whether HOST:PORT's host is a loopback address (127.0.0.0/8, ::1, localhost): the only places
// the coordinator listens on without TLS unless told --insecure.
bool IsLoopbackAddress(const std::string& host_port);

}  // namespace cyclr
