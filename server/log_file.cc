#include "server/log_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace cyclr {

StatusOr<std::string> MakeJobFolder(const std::string& work_dir, const std::string& job) {
  std::error_code ec;
  const std::string dir = work_dir + "/jobs/" + job;
  std::filesystem::create_directories(dir, ec);
  for (const std::string& d : {work_dir + "/jobs", dir}) {
    if (!ec) std::filesystem::permissions(d, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    return Status::FailedPrecondition("cannot create the job folder under " + work_dir + ": " +
                                      ec.message());
  }
  return dir;
}

std::string LastLinesOf(const std::string& text, int lines) {
  std::vector<std::string> kept;
  size_t end = text.size();
  while (end > 0 && static_cast<int>(kept.size()) < lines) {
    size_t nl = text.rfind('\n', end - 1);
    size_t begin = nl == std::string::npos ? 0 : nl + 1;
    std::string line = text.substr(begin, end - begin);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    if (!line.empty()) kept.insert(kept.begin(), line);
    if (nl == std::string::npos) break;
    end = nl;
  }
  std::string out;
  for (const auto& l : kept) out += (out.empty() ? "" : " | ") + l;
  return out;
}

std::string LastLines(const std::string& path, int lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = size > 4096 ? size - 4096 : 0;
  in.seekg(start);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return LastLinesOf(tail, lines);
}

StatusOr<LogChunk> ReadLogFile(const std::string& path, int64_t offset, int max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound("no log yet at " + path);
    return Status::FailedPrecondition("cannot read " + path + ": " + std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  LogChunk chunk;
  chunk.source = path;
  chunk.size = static_cast<int64_t>(in.tellg());
  chunk.offset = offset < 0 ? std::max<int64_t>(0, chunk.size + offset)
                            : std::min<int64_t>(offset, chunk.size);
  const int64_t n = std::min<int64_t>(std::max(max_bytes, 0), chunk.size - chunk.offset);
  chunk.data.resize(static_cast<size_t>(n));
  in.seekg(chunk.offset);
  in.read(chunk.data.data(), n);
  chunk.data.resize(static_cast<size_t>(in.gcount()));
  return chunk;
}

}  // namespace cyclr
