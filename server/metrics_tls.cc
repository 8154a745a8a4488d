#include "server/metrics_tls.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/safe_file.h"

namespace cyclr {
namespace {

bool Contains(const std::string& text, const char* what) {
  return text.find(what) != std::string::npos;
}

}  // namespace

StatusOr<KeyCertPem> ReadKeyCertPem(const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return Status::InvalidArgument(files.cert_flag + " and " + files.key_flag +
                                   " go together: give both");
  }
  KeyCertPem pem;
  CYCLR_ASSIGN_OR_RETURN(pem.cert, ReadPemFile(files.cert, files.cert_flag));
  CYCLR_ASSIGN_OR_RETURN(pem.key, ReadPemFile(files.key, files.key_flag));
  if (!Contains(pem.cert, "-----BEGIN CERTIFICATE-----")) {
    return Status::InvalidArgument(
        files.cert_flag + " " + files.cert +
        " is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)");
  }
  if (!Contains(pem.key, "PRIVATE KEY-----")) {
    return Status::InvalidArgument(files.key_flag + " " + files.key +
                                   " is not a PEM private key (no -----BEGIN ...PRIVATE KEY----- "
                                   "line)");
  }
  if (Contains(pem.key, "ENCRYPTED PRIVATE KEY-----") ||
      Contains(pem.key, "Proc-Type: 4,ENCRYPTED")) {
    return Status::InvalidArgument(files.key_flag + " " + files.key +
                                   " is encrypted: give the key without a passphrase (e.g. "
                                   "openssl pkey -in KEY -out PLAIN)");
  }
  if (pem.key.back() != '\n') pem.key += '\n';  // the chain's BEGIN line must start a line
  return pem;
}

Status LoadCivetWebSsl() {
  static const std::string error = [] {  // "" once loaded
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string path = (exe.parent_path() / "libcyclr_civetweb_ssl.so").string();
    if (::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) != nullptr) return std::string();
    return "metrics TLS: cannot load " + path +
           " (built and installed next to this binary): " + ::dlerror();
  }();
  return error.empty() ? Status::Ok() : Status::Unavailable(error);
}

StatusOr<std::unique_ptr<TempKeyCertFile>> TempKeyCertFile::Write(const KeyCertPem& pem) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/cyclr-metrics-tls-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {  // mode 0700
    return Status::Unavailable("metrics TLS: cannot create a folder " + pattern + ": " +
                               std::strerror(errno));
  }
  std::unique_ptr<TempKeyCertFile> file(new TempKeyCertFile(buf.data()));
  int fd = ::open(file->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::Unavailable("metrics TLS: cannot create " + file->path_ + ": " +
                               std::strerror(errno));
  }
  bool written = WriteAll(fd, pem.key.data(), pem.key.size()) &&
                 WriteAll(fd, pem.cert.data(), pem.cert.size());
  int error = written ? 0 : errno;
  if (::close(fd) != 0 && written) written = false, error = errno;
  if (!written) {
    return Status::Unavailable("metrics TLS: cannot write " + file->path_ + ": " +
                               std::strerror(error));
  }
  return file;
}

TempKeyCertFile::~TempKeyCertFile() {
  ::unlink(path_.c_str());  // ENOENT when Write() failed before creating it
  ::rmdir(dir_.c_str());
}

}  // namespace cyclr
