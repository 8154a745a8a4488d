// SafeFile: how a worker writes files into folders a job spec names (checkpoints, model.pt), and
// the coordinator a Slurm job's files, so that whoever else can write there cannot redirect or
// replace what is written.
//
// - Folders it creates are 0700; files it creates are 0600.
// - A file is written to a new temporary file in the same folder — a random name, created with
//   O_CREAT|O_EXCL|O_NOFOLLOW, so a planted file or symlink (the "ckpt-*.pt.tmp" pointing
//   at a root-only file) makes the open fail instead of being followed — then fsync'd, renamed
//   over the final name (rename replaces a planted link itself, it never writes through it), and
//   the folder fsync'd. On any failure the temporary file is removed.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"

namespace cyclr {

// Creates `dir` and any missing parents, each new one 0700. OK if it exists as a folder.
Status MakePrivateDirs(const std::string& dir);

// Writes `path` atomically as above; `write` gets the temporary file's descriptor and returns
// whether all its bytes were written.
Status WriteFileAtomically(const std::string& path, const std::function<bool(int fd)>& write);
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// Writes all of `n` bytes to `fd` (retrying short writes and EINTR).
bool WriteAll(int fd, const void* data, size_t n);

// Whether `path` is a regular file (not a symlink) owned by this process's user: the only kind
// a worker deletes when it prunes old checkpoints.
bool IsOwnRegularFile(const std::string& path);

}  // namespace cyclr
