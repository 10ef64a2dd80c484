#include "reports/training_curves.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "harness/results/vocabulary.h"
#include "reports/comparison_table.h"
#include "reports/run_labels.h"

namespace semharness {
namespace {

// One line of a plot: the runs of one setting, their curve by seed (epoch -> top-1).
struct Setting {
  std::string method, label;  // label: "sem=on sem.L=32", what tells it apart within its method
  std::map<int64_t, std::map<int64_t, double>> curve_by_seed;
};

// Mean ± std over seeds at each epoch every seed of the setting reached.
struct MeanCurve {
  std::vector<int64_t> epochs;
  std::vector<SeedStats> stats;
};

MeanCurve mean_curve(const Setting& setting) {
  MeanCurve curve;
  std::map<int64_t, std::vector<double>> by_epoch;
  for (const auto& [seed, values] : setting.curve_by_seed) {
    for (const auto& [epoch, value] : values) by_epoch[epoch].push_back(value);
  }
  for (const auto& [epoch, values] : by_epoch) {
    if (values.size() != setting.curve_by_seed.size()) continue;
    curve.epochs.push_back(epoch);
    curve.stats.push_back(seed_stats(values));
  }
  return curve;
}

// The settings of one grid's finished, trained runs that store the curve, in the order of their first run.
std::vector<Setting> grid_settings(Store& store, const std::vector<const RunRecord*>& runs) {
  std::vector<std::string> keys = distinguishing_keys(runs, true);
  keys.erase(keys.begin());  // the method names the plot
  std::vector<Setting> settings;
  std::map<std::string, size_t> index;
  for (const RunRecord* run : runs) {
    std::map<int64_t, double> curve;
    for (const MetricRow& row : store.metrics(run->run_id)) {
      if (row.name == kOnlineTestTop1Curve) curve[row.epoch] = row.value;
    }
    if (curve.size() < 2) continue;
    const std::string method = run->config.at("method");
    std::string label;
    for (const std::string& key : keys)
      label += fmt::format("{}{}={}", label.empty() ? "" : " ", key, stored_value(*run, key));
    if (label.empty()) label = method;
    const std::string id = method + "\n" + label;
    if (!index.count(id)) {
      index[id] = settings.size();
      settings.push_back({method, label, {}});
    }
    settings[index.at(id)].curve_by_seed[run->seed] = std::move(curve);
  }
  return settings;
}

// The epoch of the curve nearest to fraction * its last epoch (the first of two as near).
size_t nearest_index(const MeanCurve& curve, double fraction) {
  const double target = fraction * static_cast<double>(curve.epochs.back());
  size_t best = 0;
  for (size_t i = 1; i < curve.epochs.size(); ++i) {
    if (std::abs(static_cast<double>(curve.epochs[i]) - target) <
        std::abs(static_cast<double>(curve.epochs[best]) - target))
      best = i;
  }
  return best;
}

ReportCell stats_cell(const SeedStats& s) {
  return {fmt::format("{:.2f} ± {:.2f}", s.mean, s.std), s.mean, false, {{"std", s.std}, {"n", double(s.n)}}};
}

ReportSection grid_section(const std::string& grid, const std::vector<Setting>& settings) {
  ReportSection section;
  section.id = "curves_" + grid;
  section.title = "Training curves: " + grid;
  section.paragraphs.push_back(
      "The online linear classifier's test top-1 % after each pretraining epoch (solo-learn's online probe: a "
      "linear layer trained along on detached backbone features), mean ± std over seeds. The last column is its "
      "change over the last quarter of training, next to the seeds' spread at the end: a curve that has "
      "flattened moves by about its spread or less.");
  ReportTable table;
  table.id = "curves_" + grid;
  table.title = "Online linear top-1 along pretraining: " + grid;
  table.header = {"method", "setting", "epoch", "quarter", "half", "three quarters", "end", "last quarter", "seeds"};
  table.label_columns = 2;
  std::vector<std::string> methods;
  for (const Setting& s : settings) {
    if (std::find(methods.begin(), methods.end(), s.method) == methods.end()) methods.push_back(s.method);
  }
  for (const std::string& method : methods) {
    LinePlot plot{"curves_" + grid + "_" + method,
                  "Online linear top-1 along pretraining: " + method,
                  "epoch",
                  "online linear top-1 % (test)",
                  false,
                  {}};
    for (const Setting& setting : settings) {
      if (setting.method != method) continue;
      const MeanCurve curve = mean_curve(setting);
      if (curve.epochs.size() < 2) continue;
      PlotSeries series{setting.label, {}, {}};
      for (size_t i = 0; i < curve.epochs.size(); ++i) {
        series.points.emplace_back(static_cast<double>(curve.epochs[i]), curve.stats[i].mean);
        series.errors.push_back(curve.stats[i].std);
      }
      plot.series.push_back(std::move(series));
      std::vector<ReportCell> row = {{setting.method, std::nullopt},
                                     {setting.label, std::nullopt},
                                     {fmt::format("{}", curve.epochs.back()), double(curve.epochs.back())}};
      for (double fraction : {0.25, 0.5, 0.75}) row.push_back(stats_cell(curve.stats[nearest_index(curve, fraction)]));
      const SeedStats& end = curve.stats.back();
      row.push_back(stats_cell(end));
      const double change = end.mean - curve.stats[nearest_index(curve, 0.75)].mean;
      row.push_back({fmt::format("{:+.2f}", change), change});
      row.push_back({fmt::format("{}", end.n), double(end.n)});
      table.rows.push_back(std::move(row));
    }
    if (!plot.series.empty()) section.plots.push_back(std::move(plot));
  }
  table.notes.push_back(
      "quarter, half, three quarters: the epochs nearest to those fractions of the last; last quarter: end minus "
      "three quarters, in points.");
  section.tables.push_back(std::move(table));
  return section;
}

}  // namespace

std::vector<ReportSection> training_curve_sections(Store& store, const std::string& /*db_path*/,
                                                   const std::string& grid) {
  std::map<std::string, std::vector<const RunRecord*>> by_grid;
  std::vector<std::string> grids;
  const std::vector<RunRecord> runs = store.runs(grid);
  for (const RunRecord& run : runs) {
    if (run.status != text(RunStatus::Finished) || is_untrained(run)) continue;
    if (!by_grid.count(run.grid)) grids.push_back(run.grid);
    by_grid[run.grid].push_back(&run);
  }
  std::vector<ReportSection> sections;
  for (const std::string& name : grids) {
    const std::vector<Setting> settings = grid_settings(store, by_grid.at(name));
    if (!settings.empty()) sections.push_back(grid_section(name, settings));
  }
  return sections;
}

}  // namespace semharness
