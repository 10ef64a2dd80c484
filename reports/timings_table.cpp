#include "reports/timings_table.h"

#include "reports/benchmark_tables.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

namespace semharness {
namespace {

// The phases of a run in the order they happen; other names (kernels) follow alphabetically.
int phase_rank(const std::string& name) {
  static const std::vector<std::string> phases = {"data",      "data_wait",  "augment",     "forward", "backward",
                                                  "optimizer", "checkpoint", "online_eval", "probe",   "run"};
  const auto it = std::find(phases.begin(), phases.end(), name);
  return it == phases.end() ? static_cast<int>(phases.size()) : static_cast<int>(it - phases.begin());
}

ReportTable timing_table(const std::string& id, const std::string& title, std::vector<TimingTotal> totals,
                         bool with_runs) {
  std::sort(totals.begin(), totals.end(), [](const TimingTotal& a, const TimingTotal& b) {
    return std::make_tuple(phase_rank(a.name), a.name, a.device) <
           std::make_tuple(phase_rank(b.name), b.name, b.device);
  });
  ReportTable table;
  table.id = id;
  table.title = title;
  table.label_columns = 2;
  table.header = {"name", "device"};
  if (with_runs) table.header.push_back("runs");
  for (const char* column : {"count", "total (s)", "mean (ms)"}) table.header.push_back(column);
  // The probes' time against pretraining's: run minus probe, per device (grid tables only).
  std::map<std::string, double> run_ms, probe_ms;
  for (const auto& t : totals) {
    if (t.name == "run") run_ms[t.device] += t.total_ms;
    if (t.name == "probe") probe_ms[t.device] += t.total_ms;
  }
  const bool with_share = with_runs && !run_ms.empty();
  if (with_share) table.header.push_back("x pretraining");
  for (const auto& t : totals) {
    std::vector<ReportCell> row = {{t.name, std::nullopt}, {t.device, std::nullopt}};
    if (with_runs) row.push_back({std::to_string(t.runs), static_cast<double>(t.runs)});
    const double mean_ms = t.count > 0 ? t.total_ms / static_cast<double>(t.count) : 0;
    row.push_back({std::to_string(t.count), static_cast<double>(t.count)});
    row.push_back({fmt::format("{:.2f}", t.total_ms / 1000), t.total_ms / 1000});
    row.push_back({fmt::format("{:.3f}", mean_ms), mean_ms});
    if (with_share) {
      const double pretraining = run_ms[t.device] - probe_ms[t.device];
      if (t.name.rfind("probe", 0) == 0 && pretraining > 0) {
        row.push_back({fmt::format("{:.2f}", t.total_ms / pretraining), t.total_ms / pretraining});
      } else {
        row.push_back({"", std::nullopt});
      }
    }
    table.rows.push_back(row);
  }
  return table;
}

}  // namespace

ReportSection timings_section(Store& store, const std::string& grid) {
  ReportSection section;
  section.id = "timings";
  section.title = "Timings";

  std::map<std::string, std::vector<TimingTotal>> by_grid;
  for (const TimingTotal& total : store.timing_totals(grid)) by_grid[total.grid].push_back(total);
  for (const auto& [grid_name, totals] : by_grid) {
    ReportTable table = timing_table("timings_" + grid_name, "Grid '" + grid_name + "': time per phase", totals, true);
    table.notes.push_back(
        "Summed over the grid's runs: count = timed calls, total = their wall time, mean = total / "
        "count; x pretraining = a probe phase's total over pretraining's (run minus probe: the pretraining loop "
        "with its online-classifier evaluation). On CUDA a step's phases are device time (events on the "
        "stream, no host synchronisation); on the CPU wall time.");
    section.tables.push_back(table);
  }

  const auto benchmarks = store.latest_benchmarks();
  if (!benchmarks.empty()) {
    section.tables.push_back(benchmark_table(benchmarks));
    if (auto floor = memory_floor_table(benchmarks)) section.tables.push_back(*floor);
  }
  if (section.tables.empty()) section.paragraphs.push_back("The database holds no timings for these runs.");
  return section;
}

std::vector<ReportSection> timing_sections(Store& store, const std::string& /*db_path*/, const std::string& grid) {
  return {timings_section(store, grid)};
}

}  // namespace semharness
