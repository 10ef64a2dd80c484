#pragma once
// Renderings of a ReportDocument. Torch-free.
//   text:     aligned tables for the terminal (plots are named, not drawn)
//   markdown: GitHub-flavoured tables, best cells in bold (plots are named, not drawn)
//   csv:      one tidy row per number: section,table,row,column,value,text (RFC 4180 quoting)
//   latex:    a standalone article, booktabs tables, best cells in bold, plots as pgfplots axes when
//             pgfplots is installed
//   html:     one self-contained file (inline CSS, inline SVG line plots, no external resources)
#include <optional>
#include <string>
#include <vector>

#include "reports/document.h"

namespace semharness {

enum class ReportFormat { Text, Markdown, Csv, Latex, Html };

// "text"/"txt", "md"/"markdown", "csv", "tex"/"latex", "html"; nullopt otherwise.
std::optional<ReportFormat> parse_report_format(const std::string& name);
// The file extension without the dot: txt, md, csv, tex, html.
std::string report_format_extension(ReportFormat format);

std::string render_text(const ReportDocument& document);
std::string render_markdown(const ReportDocument& document);
std::string render_csv(const ReportDocument& document);
std::string render_latex(const ReportDocument& document);
std::string render_html(const ReportDocument& document);
std::string render_report(const ReportDocument& document, ReportFormat format);

// One table as aligned text with its subheader, then its notes (one per line). The terminal's table.
std::string render_text_table(const ReportTable& table);
// One plot as an SVG element (axes with ticks and labels, log10 x axis when plot.log_x, legend, error bars).
std::string render_svg_plot(const LinePlot& plot);
// text with & < > " ' as character references: safe in HTML and SVG text and attribute values.
std::string escape_markup(const std::string& text);

// RFC 4180: a field with a comma, a double quote or a line break (\r or \n) quoted, its quotes doubled.
std::string csv_field(const std::string& text);
// The fields as one CSV record, each through csv_field, ending in `line_end` (RFC 4180's is \r\n).
std::string csv_record(const std::vector<std::string>& fields, const std::string& line_end = "\r\n");

// Number formatting shared by the writers: shortest text that reads back as the same double ("0.1", "1e-05").
std::string format_exact(double value);

}  // namespace semharness
