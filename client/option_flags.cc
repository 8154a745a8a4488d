#include "client/option_flags.h"

#include <CLI/CLI.hpp>

namespace cyclr::client {

OptionFlags::OptionFlags(std::vector<std::string> names, std::set<std::string> bool_names,
                         std::map<std::string, std::string> help, std::string group)
    : names_(std::move(names)),
      bool_names_(std::move(bool_names)),
      help_(std::move(help)),
      group_(std::move(group)) {}

std::string OptionFlags::Kebab(const std::string& snake) {
  std::string out = snake;
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  return out;
}

void OptionFlags::AddTo(CLI::App* app) {
  for (const std::string& name : names_) {
    flags_.push_back(Flag{name, "", nullptr});
    Flag& f = flags_.back();
    std::string flag = "--" + Kebab(name);
    auto help = help_.find(name);
    std::string text = help == help_.end() ? "" : help->second;
    if (bool_names_.count(name)) {
      f.option = app->add_flag(flag, f.value, text);
    } else {
      f.option = app->add_option(flag, f.value, text);
    }
    f.option->group(group_);
  }
}

OptionMap OptionFlags::Given() const {
  OptionMap out;
  for (const Flag& f : flags_) {
    if (f.option != nullptr && f.option->count() > 0) out[f.name] = f.value;
  }
  return out;
}

}  // namespace cyclr::client
