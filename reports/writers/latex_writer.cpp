#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "reports/writers/writers.h"

namespace semharness {
namespace {

// The UTF-8 characters the harness's texts use, in LaTeX; any other non-ASCII character becomes "?" (pdflatex
// stops on characters it has no definition for).
const std::vector<std::pair<std::string, std::string>>& unicode_replacements() {
  static const std::vector<std::pair<std::string, std::string>> table = {{"±", "$\\pm$"},    {"Δ", "$\\Delta$"},
                                                                         {"−", "$-$"},       {"–", "--"},
                                                                         {"—", "---"},       {"τ", "$\\tau$"},
                                                                         {"×", "$\\times$"}, {"≥", "$\\geq$"},
                                                                         {"≤", "$\\leq$"},   {"…", "\\ldots{}"},
                                                                         {"§", "\\S{}"},     {"µ", "$\\mu$"},
                                                                         {"μ", "$\\mu$"},    {"→", "$\\rightarrow$"},
                                                                         {"²", "$^2$"},      {"·", "$\\cdot$"},
                                                                         {"“", "``"},        {"”", "''"},
                                                                         {"‘", "`"},         {"’", "'"}};
  return table;
}

std::string escape_latex(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      bool replaced = false;
      for (const auto& [from, to] : unicode_replacements()) {
        if (text.compare(i, from.size(), from) == 0) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
      out += '?';
      ++i;
      while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;  // the rest of it
      continue;
    }
    switch (c) {
      case '\\': out += "\\textbackslash{}"; break;
      case '{': out += "\\{"; break;
      case '}': out += "\\}"; break;
      case '$': out += "\\$"; break;
      case '&': out += "\\&"; break;
      case '%': out += "\\%"; break;
      case '#': out += "\\#"; break;
      case '_': out += "\\_"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '<': out += "\\textless{}"; break;
      case '>': out += "\\textgreater{}"; break;
      case '\n': out += ' '; break;
      default: out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string cell_latex(const ReportCell& cell) {
  const std::string text = escape_latex(cell.text);
  return cell.best && !text.empty() ? "{\\bfseries\\boldmath " + text + "}" : text;
}

std::string table_latex(const ReportTable& table) {
  const size_t columns = table.header.size();
  std::string spec;
  for (size_t c = 0; c < columns; ++c) spec += c < std::max<size_t>(1, table.label_columns) ? 'l' : 'r';
  std::string out = "\\begin{center}\n";
  if (!table.title.empty()) out += "\\textbf{" + escape_latex(table.title) + "}\\par\\smallskip\n";
  out += "\\fitwidth{\\begin{tabular}{" + spec + "}\n\\toprule\n";
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string row;
    for (size_t c = 0; c < columns; ++c) row += (c ? " & " : "") + (c < cells.size() ? cells[c] : std::string());
    return row + " \\\\\n";
  };
  std::vector<std::string> header;
  for (const auto& name : table.header) header.push_back(escape_latex(name));
  out += line(header);
  if (!table.subheader.empty()) {
    std::vector<std::string> sub;
    for (const auto& name : table.subheader) sub.push_back(name.empty() ? "" : "\\emph{" + escape_latex(name) + "}");
    out += line(sub);
  }
  out += "\\midrule\n";
  for (const auto& row : table.rows) {
    std::vector<std::string> cells;
    for (const auto& cell : row) cells.push_back(cell_latex(cell));
    out += line(cells);
  }
  out += "\\bottomrule\n\\end{tabular}}\n";
  if (!table.notes.empty()) {
    out += "\\par\\smallskip\n\\begin{minipage}{\\linewidth}\\footnotesize\n";
    for (const auto& note : table.notes) out += escape_latex(note) + "\\par\n";
    out += "\\end{minipage}\n";
  }
  return out + "\\end{center}\n\n";
}

std::string plot_latex(const LinePlot& plot) {
  const std::string axis = plot.log_x ? "semilogxaxis" : "axis";
  // Ticks at the data's x values when they are few (settings such as L = 8, 16, 32), 0.1 rather than 10^-1.
  std::set<double> xs;
  for (const auto& series : plot.series) {
    for (const auto& point : series.points) xs.insert(point.first);
  }
  std::string ticks = plot.log_x ? ", log ticks with fixed point" : "";
  if (!xs.empty() && xs.size() <= 6) {
    ticks += ", xtick={";
    for (auto it = xs.begin(); it != xs.end(); ++it) ticks += (it == xs.begin() ? "" : ",") + format_exact(*it);
    ticks += "}";
  }
  std::string out = "\\ifhavepgfplots\n\\begin{center}\n\\begin{tikzpicture}\n";
  out += fmt::format(
      "\\begin{{{}}}[title={{{}}}, xlabel={{{}}}, ylabel={{{}}}, width=0.62\\linewidth, height=6cm,\n"
      "  grid=major, legend pos=outer north east, legend cell align=left, legend style={{font=\\footnotesize}}{}]\n",
      axis, escape_latex(plot.title), escape_latex(plot.x_label), escape_latex(plot.y_label), ticks);
  for (const auto& series : plot.series) {
    const bool errors = series.errors.size() == series.points.size() && !series.errors.empty();
    out += errors ? "\\addplot+[error bars/.cd, y dir=both, y explicit] coordinates {" : "\\addplot coordinates {";
    for (size_t i = 0; i < series.points.size(); ++i) {
      out += fmt::format("({}, {})", format_exact(series.points[i].first), format_exact(series.points[i].second));
      if (errors) out += fmt::format(" +- (0, {})", format_exact(series.errors[i]));
      out += " ";
    }
    out += "};\n\\addlegendentry{" + escape_latex(series.label) + "}\n";
  }
  out += fmt::format("\\end{{{}}}\n\\end{{tikzpicture}}\n\\end{{center}}\n", axis);
  out += "\\else\n\\emph{(" + escape_latex(plot.title) +
         ": pgfplots is not installed, the plot is left out.)}\\par\n\\fi\n\n";
  return out;
}

}  // namespace

std::string render_latex(const ReportDocument& document) {
  std::string out =
      "% semharness report. Compile with pdflatex; needs booktabs, draws the plots with pgfplots when installed.\n"
      "\\documentclass[10pt]{article}\n"
      "\\usepackage[T1]{fontenc}\n"
      "\\usepackage[a4paper,margin=2cm]{geometry}\n"
      "\\usepackage{booktabs}\n"
      "\\usepackage{graphicx}\n"
      "\\newif\\ifhavepgfplots\n"
      "\\IfFileExists{pgfplots.sty}{\\usepackage{pgfplots}\\pgfplotsset{compat=1.16}\\havepgfplotstrue}{}\n"
      "% Tables wider than the text are scaled down to its width; narrower ones keep their size.\n"
      "\\newsavebox{\\reporttablebox}\n"
      "\\newcommand{\\fitwidth}[1]{\\sbox{\\reporttablebox}{#1}\\ifdim\\wd\\reporttablebox>\\linewidth"
      "\\resizebox{\\linewidth}{!}{\\usebox{\\reporttablebox}}\\else\\usebox{\\reporttablebox}\\fi}\n"
      "\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{4pt}\n"
      "% Long unbreakable words (run ids) stretch the spacing rather than overflow the margin.\n"
      "\\sloppy\n";
  out += "\\title{" + escape_latex(document.title) + "}\n\\author{}\n\\date{}\n\\begin{document}\n\\maketitle\n\n";
  for (const auto& section : document.sections) {
    out += "\\section*{" + escape_latex(section.title) + "}\n";
    for (const auto& paragraph : section.paragraphs) out += escape_latex(paragraph) + "\n\n";
    for (const auto& table : section.tables) out += table_latex(table);
    for (const auto& plot : section.plots) out += plot_latex(plot);
  }
  return out + "\\end{document}\n";
}

}  // namespace semharness
