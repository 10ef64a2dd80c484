#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/store/store.h"
#include "reports/comparison_table.h"

namespace semharness {
namespace po = boost::program_options;

int report_command(const std::vector<std::string>& args) {
  po::options_description options("semharness report [options]");
  std::string db, grid;
  options.add_options()
      ("help,h", "this help")
      ("db", po::value(&db)->default_value(kDefaultDatabase), "SQLite database to read")
      ("grid", po::value(&grid)->default_value(""), "only this grid (default: every grid in the database)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options << "\nPrints methods x {baseline, +SEM}: probe test top-1, mean ± std over seeds.\n";
    return 0;
  }
  if (!std::filesystem::exists(db)) throw InputError(fmt::format("{}: no such database (run a grid first)", db));
  Store store(db);
  const auto runs = store.runs(grid);
  if (runs.empty()) throw InputError(grid.empty() ? db + ": holds no runs" : fmt::format("{}: no runs of grid '{}'", db, grid));
  std::cout << format_comparison(comparison_table(runs, store.results()));
  return 0;
}

}  // namespace semharness
