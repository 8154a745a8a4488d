// TextTable: left-aligned columns separated by two spaces, for the CLI's `table` output.
#pragma once

#include <string>
#include <vector>

namespace cyclr::client {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);

  // REQUIRES: cells.size() == the header's size.
  void AddRow(std::vector<std::string> cells);

  // Header then rows, each line ending in '\n'; trailing spaces trimmed.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// Formats with printf's %.*g: "0.004213" for (0.0042131, 4).
std::string FormatG(double v, int digits);
// %.17g: enough digits that parsing the text gives back the same double.
std::string FormatExact(double v);

}  // namespace cyclr::client
