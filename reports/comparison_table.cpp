#include "reports/comparison_table.h"

#include "reports/text_table.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

namespace semharness {
namespace {

bool is_sem_key(const std::string& key) { return key == "sem" || key.rfind("sem.", 0) == 0; }

// The keys that identify a row: identity keys other than the SEM ones.
std::vector<std::string> row_keys() {
  std::vector<std::string> keys;
  for (const auto& spec : config_keys()) {
    if (spec.identity && !is_sem_key(spec.name)) keys.push_back(spec.name);
  }
  return keys;
}

struct RunScores {
  std::optional<double> backbone_test;
  std::optional<double> embedding_test;
  std::optional<double> sem_test;  // at the tau_d with the best validation top-1
};

std::map<std::string, RunScores> scores_by_run(const std::vector<ResultRow>& results) {
  std::map<std::string, RunScores> scores;
  std::map<std::string, std::map<double, std::pair<double, double>>> sem;  // run -> tau_d -> (val, test)
  for (const auto& r : results) {
    if (r.protocol != "linear_probe" || r.metric != "top1") continue;
    if (r.feature == "backbone" && r.split == "test") scores[r.run_id].backbone_test = r.value;
    if (r.feature == "embedding" && r.split == "test") scores[r.run_id].embedding_test = r.value;
    if (r.feature == "sem" && r.tau_d) {
      auto& entry = sem[r.run_id][*r.tau_d];
      if (r.split == "val") entry.first = r.value;
      if (r.split == "test") entry.second = r.value;
    }
  }
  for (const auto& [run_id, by_tau] : sem) {
    const std::pair<double, double>* best = nullptr;
    for (const auto& [tau, val_test] : by_tau) {
      if (!best || val_test.first > best->first) best = &val_test;
    }
    if (best) scores[run_id].sem_test = best->second;
  }
  return scores;
}

}  // namespace

SeedStats seed_stats(const std::vector<double>& values) {
  SeedStats s;
  s.n = static_cast<int64_t>(values.size());
  if (s.n == 0) return s;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

std::vector<ComparisonRow> comparison_table(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results) {
  const auto keys = row_keys();
  const auto scores = scores_by_run(results);
  std::vector<const RunRecord*> finished;
  for (const auto& run : runs) {
    if (run.status == "finished") finished.push_back(&run);
  }
  // Keys whose value differs between finished runs go into the label (method always does).
  std::vector<std::string> varying;
  for (const auto& key : keys) {
    std::set<std::string> values;
    for (const auto* run : finished) values.insert(run->config.at(key));
    if (key == "method" || values.size() > 1) varying.push_back(key);
  }
  std::vector<std::string> order;
  // label -> sem mode (off, on, linear, gumbel) -> one value per finished run
  std::map<std::string, std::map<std::string, std::vector<double>>> cells;
  for (const auto* run : finished) {
    std::string label;
    for (const auto& key : varying) {
      label += label.empty() ? run->config.at(key) : fmt::format(" {}={}", key, run->config.at(key));
    }
    if (!cells.count(label)) order.push_back(label);
    auto& cell = cells[label];
    const auto it = scores.find(run->run_id);
    if (it == scores.end()) continue;
    const std::string& mode = run->config.at("sem");
    const auto& score = mode == "off" ? it->second.backbone_test
                        : mode == "linear" ? it->second.embedding_test
                                           : it->second.sem_test;
    if (score) cell[mode].push_back(*score);
  }
  const auto stats = [](const std::map<std::string, std::vector<double>>& cell, const std::string& mode) {
    const auto it = cell.find(mode);
    return it == cell.end() ? std::nullopt : std::optional<SeedStats>(seed_stats(it->second));
  };
  std::vector<ComparisonRow> rows;
  for (const auto& label : order) {
    const auto& cell = cells.at(label);
    rows.push_back({label, stats(cell, "off"), stats(cell, "on"), stats(cell, "linear"), stats(cell, "gumbel")});
  }
  return rows;
}

std::string format_comparison(const std::vector<ComparisonRow>& rows) {
  const auto cell = [](const std::optional<SeedStats>& s) {
    return s ? fmt::format("{:.2f} ± {:.2f} (n={})", s->mean, s->std, s->n) : std::string("-");
  };
  const bool any_linear = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.linear.has_value(); });
  const bool any_gumbel = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.gumbel.has_value(); });
  std::vector<std::string> header = {"method", "baseline", "+SEM", "delta"};
  if (any_linear) header.push_back("+linear");
  if (any_gumbel) header.push_back("+gumbel");
  std::vector<std::vector<std::string>> table = {header};
  for (const auto& row : rows) {
    const std::string delta = row.baseline && row.sem ? fmt::format("{:+.2f}", row.sem->mean - row.baseline->mean) : "";
    std::vector<std::string> line = {row.label, cell(row.baseline), cell(row.sem), delta};
    if (any_linear) line.push_back(cell(row.linear));
    if (any_gumbel) line.push_back(cell(row.gumbel));
    table.push_back(line);
  }
  std::string out = format_aligned(table);
  out += "top-1 % on the test split, mean ± std over seeds. protocol linear_probe: frozen features, probe\n"
         "selected on a 10% validation split; baseline = backbone feature of sem=off runs, +SEM = SEM feature of\n"
         "sem=on runs at the tau_d best on validation";
  if (any_linear) out += "; +linear = embedder output of sem=linear runs (no softmax)";
  if (any_gumbel) out += "; +gumbel = sem=gumbel runs, like +SEM";
  out += ".\n";
  return out;
}

}  // namespace semharness
