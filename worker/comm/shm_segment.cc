#include "worker/comm/shm_segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cyclr {
namespace {

std::string Errno(const char* call, const std::string& name, int err) {
  return std::string(call) + "(" + name + "): " + std::strerror(err);
}

StatusOr<void*> MapFd(int fd, const std::string& name, size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::Internal(Errno("mmap", name, errno));
  return p;
}

}  // namespace

ShmSegment::ShmSegment(std::string name, void* data, size_t size, bool owner)
    : name_(std::move(name)), data_(data), size_(size), owner_(owner) {}

ShmSegment::~ShmSegment() {
  munmap(data_, size_);
  if (owner_ && !unlinked_) UnlinkShmName(name_);
}

StatusOr<std::unique_ptr<ShmSegment>> ShmSegment::Create(const std::string& name, size_t size) {
  const int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) return Status::AlreadyExists(Errno("shm_open", name, err));
    return Status::Unavailable(Errno("shm_open", name, err));
  }
  // posix_fallocate makes tmpfs reserve the pages now; ftruncate alone would SIGBUS on first
  // touch of a full /dev/shm.
  int err = posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err != 0) {
    close(fd);
    shm_unlink(name.c_str());
    return Status::ResourceExhausted(Errno("posix_fallocate", name, err) + " (" +
                                     std::to_string(size) + " bytes; is /dev/shm full?)");
  }
  auto mapped = MapFd(fd, name, size);
  close(fd);
  if (!mapped.ok()) {
    shm_unlink(name.c_str());
    return mapped.status();
  }
  return std::unique_ptr<ShmSegment>(new ShmSegment(name, *mapped, size, /*owner=*/true));
}

StatusOr<std::unique_ptr<ShmSegment>> ShmSegment::Open(const std::string& name, size_t size) {
  const int fd = shm_open(name.c_str(), O_RDWR, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(Errno("shm_open", name, err));
    return Status::Unavailable(Errno("shm_open", name, err));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < size) {
    close(fd);
    return Status::FailedPrecondition("shared memory " + name + " has " +
                                      std::to_string(st.st_size) + " bytes, expected " +
                                      std::to_string(size));
  }
  auto mapped = MapFd(fd, name, size);
  close(fd);
  if (!mapped.ok()) return mapped.status();
  return std::unique_ptr<ShmSegment>(new ShmSegment(name, *mapped, size, /*owner=*/false));
}

Status ShmSegment::Unlink() {
  Status s = UnlinkShmName(name_);
  if (s.ok()) unlinked_ = true;
  return s;
}

Status UnlinkShmName(const std::string& name) {
  if (shm_unlink(name.c_str()) != 0 && errno != ENOENT) {
    return Status::Internal(Errno("shm_unlink", name, errno));
  }
  return Status::Ok();
}

}  // namespace cyclr
