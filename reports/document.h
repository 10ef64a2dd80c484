#pragma once
// What a report is made of, independent of how it is written: sections holding paragraphs, tables and line
// plots. Every analysis (comparison, ablations, bound check, coherence, timings) produces sections; the
// writers (reports/writers/: text, Markdown, CSV, LaTeX, HTML with SVG plots) render any document.
// Torch-free.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace semharness {

struct ReportCell {
  std::string text;             // as printed, e.g. "65.78 ± 0.41 (n=5)"
  std::optional<double> value;  // the number behind it, for CSV and for picking the best; none for labels
  bool best = false;            // highlighted (bold in LaTeX/HTML/Markdown)
  // Further numbers behind the text, e.g. {"std", 0.41}, {"n", 5}: CSV writes each as a row of its own whose
  // column is "<header>:<name>".
  std::vector<std::pair<std::string, double>> details = {};
};

struct ReportTable {
  std::string id;  // short, unique in the document, for file names and CSV ("comparison")
  std::string title;
  std::vector<std::string> header;  // column names
  std::vector<std::vector<ReportCell>> rows;
  std::vector<std::string> notes;  // printed under the table (protocol, what the numbers are)
  // A second header line under the column names, e.g. the protocol of each column; empty: none.
  std::vector<std::string> subheader = {};
  // How many leading columns name the row (CSV's `row` field joins their texts with " "); at least 1.
  size_t label_columns = 1;
};

struct PlotSeries {
  std::string label;                              // legend entry, e.g. "simclr"
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
  std::vector<double> errors = {};                // empty, or one ± half-width per point (e.g. the std over seeds)
};

struct LinePlot {
  std::string id, title, x_label, y_label;
  bool log_x = false;
  std::vector<PlotSeries> series;
};

struct ReportSection {
  std::string id, title;
  std::vector<std::string> paragraphs;  // plain text: verdicts, explanations
  std::vector<ReportTable> tables;
  std::vector<LinePlot> plots;
};

struct ReportDocument {
  std::string title;
  std::vector<ReportSection> sections;
};

}  // namespace semharness
