#include "reports/probe_scores.h"

#include "reports/comparison_table.h"

namespace semharness {

std::map<std::string, ProbeScores> probe_scores_by_run(const std::vector<ResultRow>& results) {
  const std::map<std::string, double> best_tau = best_sem_tau_d(results);
  std::map<std::string, ProbeScores> scores;
  for (const auto& r : results) {
    if (r.protocol != "linear_probe" || r.metric != "top1" || r.split != "test") continue;
    if (r.feature == "backbone") scores[r.run_id].backbone_test = r.value;
    if (r.feature == "embedding") scores[r.run_id].embedding_test = r.value;
    if (r.feature == "sem" && r.tau_d) {
      const auto best = best_tau.find(r.run_id);
      if (best != best_tau.end() && best->second == *r.tau_d) {
        scores[r.run_id].sem_test = r.value;
        scores[r.run_id].sem_tau_d = best->second;
      }
    }
  }
  return scores;
}

std::optional<double> headline_accuracy(const ProbeScores& scores, const std::string& sem_mode) {
  if (sem_mode == "off") return scores.backbone_test;
  if (sem_mode == "linear") return scores.embedding_test;
  return scores.sem_test;
}

}  // namespace semharness
