// Every report format written from a database the test fills by hand (tests/report_fixture.h) and read back:
// CSV parsed and its numbers compared with the hand-computed ones, Markdown tables checked for shape, LaTeX
// compiled with pdflatex and the HTML rendered by headless Chromium (each skipped when the tool is absent),
// and `semharness report --out` writing them all.
#include <sys/wait.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_support.h"
#include "report_fixture.h"
#include "reports/ablations.h"
#include "reports/comparison_table.h"
#include "reports/reference_numbers.h"
#include "reports/timings_table.h"
#include "reports/writers/writers.h"

using namespace semharness;
namespace fs = std::filesystem;

namespace {

bool have_program(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command, its output into `log`; the exit code.
int run_shell(const std::string& command, const fs::path& log) {
  const int status =
      std::system((command + " > " + semharness_test::shell_quote(log.string()) + " 2>&1 < /dev/null").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The document `report` builds from these builders, without the CLI's overview.
ReportDocument handmade_document(Store& store, const std::string& db) {
  ReportDocument document;
  document.title = "semharness report: grid 'handmade'";
  for (auto& s : comparison_sections(store, builtin_reference_numbers(), "handmade")) document.sections.push_back(s);
  for (auto& s : ablation_sections(store, db, "handmade")) document.sections.push_back(s);
  for (auto& s : timing_sections(store, db, "handmade")) document.sections.push_back(s);
  return document;
}

struct CsvRow {
  std::string section, table, row, column, text;
  double value;
};

std::vector<CsvRow> parse_report_csv(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::vector<CsvRow> rows;
  bool header = true;
  while (std::getline(lines, line)) {
    const auto fields = split_csv_record(line);
    EXPECT_EQ(fields.size(), 6u) << line;
    if (fields.size() != 6) continue;
    if (header) {
      EXPECT_EQ(fields, (std::vector<std::string>{"section", "table", "row", "column", "value", "text"}));
      header = false;
      continue;
    }
    rows.push_back({fields[0], fields[1], fields[2], fields[3], fields[5], std::stod(fields[4])});
  }
  return rows;
}

const CsvRow* find_csv(const std::vector<CsvRow>& rows, const std::string& table, const std::string& row,
                       const std::string& column) {
  for (const auto& r : rows) {
    if (r.table == table && r.row == row && r.column == column) return &r;
  }
  return nullptr;
}

// A minimal PNG reader (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium writes), with zlib.
struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0xRRGGBB
};

uint32_t big_endian(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

std::optional<Image> read_png(const std::string& bytes) {
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return std::nullopt;
  Image image;
  int colour_type = -1, bit_depth = 0, interlace = 0;
  std::string compressed;
  for (size_t at = 8; at + 12 <= bytes.size();) {
    const uint32_t length = big_endian(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    if (at + 12 + length > bytes.size()) return std::nullopt;
    if (type == "IHDR") {
      image.width = big_endian(bytes, at + 8);
      image.height = big_endian(bytes, at + 12);
      bit_depth = uint8_t(bytes[at + 16]);
      colour_type = uint8_t(bytes[at + 17]);
      interlace = uint8_t(bytes[at + 20]);
    } else if (type == "IDAT") {
      compressed += bytes.substr(at + 8, length);
    }
    at += 12 + length;
  }
  const int channels = colour_type == 0 ? 1 : colour_type == 2 ? 3 : colour_type == 6 ? 4 : 0;
  if (channels == 0 || bit_depth != 8 || interlace != 0 || image.width == 0 || image.height == 0) return std::nullopt;
  const size_t stride = size_t(image.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()) != Z_OK ||
      raw_size != raw.size()) {
    return std::nullopt;
  }
  std::vector<uint8_t> previous(stride, 0), current(stride);
  image.pixels.reserve(size_t(image.width) * image.height);
  for (uint32_t y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* line = &raw[y * (stride + 1) + 1];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= size_t(channels) ? current[i - channels] : 0, b = previous[i],
                c = i >= size_t(channels) ? previous[i - channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return std::nullopt;
      }
      current[i] = uint8_t(line[i] + predictor);
    }
    for (uint32_t x = 0; x < image.width; ++x) {
      const uint8_t* p = &current[size_t(x) * channels];
      image.pixels.push_back(channels == 1 ? (uint32_t(p[0]) * 0x010101u)
                                           : (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | uint32_t(p[2]));
    }
    std::swap(previous, current);
  }
  return image;
}

class ReportWritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = semharness_test::make_report_temp_dir("writers");
    db_ = (dir_ / "runs.db").string();
    semharness_test::fill_handmade_database(dir_, db_);
    Store store(db_);
    document_ = handmade_document(store, db_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string db_;
  ReportDocument document_;
};

}  // namespace

TEST_F(ReportWritersTest, CsvReadsBackTheHandComputedNumbers) {
  const auto rows = parse_report_csv(render_csv(document_));
  const std::string delta = "+SEM - baseline (95% CI)";
  const auto expect = [&](const std::string& table, const std::string& row, const std::string& column, double value) {
    const CsvRow* found = find_csv(rows, table, row, column);
    ASSERT_NE(found, nullptr) << table << " / " << row << " / " << column;
    EXPECT_NEAR(found->value, value, 1e-9) << table << " / " << row << " / " << column;
  };
  expect("comparison", "simclr", "baseline", 62.0);
  expect("comparison", "simclr", "baseline:std", 2.0);
  expect("comparison", "simclr", "baseline:n", 3);
  expect("comparison", "simclr", "+SEM", 65.0);
  expect("comparison", "simclr", "+SEM:std", std::sqrt(3.0));
  expect("comparison", "simclr", delta, 3.0);
  expect("comparison", "simclr", delta + ":ci_low", 3.0 - semharness_test::t975_df2() / std::sqrt(3.0));
  expect("comparison", "simclr", delta + ":ci_high", 3.0 + semharness_test::t975_df2() / std::sqrt(3.0));
  expect("comparison", "byol", delta + ":ci_low", 4.0 - semharness_test::t975_df2() * std::sqrt(4.0 / 3.0));
  expect("comparison", "byol", delta + ":df", 2.0);
  expect("comparison", "byol", "baseline online", 41.0);
  expect("ablation_L", "byol", "sem.L=16", 58.5);
  expect("ablation_tau_d", "simclr sem.L=8", "probe.tau_d=1", 50.0);
  expect("timings_handmade", "forward cpu", "count", 120);
  expect("timings_handmade", "forward cpu", "mean (ms)", 5.0);
  expect("benchmarks", "sem/fused B=8 cpu", "mean (ms)", 2.5);
  expect("memory_floor", "B=8 cpu", "fused/floor", 2.0);
  // The text travels with the number, quoted because it holds commas.
  const CsvRow* simclr_delta = find_csv(rows, "comparison", "simclr", delta);
  ASSERT_NE(simclr_delta, nullptr);
  EXPECT_EQ(simclr_delta->text, "+3.00 [+0.52, +5.48] paired, n=3");
  EXPECT_EQ(simclr_delta->section, "comparison");
  // Labels are not numbers: no row for the method column.
  EXPECT_EQ(find_csv(rows, "comparison", "simclr", "method"), nullptr);
}

TEST_F(ReportWritersTest, MarkdownTablesAreWellFormedWithBoldBest) {
  const std::string markdown = render_markdown(document_);
  std::istringstream lines(markdown);
  std::string line;
  std::vector<std::vector<std::string>> table;
  int tables = 0;
  const auto cells_of = [](const std::string& l) {
    std::vector<std::string> cells;
    std::string cell;
    for (size_t i = 1; i < l.size(); ++i) {
      if (l[i] == '\\' && i + 1 < l.size()) {
        cell += l.substr(i, 2);
        ++i;
      } else if (l[i] == '|') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += l[i];
      }
    }
    return cells;
  };
  const auto close_table = [&] {
    if (table.empty()) return;
    ++tables;
    ASSERT_GE(table.size(), 2u);
    for (const auto& row : table) EXPECT_EQ(row.size(), table[0].size()) << markdown;
    for (const auto& rule : table[1]) EXPECT_TRUE(rule == " :--- " || rule == " ---: ") << rule;
    table.clear();
  };
  std::string simclr_row;
  while (std::getline(lines, line)) {
    if (line.rfind("|", 0) == 0) {
      table.push_back(cells_of(line));
      if (line.rfind("| simclr |", 0) == 0 && simclr_row.empty()) simclr_row = line;
    } else {
      close_table();
    }
  }
  close_table();
  EXPECT_EQ(tables, 6);  // comparison, ablation L, ablation tau_d, timings of the grid, benchmarks, memory floor
  EXPECT_NE(simclr_row.find("| 62.00 ± 2.00 (n=3) | **65.00 ± 1.73 (n=3)** |"), std::string::npos) << simclr_row;
  EXPECT_NE(markdown.find("## Baseline vs +SEM"), std::string::npos);
  EXPECT_NE(markdown.find("sem/unfused\\_block\\_major"), std::string::npos);  // underscores escaped
}

TEST_F(ReportWritersTest, LatexCompilesWithPdflatex) {
  // Also the characters LaTeX reads as commands, in a section of their own.
  ReportSection awkward{"awkward", "Escapes: 50% of $x_1$ & #2 {~^\\}", {"tau_d ≥ 0.1 — “quoted” ✓"}, {}, {}};
  ReportTable table;
  table.id = "awkward_table";
  table.title = "a_b & c";
  table.header = {"name_1", "value %"};
  table.rows = {{ReportCell{"x & y", std::nullopt}, ReportCell{"1.5 ± 0.2", 1.5, true}}};
  table.notes = {"note: 100% {sure}"};
  awkward.tables.push_back(table);
  ReportDocument document = document_;
  document.sections.push_back(awkward);
  const std::string latex = render_latex(document);
  EXPECT_NE(latex.find("\\toprule"), std::string::npos);
  EXPECT_NE(latex.find("{\\bfseries\\boldmath 65.00 $\\pm$ 1.73 (n=3)}"), std::string::npos);
  EXPECT_NE(latex.find("50\\% of \\$x\\_1\\$ \\& \\#2 \\{\\textasciitilde{}\\textasciicircum{}\\textbackslash{}\\}"),
            std::string::npos);
  EXPECT_NE(latex.find("semilogxaxis"), std::string::npos);  // the tau_d plot
  if (!have_program("pdflatex") || !have_program("kpsewhich") ||
      run_shell("kpsewhich booktabs.sty", dir_ / "kpsewhich.log") != 0) {
    GTEST_SKIP() << "pdflatex with booktabs is not installed";
  }
  semharness_test::write_bytes(dir_ / "report.tex", latex);
  const int code = run_shell("cd " + semharness_test::shell_quote(dir_.string()) +
                                 " && pdflatex -interaction=nonstopmode -halt-on-error report.tex",
                             dir_ / "pdflatex.log");
  EXPECT_EQ(code, 0) << semharness_test::read_bytes(dir_ / "pdflatex.log");
  ASSERT_TRUE(fs::exists(dir_ / "report.pdf"));
  EXPECT_GT(fs::file_size(dir_ / "report.pdf"), 1000u);
  const std::string log = semharness_test::read_bytes(dir_ / "report.log");
  EXPECT_EQ(log.find("Missing character"), std::string::npos);
}

TEST_F(ReportWritersTest, HtmlIsSelfContainedAndRendersInChromium) {
  const std::string html = render_html(document_);
  // Self-contained: no external resources, only in-page links.
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  const std::regex link("href=\"([^\"]*)\"");
  for (std::sregex_iterator it(html.begin(), html.end(), link), end; it != end; ++it) {
    EXPECT_EQ((*it)[1].str().rfind("#", 0), 0u) << (*it)[1].str();
  }
  const auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = html.find(what); at != std::string::npos; at = html.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<table>"), 6u);  // comparison, two ablations, the grid's timings, the benchmark rows
  EXPECT_EQ(count("</table>"), 6u);
  EXPECT_EQ(count("<svg "), 2u);
  EXPECT_EQ(count("</svg>"), 2u);
  EXPECT_NE(html.find("<td class=\"best\">65.00 ± 1.73 (n=3)</td>"), std::string::npos);
  EXPECT_NE(html.find(">0.1</text>"), std::string::npos);  // a tick of the log tau_d axis

  const std::string chromium = have_program("chromium")           ? "chromium"
                               : have_program("chromium-browser") ? "chromium-browser"
                                                                  : "";
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed";
  semharness_test::write_bytes(dir_ / "report.html", html);
  const fs::path png = dir_ / "report.png";
  // A profile folder of its own, so that concurrent runs do not share one.
  const int code = run_shell(chromium + " --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir=" +
                                 semharness_test::shell_quote((dir_ / "profile").string()) + " --screenshot=" +
                                 semharness_test::shell_quote(png.string()) + " --window-size=1200,2000 " +
                                 semharness_test::shell_quote("file://" + (dir_ / "report.html").string()),
                             dir_ / "chromium.log");
  ASSERT_EQ(code, 0) << semharness_test::read_bytes(dir_ / "chromium.log");
  ASSERT_TRUE(fs::exists(png)) << semharness_test::read_bytes(dir_ / "chromium.log");
  const auto image = read_png(semharness_test::read_bytes(png));
  ASSERT_TRUE(image) << "not a PNG this test reads: " << png;
  EXPECT_EQ(image->width, 1200u);
  EXPECT_EQ(image->height, 2000u);
  std::map<uint32_t, size_t> colours;
  for (uint32_t pixel : image->pixels) ++colours[pixel];
  EXPECT_GT(colours.size(), 50u);  // text, rules, plot colours: far from a single colour
  // Mostly white page, yet with a fair amount drawn on it.
  const size_t white = colours.count(0xFFFFFF) ? colours[0xFFFFFF] : 0;
  EXPECT_GT(white, image->pixels.size() / 2);
  EXPECT_LT(white, image->pixels.size() * 99 / 100);
  // Each plot colour of the first two series is on the page (the SVG was drawn).
  const auto near = [&](uint32_t target) {
    for (const auto& [pixel, n] : colours) {
      const int dr = int(pixel >> 16) - int(target >> 16), dg = int((pixel >> 8) & 255) - int((target >> 8) & 255),
                db = int(pixel & 255) - int(target & 255);
      if (std::abs(dr) + std::abs(dg) + std::abs(db) < 12 && n > 20) return true;
    }
    return false;
  };
  EXPECT_TRUE(near(0x0072B2));
  EXPECT_TRUE(near(0xD55E00));
}

TEST(SvgPlotTest, LogAxisTicksAndLegend) {
  LinePlot plot{"p",   "Top-1 against tau",
                "tau", "top-1 (%)",
                true,  {{"simclr", {{1e-4, 50}, {1e-2, 60}, {1, 70}}, {1, 2, 0}}, {"a<b", {{1e-3, 55}, {10, 65}}, {}}}};
  const std::string svg = render_svg_plot(plot);
  for (const char* tick : {">1e-4</text>", ">0.001</text>", ">0.01</text>", ">0.1</text>", ">1</text>", ">10</text>"}) {
    EXPECT_NE(svg.find(tick), std::string::npos) << tick << "\n" << svg;
  }
  EXPECT_NE(svg.find("tau (log scale)"), std::string::npos);
  EXPECT_NE(svg.find(">a&lt;b</text>"), std::string::npos);  // legend, escaped
  // On a log axis equal ratios are equal distances: 1e-4 -> 1e-2 -> 1 are evenly spaced on the simclr line.
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(svg, match, std::regex("<polyline points=\"([0-9.]+),[0-9.]+ ([0-9.]+),[0-9.]+ ([0-9.]+),")));
  const double x0 = std::stod(match[1]), x1 = std::stod(match[2]), x2 = std::stod(match[3]);
  EXPECT_NEAR(x1 - x0, x2 - x1, 0.2);
  // Linear axis: x ticks at the few settings of the data, nice y ticks.
  plot.log_x = false;
  plot.series = {{"byol", {{8, 61.5}, {16, 64}, {32, 63}}, {}}};
  const std::string linear = render_svg_plot(plot);
  for (const char* tick : {">8</text>", ">16</text>", ">32</text>", ">62.0</text>", ">63.5</text>"}) {
    EXPECT_NE(linear.find(tick), std::string::npos) << tick << "\n" << linear;
  }
  EXPECT_EQ(linear.find("log scale"), std::string::npos);
  // Many x values: nice linear ticks instead.
  plot.series[0].points.clear();
  for (int x = 0; x <= 100; x += 5) plot.series[0].points.emplace_back(x, 50 + x % 7);
  const std::string dense = render_svg_plot(plot);
  EXPECT_NE(dense.find(">20</text>"), std::string::npos) << dense;
  EXPECT_EQ(dense.find(">5</text>"), std::string::npos) << dense;
}

TEST(ReportFormatTest, NamesAndExtensions) {
  EXPECT_EQ(parse_report_format("md"), ReportFormat::Markdown);
  EXPECT_EQ(parse_report_format("latex"), ReportFormat::Latex);
  EXPECT_EQ(parse_report_format("pdf"), std::nullopt);
  EXPECT_EQ(report_format_extension(ReportFormat::Html), "html");
  EXPECT_EQ(report_format_extension(ReportFormat::Latex), "tex");
}

TEST_F(ReportWritersTest, ReportCommandWritesEveryFormat) {
  const fs::path out = dir_ / "out";
  const auto result = semharness_test::run_binary(dir_, {"report", "--db", db_, "--out", out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* name : {"report.md", "report.csv", "report.tex", "report.html"}) {
    EXPECT_TRUE(fs::exists(out / name)) << name;
    EXPECT_NE(result.output.find((out / name).string()), std::string::npos) << result.output;
  }
  EXPECT_FALSE(fs::exists(out / "report.txt"));
  // The CSV of the command holds the same numbers; its overview counts the runs.
  const auto rows = parse_report_csv(semharness_test::read_bytes(out / "report.csv"));
  const CsvRow* baseline = find_csv(rows, "comparison", "simclr", "baseline");
  ASSERT_NE(baseline, nullptr);
  EXPECT_NEAR(baseline->value, 62.0, 1e-12);
  const CsvRow* failed = find_csv(rows, "runs", "handmade", "failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->value, 2);

  // One format to stdout; text by default, with every section.
  const auto csv = semharness_test::run_binary(dir_, {"report", "--db", db_, "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  EXPECT_EQ(csv.output.rfind("section,table,row,column,value,text", 0), 0u) << csv.output;
  const auto text = semharness_test::run_binary(dir_, {"report", "--db", db_, "--grid", "handmade"});
  ASSERT_EQ(text.exit_code, 0) << text.output;
  for (const char* expected : {"+3.00 [+0.52, +5.48] paired, n=3", "Ablation: sem.L", "sem/fused", "linear_probe"}) {
    EXPECT_NE(text.output.find(expected), std::string::npos) << expected << "\n" << text.output;
  }

  // Bad input: one line, exit 2.
  const auto bad = semharness_test::run_binary(dir_, {"report", "--db", db_, "--format", "pdf"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("'pdf'"), std::string::npos) << bad.output;
  const auto several = semharness_test::run_binary(dir_, {"report", "--db", db_, "--format", "md,csv"});
  EXPECT_EQ(several.exit_code, 2) << several.output;
  const auto no_reference =
      semharness_test::run_binary(dir_, {"report", "--db", db_, "--reference", (dir_ / "none.csv").string()});
  EXPECT_EQ(no_reference.exit_code, 2) << no_reference.output;
  EXPECT_EQ(no_reference.non_empty_lines().size(), 1u) << no_reference.output;
}

TEST(ReportWritersProtocolsTest, EachProtocolAndTheSurvivalTableReadBackFromCsvAndText) {
  const fs::path dir = semharness_test::make_report_temp_dir("writers-protocols");
  const std::string db = (dir / "runs.db").string();
  semharness_test::fill_protocols_database(dir, db);
  ReportDocument document;
  {
    Store store(db);
    for (auto& s : comparison_sections(store, builtin_reference_numbers(), "protocols")) document.sections.push_back(s);
  }
  const auto rows = parse_report_csv(render_csv(document));
  const std::string delta = "+SEM - baseline (95% CI)";
  const auto expect = [&](const std::string& table, const std::string& row, const std::string& column, double value) {
    const CsvRow* found = find_csv(rows, table, row, column);
    ASSERT_NE(found, nullptr) << table << " / " << row << " / " << column;
    EXPECT_NEAR(found->value, value, 1e-9) << table << " / " << row << " / " << column;
  };
  // The fixture's hand-computed numbers (tests/report_fixture.h), under each protocol's table id.
  expect("comparison_lbfgs_probe", "simclr", "baseline", 71.0);
  expect("comparison_lbfgs_probe", "simclr", "+SEM", 73.0);
  expect("comparison_lbfgs_probe", "byol", delta, -5.0 / 3.0);
  expect("comparison", "simclr", "baseline", 62.0);
  expect("comparison", "byol", delta, 4.0);
  expect("probe_survival", "simclr", "lbfgs_probe", 2.0);
  expect("probe_survival", "simclr", "lbfgs_probe:ci_low", 2.0 - semharness_test::t975_df2() / std::sqrt(3.0));
  expect("probe_survival", "byol", "linear_probe", 4.0);
  expect("probe_survival", "byol", "lbfgs_probe:ci_high", -5.0 / 3.0 + semharness_test::t975_df2() / 3.0);
  EXPECT_EQ(find_csv(rows, "probe_survival", "simclr", "linear_probe")->text, "+3.00 [+0.52, +5.48] paired, n=3");

  // The command's text: both tables, the survival table, and the convergence note.
  const auto text = semharness_test::run_binary(dir, {"report", "--db", db});
  ASSERT_EQ(text.exit_code, 0) << text.output;
  for (const char* expected : {"Baseline vs +SEM (SPEC §4.1), lbfgs_probe",
                               "Baseline vs +SEM (SPEC §4.1), linear_probe", "Does SEM's gain survive the probe?",
                               "Convergence: 2 of 24 lbfgs_probe probes", "-1.67 [-3.10, -0.23] paired, n=3"}) {
    EXPECT_NE(text.output.find(expected), std::string::npos) << expected << "\n" << text.output;
  }
  fs::remove_all(dir);
}

TEST_F(ReportWritersTest, AFailingSectionBecomesAParagraph) {
  {
    // A timings table of another shape: its section cannot be computed, the rest of the report can.
    SQLite::Database db(db_, SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE timings");
    db.exec("CREATE TABLE timings(run_id TEXT, name TEXT)");
  }
  const auto result = semharness_test::run_binary(dir_, {"report", "--db", db_});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("timings (not computed)"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("This section could not be computed: no such column"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("+3.00 [+0.52, +5.48] paired, n=3"), std::string::npos) << result.output;
}
