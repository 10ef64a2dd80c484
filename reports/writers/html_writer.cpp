#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "reports/writers/writers.h"

namespace semharness {
namespace {

// A valid, readable fragment identifier from an id.
std::string anchor(const std::string& id) {
  std::string out;
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
  return out.empty() ? "section" : out;
}

constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1a1a1a;
       background: #ffffff; margin: 0 auto; max-width: 1180px; padding: 1.5rem 2rem 3rem; line-height: 1.45; }
h1 { font-size: 1.55rem; margin: 0 0 .8rem; padding-bottom: .35rem; border-bottom: 2px solid #2b2b2b; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid #cfcfcf; }
nav { font-size: .92rem; color: #444; }
nav ol { margin: .2rem 0 0; padding-left: 1.4rem; }
nav a { color: #0b5cad; text-decoration: none; }
p { margin: .45rem 0; max-width: 62rem; }
.table-block { margin: 1.1rem 0 1.4rem; }
.table-title { font-weight: 600; margin-bottom: .35rem; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { padding: .28rem .75rem; text-align: right; white-space: nowrap; }
th.label, td.label { text-align: left; }
thead tr:first-child th { border-top: 2px solid #2b2b2b; }
thead tr:last-child th { border-bottom: 1px solid #2b2b2b; }
thead tr.sub th { font-weight: normal; font-style: italic; color: #5a5a5a; font-size: .82rem; padding-top: 0; }
tbody tr:last-child td { border-bottom: 2px solid #2b2b2b; }
tbody tr:nth-child(even) td { background: #f5f6f8; }
td.best { font-weight: 700; }
ul.notes { font-size: .83rem; color: #4a4a4a; margin: .4rem 0 0; padding-left: 1.1rem; max-width: 62rem; }
figure { margin: 1rem 0 1.6rem; }
svg.plot { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
)css";

std::string table_html(const ReportTable& table) {
  const size_t label_columns = std::max<size_t>(1, table.label_columns);
  const auto cls = [&](size_t c) { return c < label_columns ? " class=\"label\"" : ""; };
  std::string out = fmt::format("<div class=\"table-block\" id=\"{}\">\n", anchor("table-" + table.id));
  if (!table.title.empty()) out += "<div class=\"table-title\">" + escape_markup(table.title) + "</div>\n";
  out += "<div class=\"table-scroll\"><table>\n<thead>\n<tr>";
  for (size_t c = 0; c < table.header.size(); ++c)
    out += fmt::format("<th{}>{}</th>", cls(c), escape_markup(table.header[c]));
  out += "</tr>\n";
  if (!table.subheader.empty()) {
    out += "<tr class=\"sub\">";
    for (size_t c = 0; c < table.header.size(); ++c) {
      out += fmt::format("<th{}>{}</th>", cls(c), c < table.subheader.size() ? escape_markup(table.subheader[c]) : "");
    }
    out += "</tr>\n";
  }
  out += "</thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (size_t c = 0; c < row.size(); ++c) {
      std::string classes = c < label_columns ? "label" : "";
      if (row[c].best) classes += classes.empty() ? "best" : " best";
      out +=
          fmt::format("<td{}>{}</td>", classes.empty() ? "" : " class=\"" + classes + "\"", escape_markup(row[c].text));
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  if (!table.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const auto& note : table.notes) out += "<li>" + escape_markup(note) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "</div>\n";
}

}  // namespace

std::string render_html(const ReportDocument& document) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + escape_markup(document.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>" + escape_markup(document.title) + "</h1>\n";
  if (document.sections.size() > 1) {
    out += "<nav><ol>\n";
    for (const auto& section : document.sections) {
      out += fmt::format("<li><a href=\"#{}\">{}</a></li>\n", anchor(section.id), escape_markup(section.title));
    }
    out += "</ol></nav>\n";
  }
  for (const auto& section : document.sections) {
    out += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n", anchor(section.id), escape_markup(section.title));
    for (const auto& paragraph : section.paragraphs) out += "<p>" + escape_markup(paragraph) + "</p>\n";
    for (const auto& table : section.tables) out += table_html(table);
    for (const auto& plot : section.plots) {
      out += fmt::format("<figure id=\"{}\">\n{}</figure>\n", anchor("plot-" + plot.id), render_svg_plot(plot));
    }
    out += "</section>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace semharness
