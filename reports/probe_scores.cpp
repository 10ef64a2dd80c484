#include "reports/probe_scores.h"

#include <algorithm>

#include "harness/results/vocabulary.h"
#include "reports/comparison_table.h"

namespace semharness {

std::map<std::string, ProbeScores> probe_scores_by_run(const std::vector<ResultRow>& results,
                                                       std::string_view protocol) {
  const std::map<std::string, double> best_tau = best_sem_tau_d(results, protocol);
  std::map<std::string, ProbeScores> scores;
  for (const auto& r : results) {
    if (r.protocol != protocol || r.metric != kTop1Metric || r.split != text(Split::Test)) continue;
    const auto feature = parse_feature(r.feature);
    if (feature == Feature::Backbone) scores[r.run_id].backbone_test = r.value;
    if (feature == Feature::Embedding) scores[r.run_id].embedding_test = r.value;
    if (feature == Feature::Sem && r.tau_d) {
      const auto best = best_tau.find(r.run_id);
      if (best != best_tau.end() && best->second == *r.tau_d) {
        scores[r.run_id].sem_test = r.value;
        scores[r.run_id].sem_tau_d = best->second;
      }
    }
  }
  return scores;
}

std::optional<double> headline_accuracy(const ProbeScores& scores, EmbedderMode sem_mode) {
  switch (sem_mode) {
    case EmbedderMode::Off: return scores.backbone_test;
    case EmbedderMode::Linear: return scores.embedding_test;
    case EmbedderMode::Softmax:
    case EmbedderMode::Gumbel: return scores.sem_test;
  }
  return std::nullopt;
}

std::vector<std::string> probe_protocols_present(const std::vector<ResultRow>& results) {
  std::set<std::string> stored;
  for (const auto& r : results) {
    if (is_linear_probe_protocol(r.protocol)) stored.insert(r.protocol);
  }
  std::vector<std::string> present;
  for (const auto& protocol : linear_probe_protocols()) {
    if (stored.count(protocol)) present.push_back(protocol);
  }
  return present;
}

std::vector<ResultRow> results_of_runs(const std::vector<ResultRow>& results, const std::set<std::string>& run_ids) {
  std::vector<ResultRow> kept;
  std::copy_if(results.begin(), results.end(), std::back_inserter(kept),
               [&](const ResultRow& r) { return run_ids.count(r.run_id) > 0; });
  return kept;
}

}  // namespace semharness
