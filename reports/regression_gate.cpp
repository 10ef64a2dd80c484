#include "reports/regression_gate.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/config/errors.h"
#include "harness/config/run_config.h"
#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"
#include "reports/probe_scores.h"
#include "reports/run_labels.h"
#include "reports/text_table.h"

namespace semharness {
namespace {

std::optional<double> backbone_test_top1(const std::vector<ResultRow>& run_results, const std::string& protocol) {
  for (const ResultRow& r : run_results) {
    if (r.protocol == protocol && r.feature == text(Feature::Backbone) && r.split == text(Split::Test) &&
        r.metric == kTop1Metric) {
      return r.value;
    }
  }
  return std::nullopt;
}

// One database's finished runs by cell, and its result rows by run.
struct CellRuns {
  std::vector<std::string> order;  // cell ids, first-seen order
  std::map<std::string, std::vector<const RunRecord*>> runs;
  std::map<std::string, std::vector<ResultRow>> results;
};

CellRuns finished_cells(const StoreSnapshot& db) {
  CellRuns cells;
  for (const RunRecord& run : db.runs) {
    if (run.status != text(RunStatus::Finished)) continue;
    if (!cells.runs.count(run.cell_id)) cells.order.push_back(run.cell_id);
    cells.runs[run.cell_id].push_back(&run);
  }
  for (const ResultRow& row : db.results) cells.results[row.run_id].push_back(row);
  return cells;
}

// Per grid, the identity keys whose values differ between its runs (both databases): what tells its cells apart.
std::map<std::string, std::vector<std::string>> varying_keys(const StoreSnapshot& a, const StoreSnapshot& b) {
  std::map<std::string, std::map<std::string, std::set<std::string>>> values;  // grid -> key -> values
  for (const StoreSnapshot* db : {&a, &b}) {
    for (const RunRecord& run : db->runs) {
      for (const auto& [key, value] : run.config) values[run.grid][key].insert(value);
    }
  }
  std::map<std::string, std::vector<std::string>> varying;
  for (const auto& [grid, key_values] : values) {
    std::vector<std::string>& keys = varying[grid];
    for (const KeySpec& spec : config_keys()) {
      const auto found = key_values.find(spec.name);
      if (spec.identity && found != key_values.end() && found->second.size() > 1) keys.push_back(spec.name);
    }
  }
  return varying;
}

std::string cell_label(const RunRecord& run, const std::vector<std::string>& varying) {
  std::string label = run.grid;
  for (const std::string& key : varying)
    label += fmt::format("{}{}={}", label == run.grid ? ": " : " ", key, stored_value(run, key));
  return label;
}

std::vector<double> metric_values(const std::string& metric, const CellRuns& cells, const std::string& cell_id,
                                  const std::string& protocol) {
  static const std::vector<ResultRow> kNone;
  std::vector<double> values;
  for (const RunRecord* run : cells.runs.at(cell_id)) {
    const auto results = cells.results.find(run->run_id);
    const std::vector<ResultRow>& run_results = results == cells.results.end() ? kNone : results->second;
    if (const auto value = run_metric(metric, *run, run_results, protocol)) {
      values.push_back(*value);
    }
  }
  return values;
}

// Every gate metric reads the linear probe but the two named after a protocol (kNN, the online classifier),
// which read that protocol's test top-1 on the backbone feature.
bool is_probe_metric(const std::string& metric) { return metric != kKnnProtocol && metric != kOnlineLinearProtocol; }

// The linear-probe protocols that the finished runs of a cell store.
std::set<std::string> cell_protocols(const CellRuns& cells, const std::string& cell_id) {
  std::set<std::string> protocols;
  for (const RunRecord* run : cells.runs.at(cell_id)) {
    const auto results = cells.results.find(run->run_id);
    if (results == cells.results.end()) continue;
    for (const ResultRow& row : results->second) {
      if (is_linear_probe_protocol(row.protocol)) protocols.insert(row.protocol);
    }
  }
  return protocols;
}

// Whether a cell's finished runs ran on other processors in the two databases (a run without the provenance
// entries counts as an unknown processor, the same as another unknown one).
bool ran_on_other_cpus(const StoreSnapshot& current, const CellRuns& current_cells, const StoreSnapshot& baseline,
                       const CellRuns& baseline_cells, const std::string& cell_id) {
  const auto cpus = [&cell_id](const StoreSnapshot& db, const CellRuns& cells) {
    std::set<std::string> found;
    for (const RunRecord* run : cells.runs.at(cell_id)) {
      const auto cpu = db.cpu_of_run.find(run->run_id);
      found.insert(cpu == db.cpu_of_run.end() ? std::string() : cpu->second);
    }
    return found;
  };
  const std::set<std::string> a = cpus(current, current_cells), b = cpus(baseline, baseline_cells);
  return a != b;
}

std::string mean_std(const SeedStats& s) {
  return s.n == 0 ? std::string("-") : fmt::format("{:.2f} ± {:.2f} (n={})", s.mean, s.std, s.n);
}

}  // namespace

const std::vector<GateMetric>& gate_metrics() {
  static const std::vector<GateMetric> metrics = {
      {"headline",
       "the comparison table's: probe.backbone (sem=off), probe.sem (on, gumbel), probe.embedding (linear)"},
      {"probe.backbone", "linear probe on the backbone feature h (every run)"},
      {"probe.embedding", "linear probe on the embedder output e (runs with an embedder)"},
      {"probe.sem", "linear probe on the SEM feature at the tau_d best on validation (sem=on/gumbel runs)"},
      {std::string(kKnnProtocol), "weighted kNN on the backbone feature"},
      {std::string(kOnlineLinearProtocol), "the online linear classifier trained during pretraining (solo-learn's)"},
  };
  return metrics;
}

std::optional<double> run_metric(const std::string& metric, const RunRecord& run,
                                 const std::vector<ResultRow>& run_results, std::string_view probe_protocol) {
  if (!is_probe_metric(metric)) return backbone_test_top1(run_results, metric);
  const auto by_run = probe_scores_by_run(run_results, probe_protocol);
  const auto found = by_run.find(run.run_id);
  const ProbeScores scores = found == by_run.end() ? ProbeScores{} : found->second;
  if (metric == "headline") return headline_accuracy(scores, stored_sem_mode(run));
  if (metric == "probe.backbone") return scores.backbone_test;
  if (metric == "probe.embedding") return scores.embedding_test;
  if (metric == "probe.sem") return scores.sem_test;
  throw std::invalid_argument("unknown gate metric '" + metric + "'");
}

GateResult regression_gate(const StoreSnapshot& current, const StoreSnapshot& baseline, const GateOptions& options) {
  for (const std::string& metric : options.metrics) {
    const auto& known = gate_metrics();
    if (std::none_of(known.begin(), known.end(), [&](const GateMetric& m) { return m.name == metric; })) {
      std::string names;
      for (const GateMetric& m : known) names += (names.empty() ? "" : ", ") + m.name;
      throw InputError(fmt::format("--metric {}: unknown metric (expected one of {})", metric, names));
    }
  }
  if (!(options.alpha > 0 && options.alpha < 1)) {
    throw InputError(fmt::format("--alpha {}: expected a probability between 0 and 1", options.alpha));
  }
  if (!(options.tolerance >= 0)) {
    throw InputError(fmt::format("--tolerance {}: expected accuracy points >= 0", options.tolerance));
  }
  if (!(options.cpu_margin >= 0)) {
    throw InputError(fmt::format("--cpu-margin {}: expected accuracy points >= 0", options.cpu_margin));
  }

  const CellRuns current_cells = finished_cells(current), baseline_cells = finished_cells(baseline);
  const auto varying = varying_keys(current, baseline);
  GateResult result;
  for (const std::string& cell_id : current_cells.order) result.only_current += !baseline_cells.runs.count(cell_id);
  for (const std::string& cell_id : baseline_cells.order) {
    if (!current_cells.runs.count(cell_id)) {
      ++result.only_baseline;
      continue;
    }
    ++result.common_cells;
    const RunRecord& representative = *baseline_cells.runs.at(cell_id).front();
    // The probe protocols to compare: those both sides store; with none in common, the baseline's first, so
    // that a current database without its probes fails as missing.
    const std::set<std::string> baseline_protocols = cell_protocols(baseline_cells, cell_id);
    const std::set<std::string> current_protocols = cell_protocols(current_cells, cell_id);
    std::vector<std::string> probe_protocols, baseline_order;
    for (const std::string& protocol : linear_probe_protocols()) {
      if (baseline_protocols.count(protocol)) baseline_order.push_back(protocol);
      if (baseline_protocols.count(protocol) && current_protocols.count(protocol)) probe_protocols.push_back(protocol);
    }
    if (probe_protocols.empty() && !baseline_order.empty()) probe_protocols.push_back(baseline_order.front());
    const bool any_probe_metric = std::any_of(options.metrics.begin(), options.metrics.end(), is_probe_metric);
    if (any_probe_metric) {
      std::set<std::string> either = baseline_protocols;
      either.insert(current_protocols.begin(), current_protocols.end());
      result.protocols_one_side += static_cast<int64_t>(either.size() - probe_protocols.size());
    }
    const bool other_cpu = ran_on_other_cpus(current, current_cells, baseline, baseline_cells, cell_id);
    bool compared = false;
    for (const std::string& metric : options.metrics) {
      const std::vector<std::string> protocols =
          is_probe_metric(metric) ? probe_protocols : std::vector<std::string>{metric};
      for (const std::string& protocol : protocols) {
        const auto baseline_values = metric_values(metric, baseline_cells, cell_id, protocol);
        if (baseline_values.empty()) continue;  // nothing to hold the current database to
        compared = true;
        GateComparison c;
        c.cell_id = cell_id;
        c.label = cell_label(representative, varying.at(representative.grid));
        c.metric = metric;
        c.protocol = protocol;
        c.current = seed_stats(metric_values(metric, current_cells, cell_id, protocol));
        c.baseline = seed_stats(baseline_values);
        c.difference = c.current.mean - c.baseline.mean;
        c.other_cpu = other_cpu;
        if (c.current.n == 0) {
          c.test = GateComparison::Test::Missing;
          c.worse = true;
        } else if (c.current.n >= 2 && c.baseline.n >= 2 && (c.current.std > 0 || c.baseline.std > 0)) {
          c.test = GateComparison::Test::Welch;
          c.welch = welch_t_test(c.current, c.baseline);
          c.p_adjusted = c.welch->p_lower;  // decided below, over every Welch test at once
        } else {
          c.test = GateComparison::Test::Tolerance;
          c.worse = -c.difference > (other_cpu ? std::max(options.tolerance, options.cpu_margin) : options.tolerance);
        }
        result.comparisons.push_back(std::move(c));
      }
    }
    result.cells_compared += compared;
    result.cells_other_cpu += compared && other_cpu;
  }

  // Holm's adjustment over the m Welch tests keeps the chance that any cell fails on seed noise alone at or
  // below alpha however many cells and metrics are compared.
  std::vector<GateComparison*> welch;
  for (auto& c : result.comparisons) {
    if (c.test == GateComparison::Test::Welch) welch.push_back(&c);
  }
  if (options.correction == GateCorrection::Holm) {
    std::vector<double> p;
    for (const GateComparison* c : welch) p.push_back(c->welch->p_lower);
    const std::vector<double> adjusted = holm_adjusted(p);
    for (size_t i = 0; i < welch.size(); ++i) welch[i]->p_adjusted = adjusted[i];
  }
  for (GateComparison* c : welch) {
    c->worse = c->p_adjusted < options.alpha && (!c->other_cpu || -c->difference > options.cpu_margin);
  }
  std::set<std::string> worse_cells;
  for (const auto& c : result.comparisons) {
    if (c.worse) worse_cells.insert(c.cell_id);
  }
  result.cells_worse = static_cast<int64_t>(worse_cells.size());
  return result;
}

std::string format_gate(const GateResult& result, const GateOptions& options) {
  std::string out;
  std::vector<std::vector<std::string>> table = {
      {"cell", "metric", "protocol", "current", "baseline", "difference", "test"}};
  bool any_tolerance = false, any_welch = false;
  for (const GateComparison& c : result.comparisons) {
    any_tolerance = any_tolerance || c.test == GateComparison::Test::Tolerance;
    any_welch = any_welch || c.test == GateComparison::Test::Welch;
    if (!c.worse) continue;
    std::string test;
    switch (c.test) {
      case GateComparison::Test::Welch:
        test =
            options.correction == GateCorrection::Holm
                ? fmt::format("p = {:.2g}, Holm-adjusted {:.2g} (Welch t = {:.2f}, df = {:.1f})", c.welch->p_lower,
                              c.p_adjusted, c.welch->t, c.welch->df)
                : fmt::format("p = {:.2g} (Welch t = {:.2f}, df = {:.1f})", c.welch->p_lower, c.welch->t, c.welch->df);
        break;
      case GateComparison::Test::Tolerance: test = fmt::format("tolerance {:g}", options.tolerance); break;
      case GateComparison::Test::Missing: test = "missing"; break;
    }
    table.push_back({c.label, c.metric, c.protocol, mean_std(c.current), mean_std(c.baseline),
                     c.test == GateComparison::Test::Missing ? "-" : fmt::format("{:+.2f}", c.difference), test});
  }
  if (table.size() > 1)
    out += "worse than baseline (top-1 % on the test split, mean ± std over seeds):\n" + format_aligned(table);
  out += fmt::format(
      "check: {} cell{} compared, {} worse than baseline (alpha {:g}{}", result.cells_compared,
      result.cells_compared == 1 ? "" : "s", result.cells_worse, options.alpha,
      options.correction == GateCorrection::Holm && any_welch ? ", Holm-adjusted over the Welch tests" : "");
  if (any_tolerance)
    out += fmt::format("; tolerance {:g} points where a side has one seed or no spread", options.tolerance);
  if (result.cells_other_cpu > 0) {
    out += fmt::format("; {} cell{} ran on another CPU, where a drop counts beyond {:g} points only",
                       result.cells_other_cpu, result.cells_other_cpu == 1 ? "" : "s", options.cpu_margin);
  }
  out += fmt::format("); {} only in one database", result.only_current + result.only_baseline);
  if (result.protocols_one_side > 0) {
    out += fmt::format("; {} probe protocol{} of shared cells stored by one database only, not compared",
                       result.protocols_one_side, result.protocols_one_side == 1 ? "" : "s");
  }
  out += "\n";
  return out;
}

}  // namespace semharness
