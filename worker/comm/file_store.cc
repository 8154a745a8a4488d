#include "worker/comm/file_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "worker/comm/in_memory_store.h"

namespace cyclr {

FileStore::FileStore(std::string dir, std::chrono::milliseconds poll)
    : dir_(std::move(dir)), poll_(poll) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

std::string FileStore::PathOf(const std::string& key) const {
  static const char* kHex = "0123456789abcdef";
  std::string name;
  for (unsigned char c : key) {
    name += kHex[c >> 4];
    name += kHex[c & 15];
  }
  return dir_ + "/" + name;
}

Status FileStore::Set(const std::string& key, const std::string& value) {
  if (key.empty()) return Status::InvalidArgument("store key must not be empty");
  const std::string path = PathOf(key);
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." +
                          std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << value;
    if (!out) return Status::Internal("file store: cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("file store: cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

StatusOr<std::vector<std::string>> FileStore::Get(const std::vector<std::string>& keys,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<std::string> missing;
    for (const auto& k : keys) {
      if (!std::filesystem::exists(PathOf(k))) missing.push_back(k);
    }
    if (missing.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("store keys still missing after " +
                                      std::to_string(timeout.count()) + " ms in " + dir_ + ": " +
                                      JoinKeys(missing));
    }
    std::this_thread::sleep_for(poll_);
  }
  std::vector<std::string> values;
  for (const auto& k : keys) {
    std::ifstream in(PathOf(k), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    values.push_back(ss.str());
  }
  return values;
}

}  // namespace cyclr
