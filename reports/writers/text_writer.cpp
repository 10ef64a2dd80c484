#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "reports/text_table.h"
#include "reports/writers/writers.h"

namespace semharness {
namespace {

constexpr size_t kTextWidth = 110;

// Word-wraps plain text at kTextWidth characters, later lines indented by `indent`.
std::string wrap(const std::string& text, const std::string& indent = "") {
  return wrap_text(text, kTextWidth, "", indent);
}

std::string underline(const std::string& title, char c) {
  return title + "\n" + std::string(display_width(title), c) + "\n";
}

}  // namespace

std::optional<ReportFormat> parse_report_format(const std::string& name) {
  if (name == "text" || name == "txt") return ReportFormat::Text;
  if (name == "md" || name == "markdown") return ReportFormat::Markdown;
  if (name == "csv") return ReportFormat::Csv;
  if (name == "tex" || name == "latex") return ReportFormat::Latex;
  if (name == "html") return ReportFormat::Html;
  return std::nullopt;
}

std::string report_format_extension(ReportFormat format) {
  switch (format) {
    case ReportFormat::Text: return "txt";
    case ReportFormat::Markdown: return "md";
    case ReportFormat::Csv: return "csv";
    case ReportFormat::Latex: return "tex";
    case ReportFormat::Html: return "html";
  }
  return "txt";
}

std::string render_report(const ReportDocument& document, ReportFormat format) {
  switch (format) {
    case ReportFormat::Text: return render_text(document);
    case ReportFormat::Markdown: return render_markdown(document);
    case ReportFormat::Csv: return render_csv(document);
    case ReportFormat::Latex: return render_latex(document);
    case ReportFormat::Html: return render_html(document);
  }
  return render_text(document);
}

std::string format_exact(double value) { return fmt::format("{}", value); }

std::string render_text_table(const ReportTable& table) {
  std::vector<std::vector<std::string>> lines = {table.header};
  if (!table.subheader.empty()) lines.push_back(table.subheader);
  for (const auto& row : table.rows) {
    std::vector<std::string> texts;
    for (const auto& cell : row) texts.push_back(cell.text);
    lines.push_back(texts);
  }
  std::string out = format_aligned(lines);
  for (const auto& note : table.notes) out += wrap(note, "  ");
  return out;
}

std::string render_text(const ReportDocument& document) {
  std::string out;
  if (!document.title.empty()) out += underline(document.title, '=');
  for (const auto& section : document.sections) {
    out += "\n" + underline(section.title, '-');
    for (const auto& paragraph : section.paragraphs) out += wrap(paragraph);
    for (const auto& table : section.tables) {
      out += "\n";
      if (!table.title.empty()) out += table.title + "\n";
      out += render_text_table(table);
    }
    for (const auto& plot : section.plots) {
      out += fmt::format("\n(plot: {} - drawn in the HTML and LaTeX reports)\n", plot.title);
    }
  }
  return out;
}

}  // namespace semharness
