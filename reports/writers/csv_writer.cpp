#include <algorithm>

#include "reports/writers/writers.h"

namespace semharness {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_record(const std::vector<std::string>& fields, const std::string& line_end) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
  return line + line_end;
}

std::string render_csv(const ReportDocument& document) {
  std::string out = csv_record({"section", "table", "row", "column", "value", "text"});
  for (const auto& section : document.sections) {
    for (const auto& table : section.tables) {
      const size_t label_columns = std::max<size_t>(1, table.label_columns);
      for (const auto& row : table.rows) {
        std::string row_name;
        for (size_t c = 0; c < label_columns && c < row.size(); ++c) row_name += (c ? " " : "") + row[c].text;
        for (size_t c = label_columns; c < row.size(); ++c) {
          const ReportCell& cell = row[c];
          const std::string column = c < table.header.size() ? table.header[c] : "column " + std::to_string(c);
          if (cell.value)
            out += csv_record({section.id, table.id, row_name, column, format_exact(*cell.value), cell.text});
          for (const auto& [name, value] : cell.details) {
            out += csv_record({section.id, table.id, row_name, column + ":" + name, format_exact(value), cell.text});
          }
        }
      }
    }
  }
  return out;
}

}  // namespace semharness
