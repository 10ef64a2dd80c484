#include "reports/text_table.h"

#include <algorithm>
#include <sstream>

namespace semharness {

size_t display_width(const std::string& s) {
  // Count UTF-8 lead bytes: every byte that is not a continuation byte (10xxxxxx) starts a character.
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string wrap_text(const std::string& text, size_t width, const std::string& first_indent,
                      const std::string& indent) {
  std::istringstream words(text);
  std::string word, out, line = first_indent;
  bool has_word = false;
  while (words >> word) {
    if (has_word && display_width(line) + 1 + display_width(word) > width) {
      out += line + "\n";
      line = indent;
      has_word = false;
    }
    line += has_word ? " " + word : word;
    has_word = true;
  }
  if (has_word) out += line + "\n";
  return out;
}

std::string format_aligned(const std::vector<std::vector<std::string>>& rows, size_t left_columns) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string padding(widths[c] - display_width(row[c]), ' ');
      if (c > 0) line += "  ";
      line += c < left_columns ? row[c] + padding : padding + row[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace semharness
