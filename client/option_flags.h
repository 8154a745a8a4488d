// OptionFlags: a set of command-line flags captured as text, one per snake_case option name.
//
// Option `base_lr` becomes the flag `--base-lr TEXT`; options named as booleans become flags that
// take an optional value (`--three-phase` = true, `--three-phase=false`). Values are kept as
// written, so core's parsers (and their error messages) apply to flags, files and the wire alike.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "client/option_file.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cyclr::client {

class OptionFlags {
 public:
  // `help` gives each option's help text (options missing from it get none); `group` titles the
  // flags in --help.
  OptionFlags(std::vector<std::string> names, std::set<std::string> bool_names,
              std::map<std::string, std::string> help, std::string group);
  OptionFlags(const OptionFlags&) = delete;
  OptionFlags& operator=(const OptionFlags&) = delete;

  // Adds one flag per option to `app`. REQUIRES: called once; `this` outlives the parse.
  void AddTo(CLI::App* app);

  // After parsing: the options given on the command line, snake_case name -> text.
  OptionMap Given() const;

  const std::vector<std::string>& names() const { return names_; }

  // "base_lr" -> "base-lr".
  static std::string Kebab(const std::string& snake);

 private:
  struct Flag {
    std::string name;
    std::string value;
    CLI::Option* option = nullptr;
  };
  std::vector<std::string> names_;
  std::set<std::string> bool_names_;
  std::map<std::string, std::string> help_;
  std::string group_;
  std::deque<Flag> flags_;  // deque: stable addresses for CLI11's bindings
};

}  // namespace cyclr::client
