// Worker log files and job folders on the coordinator's disk, shared by the launchers that keep
// their workers' output in files (LocalLauncher; SlurmLauncher, whose tasks write to a folder
// the nodes share).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "server/launcher.h"

namespace cyclr {

// <work_dir>/jobs/<job>, created with its parent as 0700 (logs and credentials may tell what a
// job's data or errors reveal: only the coordinator's user reads them). Not --work-dir itself:
// it may be a shared folder whose mode someone else owns. FAILED_PRECONDITION when it cannot be
// made.
StatusOr<std::string> MakeJobFolder(const std::string& work_dir, const std::string& job);

// The last `lines` non-empty lines of `text` (trailing blanks cut), joined by " | ".
std::string LastLinesOf(const std::string& text, int lines);
// LastLinesOf the file's last 4 KiB ("" when the file cannot be read).
std::string LastLines(const std::string& path, int lines);

// Launcher::ReadLog of a file: at most `max_bytes` from `offset` (negative: from that many bytes
// before the end). NOT_FOUND when the file does not exist.
StatusOr<LogChunk> ReadLogFile(const std::string& path, int64_t offset, int max_bytes);

}  // namespace cyclr
