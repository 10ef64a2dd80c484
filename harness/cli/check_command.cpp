#include <iostream>

#include <fmt/format.h>

#include "harness/cli/command_line.h"
#include "harness/cli/commands.h"
#include "harness/config/errors.h"
#include "harness/config/run_config.h"
#include "harness/store/snapshot.h"
#include "reports/regression_gate.h"

namespace semharness {
namespace po = boost::program_options;

int check_command(const std::vector<std::string>& args) {
  CommandLine cli("semharness check [options]");
  std::string db, baseline;
  std::vector<std::string> metric_args;
  std::string correction;
  GateOptions gate;
  cli.database(&db, "SQLite database to check");
  cli.options()("baseline", po::value(&baseline)->required(), "SQLite database to compare with (read only)")(
      "metric", po::value(&metric_args)->composing(),
      "metric to compare (repeatable, or a comma list; default headline): headline, probe.backbone, "
      "probe.embedding, probe.sem, knn, online_linear")(
      "alpha", po::value(&gate.alpha)->default_value(gate.alpha, fmt::format("{:g}", gate.alpha)),
      "significance level of the one-sided Welch t-tests")(
      "correction", po::value(&correction)->default_value("holm"),
      "holm: alpha bounds the chance that any cell fails on seed noise (Holm over all Welch tests); none: each test at "
      "alpha")("tolerance",
               po::value(&gate.tolerance)->default_value(gate.tolerance, fmt::format("{:g}", gate.tolerance)),
               "accuracy points a cell may lose when a side has a single seed (or neither side any spread)")(
      "cpu-margin", po::value(&gate.cpu_margin)->default_value(gate.cpu_margin, fmt::format("{:g}", gate.cpu_margin)),
      "accuracy points a cell may lose, whatever the test says, when its runs ran on other CPUs in the two databases "
      "(provenance cpu_model and cpu_capability)");
  std::string details =
      "Compares every cell (one configuration; its finished runs are its seeds) that both databases\n"
      "have on top-1 % on the test split. Metrics:\n";
  for (const GateMetric& metric : gate_metrics())
    details += fmt::format("  {:<16} {}\n", metric.name, metric.description);
  details +=
      "Probe metrics are compared once per linear-probe protocol (lbfgs_probe, lbfgs_probe_raw,\n"
      "linear_probe) that a cell's runs store in both databases; a protocol only one stores is counted,\n"
      "not compared.\n"
      "A cell is worse when its mean is lower than the baseline's by more than seed noise explains:\n"
      "one-sided Welch t-test when both sides have >= 2 seeds (p Holm-adjusted over the check's tests,\n"
      "then compared with --alpha), otherwise more than\n"
      "--tolerance points lower. Where the two databases ran the cell on other CPUs (CPU runs repeat\n"
      "bit for bit only on the same kind), a drop also has to exceed --cpu-margin points. Prints the\n"
      "worse cells and a summary line. Neither database is written. Exit 0: none worse; 1: some\n"
      "worse; 2: unusable input (missing file, not a semharness database, no cell with finished runs\n"
      "in both).\n";
  if (!cli.parse(args, details)) return 0;
  if (correction == "holm")
    gate.correction = GateCorrection::Holm;
  else if (correction == "none")
    gate.correction = GateCorrection::None;
  else
    throw InputError(fmt::format("--correction {}: expected holm or none", correction));
  if (!metric_args.empty()) {
    gate.metrics.clear();
    for (const std::string& arg : metric_args) {
      for (const std::string& name : split_list(arg)) gate.metrics.push_back(name);
    }
  }

  const StoreSnapshot current = read_store_snapshot(db);
  const StoreSnapshot reference = read_store_snapshot(baseline);
  const GateResult result = regression_gate(current, reference, gate);
  if (result.common_cells == 0) {
    throw InputError(fmt::format("{} and {}: no cell has finished runs in both databases", db, baseline));
  }
  if (result.cells_compared == 0) {
    std::string metrics;
    for (const std::string& m : gate.metrics) metrics += (metrics.empty() ? "" : ", ") + m;
    throw InputError(fmt::format("{}: none of the {} cells it shares with {} has a value of {}", baseline,
                                 result.common_cells, db, metrics));
  }
  std::cout << format_gate(result, gate);
  return result.cells_worse > 0 ? 1 : 0;
}

}  // namespace semharness
