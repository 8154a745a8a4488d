#include "client/option_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/limits.h"

namespace cyclr::client {
namespace {

// "FILE: line L: duplicate key "k"" for the first key given twice in one map, at any depth:
// yaml-cpp keeps both entries (lookups see the first, iteration both), so a repeated key would
// otherwise silently win or lose depending on who reads it.
Status CheckKeys(const YAML::Node& node, const std::string& path, int depth) {
  if (depth > limits::kMaxSpecFileDepth) {
    return Status::InvalidArgument(path + ": line " + std::to_string(node.Mark().line + 1) +
                                   ": nested deeper than " +
                                   std::to_string(limits::kMaxSpecFileDepth) + " levels");
  }
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) CYCLR_RETURN_IF_ERROR(CheckKeys(item, path, depth + 1));
  }
  if (!node.IsMap()) return Status::Ok();
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second) {
      return Status::InvalidArgument(path + ": line " + std::to_string(kv.first.Mark().line + 1) +
                                     ": duplicate key " + limits::Echo(kv.first.Scalar()));
    }
    CYCLR_RETURN_IF_ERROR(CheckKeys(kv.second, path, depth + 1));
  }
  return Status::Ok();
}

StatusOr<std::string> ReadSmallFile(const std::string& path) {
  if (path.size() > limits::kMaxPathBytes) {
    return Status::InvalidArgument("file name " + limits::Echo(path) + " is longer than " +
                                   std::to_string(limits::kMaxPathBytes) + " bytes");
  }
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  std::ifstream in(path);
  if (ec || !in) {
    return Status::InvalidArgument("cannot read '" + path + "': no such file or not readable");
  }
  if (size > limits::kMaxSpecFileBytes) {
    return Status::InvalidArgument(path + ": " + std::to_string(size) +
                                   " bytes; a job or spec file must be at most " +
                                   std::to_string(limits::kMaxSpecFileBytes) + " bytes");
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

StatusOr<YAML::Node> LoadYamlFile(const std::string& path) {
  CYCLR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  return ParseYamlText(text, path);
}

StatusOr<YAML::Node> ParseYamlText(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp counts lines and columns from 0.
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) {
    return Status::InvalidArgument("'" + path + "' must hold a mapping of option names to values");
  }
  CYCLR_RETURN_IF_ERROR(CheckKeys(root, path, 0));
  return root;
}

StatusOr<OptionMap> ScalarOptions(const YAML::Node& node, const std::string& where,
                                  const std::vector<std::string>& known,
                                  const std::vector<std::string>& skip, bool any_key) {
  if (!node.IsMap())
    return Status::InvalidArgument(where + " must be a mapping of names to values");
  OptionMap out;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      return Status::InvalidArgument(where + " has a key that is not a name");
    std::string key = kv.first.Scalar();
    if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    const std::string option = "option " + limits::Echo(key) + " in " + where;
    if (!any_key && std::find(known.begin(), known.end(), key) == known.end()) {
      return Status::InvalidArgument(option + " is unknown; expected one of " + JoinNames(known));
    }
    if (kv.second.IsNull()) return Status::InvalidArgument(option + " has no value");
    if (!kv.second.IsScalar()) {
      return Status::InvalidArgument(option + " must have a single value");
    }
    out[key] = kv.second.Scalar();
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

OptionMap Merge(OptionMap base, const OptionMap& overlay) {
  for (const auto& [k, v] : overlay) base[k] = v;
  return base;
}

}  // namespace cyclr::client
