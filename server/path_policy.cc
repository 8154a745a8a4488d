#include "server/path_policy.h"

#include <filesystem>

#include "core/limits.h"

namespace cyclr {
namespace {

namespace fs = std::filesystem;

std::string Canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::path(path).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Whether `path` is `prefix` or lies below it (by whole components).
bool Under(const std::string& path, const std::string& prefix) {
  if (prefix == "/") return true;
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            path[prefix.size()] == '/');
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

PathPolicy::PathPolicy(const std::vector<std::string>& write,
                       const std::vector<std::string>& read_only) {
  for (const std::string& w : write) write_.push_back(Canonical(w));
  read_ = write_;
  for (const std::string& r : read_only) read_.push_back(Canonical(r));
}

Status PathPolicy::CheckOne(const std::string& field, const std::string& path, bool write) const {
  if (path.empty()) return Status::Ok();
  if (path[0] != '/') {
    return Status::InvalidArgument(field + " (" + limits::Echo(path) +
                                   ") must be an absolute path (cyclrctl makes relative ones "
                                   "absolute)");
  }
  const std::string resolved = Canonical(path);
  const std::vector<std::string>& allowed = write ? write_ : read_;
  for (const std::string& prefix : allowed) {
    if (Under(resolved, prefix)) return Status::Ok();
  }
  return Status::PermissionDenied(field + " (" + limits::Echo(path) +
                                  ") is outside the folders this coordinator lets jobs " +
                                  (write ? "write" : "read") + ": " + Join(allowed) +
                                  " (the coordinator's --allow-path-prefix adds more)");
}

Status PathPolicy::Check(const v1::JobSpec& spec) const {
  CYCLR_RETURN_IF_ERROR(CheckOne("checkpoint_dir", spec.checkpoint_dir(), true));
  CYCLR_RETURN_IF_ERROR(CheckOne("output_dir", spec.output_dir(), true));
  // The default data_dir (the Debian dataset) is filled in by NormalizeJobSpec.
  CYCLR_RETURN_IF_ERROR(CheckOne("data_dir", spec.data_dir(), false));
  CYCLR_RETURN_IF_ERROR(CheckOne("model_file", spec.model_file(), false));
  CYCLR_RETURN_IF_ERROR(CheckOne("init_from", spec.init_from(), false));
  return CheckOne("resume_from", spec.resume_from(), false);
}

}  // namespace cyclr
