#include <fmt/format.h>

#include "reports/writers/writers.h"

namespace semharness {
namespace {

// Characters Markdown would read as markup, and the table separator.
std::string escape_markdown(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '>' || c == '[' || c == ']') {
      out += '\\';
    }
    if (c == '\n') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

std::string cell_markdown(const ReportCell& cell) {
  const std::string text = escape_markdown(cell.text);
  return cell.best && !text.empty() ? "**" + text + "**" : text;
}

std::string table_row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const auto& cell : cells) line += " " + cell + " |";
  return line + "\n";
}

}  // namespace

std::string render_markdown(const ReportDocument& document) {
  std::string out;
  if (!document.title.empty()) out += "# " + escape_markdown(document.title) + "\n";
  for (const auto& section : document.sections) {
    out += "\n## " + escape_markdown(section.title) + "\n\n";
    for (const auto& paragraph : section.paragraphs) out += escape_markdown(paragraph) + "\n\n";
    for (const auto& table : section.tables) {
      if (!table.title.empty()) out += "**" + escape_markdown(table.title) + "**\n\n";
      // Markdown tables have one header line: the subheader goes under each column name.
      std::vector<std::string> header, rule;
      for (size_t c = 0; c < table.header.size(); ++c) {
        std::string name = escape_markdown(table.header[c]);
        if (c < table.subheader.size() && !table.subheader[c].empty()) {
          name += "<br>_" + escape_markdown(table.subheader[c]) + "_";
        }
        header.push_back(name);
        rule.push_back(c < table.label_columns ? ":---" : "---:");
      }
      out += table_row(header) + table_row(rule);
      for (const auto& row : table.rows) {
        std::vector<std::string> cells;
        for (const auto& cell : row) cells.push_back(cell_markdown(cell));
        while (cells.size() < header.size()) cells.emplace_back();
        out += table_row(cells);
      }
      out += "\n";
      for (const auto& note : table.notes) out += "_" + escape_markdown(note) + "_\n\n";
    }
    for (const auto& plot : section.plots) {
      out += fmt::format("_Plot: {} (drawn in report.html and report.tex)._\n\n", escape_markdown(plot.title));
    }
  }
  return out;
}

}  // namespace semharness
