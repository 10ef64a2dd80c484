#include "reports/ablations.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/results/vocabulary.h"
#include "reports/comparison_table.h"
#include "reports/probe_scores.h"
#include "reports/run_labels.h"

namespace semharness {
namespace {

struct AxisSpec {
  std::string key;  // the config key, or "probe.tau_d"
  std::string id;   // table and plot ids: "ablation_" + id
  std::string x_label;
  bool temperature;              // log x axis
  std::set<EmbedderMode> modes;  // sem modes the key means something for
};

const std::vector<AxisSpec>& axis_specs() {
  static const std::vector<AxisSpec> specs = {
      {"sem.L", "L", "sem.L (simplices)", false, {EmbedderMode::Softmax, EmbedderMode::Gumbel, EmbedderMode::Linear}},
      {"sem.V",
       "V",
       "sem.V (vertices per simplex)",
       false,
       {EmbedderMode::Softmax, EmbedderMode::Gumbel, EmbedderMode::Linear}},
      {"sem.tau_online",
       "tau_online",
       "sem.tau_online (pretraining temperature, online branch / view 1)",
       true,
       {EmbedderMode::Softmax, EmbedderMode::Gumbel}},
      {"sem.tau_target",
       "tau_target",
       "sem.tau_target (pretraining temperature, target branch / view 2)",
       true,
       {EmbedderMode::Softmax, EmbedderMode::Gumbel}},
      {"probe.tau_d",
       "tau_d",
       "probe.tau_d (downstream temperature)",
       true,
       {EmbedderMode::Softmax, EmbedderMode::Gumbel}},
  };
  return specs;
}

// One accuracy of one run at one value of the ablated key.
struct Point {
  const RunRecord* run;
  double x;
  double y;
};

std::string group_key(const RunRecord& run, const std::string& excluded) {
  std::string key;
  for (const auto& spec : config_keys()) {
    if (spec.identity && spec.name != excluded) key += spec.name + "=" + stored_value(run, spec.name) + "\n";
  }
  return key;
}

std::optional<double> parse_double(const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Lines (groups of points sharing every identity key but the ablated one) with at least two x values, as a
// section with a table and a plot; nullopt when no group has two. protocol_note: a sentence on the protocol
// chosen among several ("" when the runs store one).
std::optional<ReportSection> ablation_of(const AxisSpec& axis, const std::vector<Point>& points,
                                         const std::string& protocol, const std::string& protocol_note) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Point*>> groups;
  for (const auto& point : points) {
    const std::string key = group_key(*point.run, axis.key);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&point);
  }
  std::vector<std::string> kept;
  for (const auto& key : order) {
    std::set<double> xs;
    for (const auto* p : groups[key]) xs.insert(p->x);
    if (xs.size() >= 2) kept.push_back(key);
  }
  if (kept.empty()) return std::nullopt;

  // Line labels: the method, the sem mode when it is not "on", and any other key that differs between lines.
  std::vector<std::string> label_keys = {"method"};
  for (const auto& spec : config_keys()) {
    if (!spec.identity || spec.name == axis.key || spec.name == "method") continue;
    std::set<std::string> values;
    for (const auto& key : kept) values.insert(stored_value(*groups[key].front()->run, spec.name));
    if (values.size() > 1 && spec.name != "sem") label_keys.push_back(spec.name);
  }
  std::set<double> all_x;
  for (const auto& key : kept) {
    for (const auto* p : groups[key]) all_x.insert(p->x);
  }
  const std::vector<double> xs(all_x.begin(), all_x.end());

  ReportTable table;
  table.id = "ablation_" + axis.id;
  table.title = "Test top-1 (%) against " + axis.key;
  table.header = {"line"};
  for (double x : xs) table.header.push_back(axis.key + "=" + fmt::format("{}", x));
  LinePlot plot;
  plot.id = "ablation_" + axis.id;
  plot.title = "Test top-1 against " + axis.key;
  plot.x_label = axis.x_label;
  plot.y_label = "test top-1 (%)";
  plot.log_x = axis.temperature || (xs.front() > 0 && xs.back() / xs.front() >= 10);

  for (const auto& key : kept) {
    const RunRecord& first = *groups[key].front()->run;
    std::string label = first.config.at("method");
    if (const EmbedderMode mode = stored_sem_mode(first); mode != EmbedderMode::Softmax)
      label += std::string(" sem=") + text(mode);
    for (size_t i = 1; i < label_keys.size(); ++i)
      label += fmt::format(" {}={}", label_keys[i], stored_value(first, label_keys[i]));
    // x -> seed -> values (one per seed unless the store holds duplicates)
    std::map<double, std::map<int64_t, std::vector<double>>> by_x;
    for (const auto* p : groups[key]) by_x[p->x][p->run->seed].push_back(p->y);
    std::vector<ReportCell> row = {{label, std::nullopt}};
    PlotSeries series{label, {}, {}};
    double best = -std::numeric_limits<double>::infinity();
    for (double x : xs) {
      const auto it = by_x.find(x);
      if (it == by_x.end()) {
        row.push_back({"-", std::nullopt});
        continue;
      }
      std::vector<double> per_seed;
      for (const auto& [seed, values] : it->second) {
        double sum = 0;
        for (double v : values) sum += v;
        per_seed.push_back(sum / static_cast<double>(values.size()));
      }
      const SeedStats s = seed_stats(per_seed);
      row.push_back({fmt::format("{:.2f} ± {:.2f} (n={})", s.mean, s.std, s.n),
                     s.mean,
                     false,
                     {{"std", s.std}, {"n", static_cast<double>(s.n)}}});
      series.points.emplace_back(x, s.mean);
      series.errors.push_back(s.std);
      best = std::max(best, s.mean);
    }
    for (size_t c = 1; c < row.size(); ++c) row[c].best = row[c].value && *row[c].value == best;
    table.rows.push_back(row);
    plot.series.push_back(series);
  }
  if (axis.key == "probe.tau_d") {
    table.notes.push_back("Linear probe (" + protocol +
                          ") test top-1 % of the SEM feature softmax(e / tau_d) at each "
                          "tau_d, mean ± std over seeds; each line is one configuration. Bold: the best tau_d of a "
                          "line (the comparison table picks tau_d on validation instead).");
  } else {
    table.notes.push_back(
        "Linear probe (" + protocol +
        ") test top-1 % of the SEM feature at the tau_d best on "
        "validation (the embedder output for sem=linear), mean ± std over seeds; each line holds every other "
        "key fixed. Bold: the best value of a line.");
  }
  if (!protocol_note.empty()) table.notes.push_back(protocol_note);
  ReportSection section;
  section.id = "ablation_" + axis.id;
  section.title = "Ablation: " + axis.x_label;
  section.tables.push_back(table);
  section.plots.push_back(plot);
  return section;
}

}  // namespace

std::vector<ReportSection> ablation_report(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results) {
  // One protocol for every ablation, the first the runs store: a copy of each ablation per protocol would
  // double the section count for curves that the comparison sections already set side by side.
  std::set<std::string> run_ids;
  for (const auto& run : runs) run_ids.insert(run.run_id);
  const std::vector<std::string> present = probe_protocols_present(results_of_runs(results, run_ids));
  const std::string protocol = present.empty() ? linear_probe_protocols().front() : present.front();
  std::string protocol_note;
  if (present.size() > 1) {
    std::string others;
    for (size_t i = 1; i < present.size(); ++i) others += (i > 1 ? ", " : "") + present[i];
    protocol_note = fmt::format(
        "Probe protocol {}, the first these runs store in the order {}; the runs also "
        "store {}, compared in the comparison sections.",
        protocol, fmt::join(linear_probe_protocols(), ", "), others);
  }
  const auto scores = probe_scores_by_run(results, protocol);
  // run -> tau_d -> SEM probe test top-1
  std::map<std::string, std::map<double, double>> test_by_tau;
  for (const auto& r : results) {
    if (r.protocol == protocol && r.metric == kTop1Metric && r.feature == text(Feature::Sem) &&
        r.split == text(Split::Test) && r.tau_d) {
      test_by_tau[r.run_id][*r.tau_d] = r.value;
    }
  }
  std::vector<ReportSection> sections;
  for (const auto& axis : axis_specs()) {
    std::vector<Point> points;
    for (const auto& run : runs) {
      if (run.status != text(RunStatus::Finished) || !axis.modes.count(stored_sem_mode(run))) continue;
      if (axis.key == "probe.tau_d") {
        const auto it = test_by_tau.find(run.run_id);
        if (it == test_by_tau.end()) continue;
        for (const auto& [tau, top1] : it->second) points.push_back({&run, tau, top1});
        continue;
      }
      const auto score = scores.find(run.run_id);
      const auto x = parse_double(run.config.at(axis.key));
      if (score == scores.end() || !x) continue;
      if (const auto y = headline_accuracy(score->second, stored_sem_mode(run))) points.push_back({&run, *x, *y});
    }
    if (auto section = ablation_of(axis, points, protocol, protocol_note)) sections.push_back(std::move(*section));
  }
  if (sections.empty()) {
    ReportSection none;
    none.id = "ablations";
    none.title = "Ablations (SPEC §4.4)";
    none.paragraphs.push_back(
        "No SEM setting (sem.L, sem.V, sem.tau_online, sem.tau_target, probe.tau_d) takes two "
        "or more values with the other keys fixed in these runs.");
    sections.push_back(none);
  }
  return sections;
}

std::vector<ReportSection> ablation_sections(Store& store, const std::string& /*db_path*/, const std::string& grid) {
  return ablation_report(store.runs(grid), store.results());
}

}  // namespace semharness
