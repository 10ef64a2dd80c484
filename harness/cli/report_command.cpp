#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include <boost/algorithm/string.hpp>
#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/store/store.h"
#include "reports/ablations.h"
#include "reports/analyses/bound_check.h"
#include "reports/analyses/semantic_coherence.h"
#include "reports/comparison_table.h"
#include "reports/document.h"
#include "reports/benchmark_tables.h"
#include "reports/reference_numbers.h"
#include "reports/op_profile_tables.h"
#include "reports/timings_table.h"
#include "reports/training_curves.h"
#include "reports/writers/writers.h"

namespace semharness {
namespace po = boost::program_options;

namespace {

// An analysis that adds sections to the report, from the store, the database's path and the grid asked for
// ("" = every grid).
using SectionBuilder = std::function<std::vector<ReportSection>(Store&, const std::string&, const std::string&)>;
struct NamedBuilder {
  std::string name;
  SectionBuilder build;
};

std::vector<ReportSection> overview_sections(Store& store, const std::string& db_path, const std::string& grid) {
  std::map<std::string, std::map<std::string, int64_t>> states;  // grid -> status -> runs
  for (const auto& run : store.runs(grid)) ++states[run.grid][run.status];
  ReportTable table;
  table.id = "runs";
  table.title = "Runs per grid and state";
  table.header = {"grid", "finished", "pending", "running", "failed", "diverged", "total"};
  for (const auto& [name, counts] : states) {
    std::vector<ReportCell> row = {{name, std::nullopt}};
    int64_t total = 0;
    for (size_t c = 1; c + 1 < table.header.size(); ++c) {
      const auto it = counts.find(table.header[c]);
      const int64_t n = it == counts.end() ? 0 : it->second;
      total += n;
      row.push_back({std::to_string(n), static_cast<double>(n)});
    }
    row.push_back({std::to_string(total), static_cast<double>(total)});
    table.rows.push_back(row);
  }
  table.notes.push_back("Only finished runs enter the tables below.");
  ReportSection section{"overview", "Runs", {fmt::format("Database {}.", db_path)}, {table}, {}};
  return {section};
}

// The report's analyses, in the order they appear. Adding one is one line here.
std::vector<NamedBuilder> section_builders(const std::vector<ReferenceNumber>& references) {
  return {
      {"overview", overview_sections},
      {"comparison", [&references](Store& store, const std::string&,
                                   const std::string& grid) { return comparison_sections(store, references, grid); }},
      {"curves", training_curve_sections},
      {"ablations", ablation_sections},
      {"bound_check", [](Store& store, const std::string& db_path,
                         const std::string& grid) { return bound_check_sections(store, db_path, grid); }},
      {"coherence", [](Store& store, const std::string& db_path,
                       const std::string& grid) { return coherence_sections(store, db_path, grid); }},
      {"timings", timing_sections},
      {"profile", profile_sections},
  };
}

// "overview, comparison, ...": the builders' names, in the report's order.
std::string section_names(const std::vector<NamedBuilder>& builders) {
  std::string names;
  for (const auto& builder : builders) names += (names.empty() ? "" : ", ") + builder.name;
  return names;
}

// The builders' names from a --sections list, in the report's order; every builder when the list is empty.
std::set<std::string> chosen_sections(const std::string& list, const std::vector<NamedBuilder>& builders) {
  std::set<std::string> known, chosen;
  for (const auto& builder : builders) known.insert(builder.name);
  const std::string names = section_names(builders);
  if (list.empty()) return known;
  std::vector<std::string> items;
  boost::split(items, list, boost::is_any_of(","));
  for (auto item : items) {
    boost::trim(item);
    if (item.empty()) continue;
    if (!known.count(item))
      throw InputError(fmt::format("--sections: unknown section '{}' (expected {})", item, names));
    chosen.insert(item);
  }
  if (chosen.empty()) throw InputError(fmt::format("--sections: no section given (expected {})", names));
  return chosen;
}

// Runs every chosen builder; one that throws becomes a section that says so, and the others still run.
ReportDocument build_report(Store& store, const std::string& db_path, const std::string& grid,
                            const std::vector<ReferenceNumber>& references, const std::string& sections) {
  ReportDocument document;
  document.title = grid.empty() ? "semharness report" : fmt::format("semharness report: grid '{}'", grid);
  const auto builders = section_builders(references);
  const std::set<std::string> chosen = chosen_sections(sections, builders);
  for (const auto& builder : builders) {
    if (!chosen.count(builder.name)) continue;
    try {
      for (auto& section : builder.build(store, db_path, grid)) document.sections.push_back(std::move(section));
    } catch (const std::exception& e) {
      ReportSection failed;
      failed.id = builder.name;
      failed.title = builder.name + " (not computed)";
      failed.paragraphs.push_back(fmt::format("This section could not be computed: {}", e.what()));
      document.sections.push_back(failed);
    }
  }
  return document;
}

std::vector<ReportFormat> parse_formats(const std::string& list) {
  std::vector<std::string> names;
  boost::split(names, list, boost::is_any_of(","));
  std::vector<ReportFormat> formats;
  for (auto name : names) {
    boost::trim(name);
    if (name.empty()) continue;
    const auto format = parse_report_format(name);
    if (!format)
      throw InputError(fmt::format("--format: unknown format '{}' (expected md, csv, tex, html or text)", name));
    if (std::find(formats.begin(), formats.end(), *format) == formats.end()) formats.push_back(*format);
  }
  if (formats.empty()) throw InputError("--format: no format given (expected md, csv, tex, html or text)");
  return formats;
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness report [options]");
  std::string db, grid, out, format_list, reference_path, sections;
  cli.database(&db, "SQLite database to read");
  cli.options()("grid", po::value(&grid)->default_value(""), "only this grid (default: every grid in the database)")(
      "out", po::value(&out)->default_value(""),
      "write the report into this folder as report.md, report.csv, report.tex, report.html (those of --format) "
      "and print their paths; default: print text to stdout")(
      "format", po::value(&format_list)->default_value(""),
      "comma list of md, csv, tex, html, text; with --out default md,csv,tex,html; without --out one format "
      "printed to stdout (default text)")(
      "sections", po::value(&sections)->default_value(""),
      ("comma list of the sections to compute: " + section_names(section_builders({})) +
       "; default: all (bound_check and coherence retrain probes on every run's stored features: the slow ones)")
          .c_str())(
      "reference", po::value(&reference_path)->default_value(""),
      "CSV of published numbers (method,dataset,backbone,epochs,protocol,top1,source); default: the built-in "
      "copy of results/reference.csv");
  if (!cli.parse(args,
                 "Sections: runs per grid and state; a comparison table per linear-probe protocol stored (methods x\n"
                 "{baseline, +SEM}: probe test top-1, mean ± std over seeds, the difference with a 95% CI, controls,\n"
                 "online and published reference numbers, the untrained-backbone floor of epochs = 0 runs, L-BFGS\n"
                 "convergence), and with several protocols whether +SEM's gain survives the probe; training curves\n"
                 "(the online linear top-1 per epoch, mean ± std over seeds, and its change over the last quarter);\n"
                 "ablations over\n"
                 "sem.L, sem.V, sem.tau_online, sem.tau_target and probe.tau_d (tables, and line plots in HTML and\n"
                 "LaTeX); the bound check and semantic coherence; phase timings; where the time goes (the profiled\n"
                 "steps of runs with profile.steps > 0: operators, the SEM block's share); benchmark results\n"
                 "(`semharness bench`).\n")) {
    return 0;
  }
  std::vector<ReportFormat> formats;
  if (!format_list.empty()) {
    formats = parse_formats(format_list);
  } else {
    formats = out.empty() ? std::vector<ReportFormat>{ReportFormat::Text}
                          : std::vector<ReportFormat>{ReportFormat::Markdown, ReportFormat::Csv, ReportFormat::Latex,
                                                      ReportFormat::Html};
  }
  if (out.empty() && formats.size() > 1) throw InputError("--format: several formats need --out DIR");
  const std::vector<ReferenceNumber> references =
      reference_path.empty() ? builtin_reference_numbers() : load_reference_csv(reference_path);

  if (!std::filesystem::exists(db)) throw InputError(fmt::format("{}: no such database (run a grid first)", db));
  Store store(db);
  // A database that only `bench` wrote still has its benchmark tables to show.
  if (store.runs(grid).empty() && (!grid.empty() || store.latest_benchmarks().empty())) {
    throw InputError(grid.empty() ? db + ": holds no runs" : fmt::format("{}: no runs of grid '{}'", db, grid));
  }
  const ReportDocument document = build_report(store, db, grid, references, sections);

  if (out.empty()) {
    std::cout << render_report(document, formats.front());
    return 0;
  }
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) throw InputError(fmt::format("{}: cannot create the folder: {}", out, error.message()));
  for (const ReportFormat format : formats) {
    const std::filesystem::path path = std::filesystem::path(out) / ("report." + report_format_extension(format));
    std::ofstream file(path, std::ios::binary);
    file << render_report(document, format);
    file.close();
    if (!file) throw InputError(fmt::format("{}: cannot write the report", path.string()));
    std::cout << path.string() << "\n";
  }
  return 0;
}

}  // namespace semharness
