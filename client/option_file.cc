#include "client/option_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace cyclr::client {

StatusOr<YAML::Node> LoadYamlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read '" + path + "': no such file or not readable");
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    // yaml-cpp counts lines and columns from 0.
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) {
    return Status::InvalidArgument("'" + path + "' must hold a mapping of option names to values");
  }
  return root;
}

StatusOr<OptionMap> ScalarOptions(const YAML::Node& node, const std::string& where,
                                  const std::vector<std::string>& known,
                                  const std::vector<std::string>& skip) {
  if (!node.IsMap()) return Status::InvalidArgument(where + " must be a mapping of names to values");
  OptionMap out;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return Status::InvalidArgument(where + " has a key that is not a name");
    std::string key = kv.first.Scalar();
    if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Status::InvalidArgument("option '" + key + "' in " + where +
                                     " is unknown; expected one of " + JoinNames(known));
    }
    if (kv.second.IsNull()) {
      return Status::InvalidArgument("option '" + key + "' in " + where + " has no value");
    }
    if (!kv.second.IsScalar()) {
      return Status::InvalidArgument("option '" + key + "' in " + where + " must have a single value");
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
