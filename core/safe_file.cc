#include "core/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace cyclr {
namespace {

Status Errno(const std::string& what) {
  return Status::Internal(what + ": " + std::strerror(errno));
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^
                                           static_cast<uint64_t>(::getpid()));
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

Status MakePrivateDirs(const std::string& dir) {
  std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  std::filesystem::path built;
  for (const auto& part : p) {
    built /= part;
    if (built.empty() || part == "/") continue;
    if (::mkdir(built.c_str(), 0700) != 0 && errno != EEXIST) return Errno("create " + built.string());
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Errno("create " + dir);
  if (!S_ISDIR(st.st_mode)) return Status::Internal("create " + dir + ": not a folder");
  return Status::Ok();
}

bool WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

Status WriteFileAtomically(const std::string& path, const std::function<bool(int fd)>& write) {
  const std::string tmp = path + ".tmp-" + RandomSuffix();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create " + tmp);
  Status st = write(fd) ? Status::Ok() : Errno("write " + tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync " + tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("rename " + tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("open " + dir);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + dir);
}

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  return WriteFileAtomically(path,
                             [&](int fd) { return WriteAll(fd, bytes.data(), bytes.size()); });
}

bool IsOwnRegularFile(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid();
}

}  // namespace cyclr
