// ShmSegment: one POSIX shared-memory object (shm_open + mmap), created by the rank that owns
// it or opened by a peer on the same host. RAII: the destructor unmaps it and, for the owner,
// removes the name (shm_unlink) if nobody did yet.
//
// The name should be removed as soon as every peer has mapped the object (Unlink()): mappings
// stay valid, and a process killed afterwards leaves nothing behind in /dev/shm.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"

namespace cyclr {

class ShmSegment {
 public:
  // Creates `name` ("/..." as shm_open wants) exclusively, reserves `size` bytes (zeroed) and maps
  // them. ALREADY_EXISTS if the name is taken; RESOURCE_EXHAUSTED when /dev/shm is too small
  // (checked here, so a full /dev/shm is an error and not a SIGBUS later).
  static StatusOr<std::unique_ptr<ShmSegment>> Create(const std::string& name, size_t size);
  // Maps an existing object. NOT_FOUND if there is none; FAILED_PRECONDITION if it is smaller
  // than `size`.
  static StatusOr<std::unique_ptr<ShmSegment>> Open(const std::string& name, size_t size);

  ~ShmSegment();
  ShmSegment(const ShmSegment&) = delete;
  ShmSegment& operator=(const ShmSegment&) = delete;

  // Removes the name from /dev/shm (ENOENT is fine: a peer may have done it). The mapping stays.
  Status Unlink();

  char* data() const { return static_cast<char*>(data_); }
  size_t size() const { return size_; }
  const std::string& name() const { return name_; }

 private:
  ShmSegment(std::string name, void* data, size_t size, bool owner);

  const std::string name_;
  void* const data_;
  const size_t size_;
  const bool owner_;
  bool unlinked_ = false;
};

// Unlinks `name` ignoring ENOENT; for names of peers' segments.
Status UnlinkShmName(const std::string& name);

}  // namespace cyclr
