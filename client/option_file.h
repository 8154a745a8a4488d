// Option files: YAML (or JSON, which YAML reads too) maps of option name -> scalar text.
//
// The CLI turns `--spec FILE` and `launch -f FILE` into the same name -> text maps that its flags
// produce, so that core's one parser and validator sees every value the same way.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr::client {

// snake_case option name -> the value's text, as written.
using OptionMap = std::map<std::string, std::string>;

// Parses `path` as YAML/JSON. INVALID_ARGUMENT names the file (and line:column for syntax errors);
// refused: a file over limits::kMaxSpecFileBytes, one that is not a mapping at the top level, a
// key given twice in one map at any depth ("job.yaml: line 3: duplicate key \"epochs\""), nesting
// deeper than limits::kMaxSpecFileDepth.
StatusOr<YAML::Node> LoadYamlFile(const std::string& path);
// The same checks for text already in memory (`path` names it in errors). A plain function of
// bytes, for the fuzz targets.
StatusOr<YAML::Node> ParseYamlText(const std::string& text, const std::string& path);

// Reads the mapping `node` whose keys must all be in `known` and whose values must be scalars;
// keys listed in `skip` are ignored here (e.g. a nested `schedule:` map read separately).
// `where` names the source in errors: "option 'foo' in job.yaml is unknown; expected one of ...".
// `any_key`: every key is accepted (a map of labels).
StatusOr<OptionMap> ScalarOptions(const YAML::Node& node, const std::string& where,
                                  const std::vector<std::string>& known,
                                  const std::vector<std::string>& skip = {}, bool any_key = false);

// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);

// `overlay`'s entries replace `base`'s.
OptionMap Merge(OptionMap base, const OptionMap& overlay);

}  // namespace cyclr::client
