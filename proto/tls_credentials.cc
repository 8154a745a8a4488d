#include "proto/tls_credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cyclr {
namespace {

Status NeedBoth(const TlsFiles& f) {
  if (f.cert.empty() != f.key.empty()) {
    return Status::InvalidArgument(f.cert_flag + " and " + f.key_flag + " go together: give both");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> ReadPemFile(const std::string& path, const std::string& flag) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::InvalidArgument(flag + " " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(kMaxPemBytes)) {
    return Status::InvalidArgument(flag + " " + path + " must be a regular PEM file of at most " +
                                   std::to_string(kMaxPemBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(flag + " " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return Status::InvalidArgument(flag + " " + path + ": cannot be read");
  }
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return Status::InvalidArgument(flag + " " + path + " is not PEM (no -----BEGIN line)");
  }
  return text.str();
}

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const TlsFiles& f) {
  CYCLR_RETURN_IF_ERROR(NeedBoth(f));
  if (!f.enabled()) return grpc::InsecureChannelCredentials();
  if (f.ca.empty()) {
    return Status::InvalidArgument(f.cert_flag + " needs " + f.ca_flag +
                                   " (the CA that signed the coordinator's certificate)");
  }
  grpc::SslCredentialsOptions o;
  CYCLR_ASSIGN_OR_RETURN(o.pem_root_certs, ReadPemFile(f.ca, f.ca_flag));
  if (!f.cert.empty()) {
    CYCLR_ASSIGN_OR_RETURN(o.pem_cert_chain, ReadPemFile(f.cert, f.cert_flag));
    CYCLR_ASSIGN_OR_RETURN(o.pem_private_key, ReadPemFile(f.key, f.key_flag));
  }
  return grpc::SslCredentials(o);
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& f) {
  CYCLR_RETURN_IF_ERROR(NeedBoth(f));
  if (f.cert.empty()) {
    if (!f.ca.empty()) {
      return Status::InvalidArgument(f.ca_flag + " needs " + f.cert_flag + " and " + f.key_flag);
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions o(
      f.ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                   : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  CYCLR_ASSIGN_OR_RETURN(pair.cert_chain, ReadPemFile(f.cert, f.cert_flag));
  CYCLR_ASSIGN_OR_RETURN(pair.private_key, ReadPemFile(f.key, f.key_flag));
  o.pem_key_cert_pairs.push_back(pair);
  if (!f.ca.empty()) {
    CYCLR_ASSIGN_OR_RETURN(o.pem_root_certs, ReadPemFile(f.ca, f.ca_flag));
  }
  return grpc::SslServerCredentials(o);
}

bool IsLoopbackAddress(const std::string& host_port) {
  std::string host = host_port;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos &&
      host.find(':') == colon) {
    host = host.substr(0, colon);  // "127.0.0.1:7070"
  } else if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') - 1);  // "[::1]:7070"
  }
  if (host == "localhost" || host == "::1") return true;
  return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace cyclr
