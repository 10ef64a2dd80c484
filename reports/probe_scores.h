#pragma once
// The linear-probe accuracies of each run that the reports compare (the comparison table, the regression
// gate), picked in one place so that they agree. Every accuracy is of one probe protocol
// (harness/results/probe_protocols.h). Torch-free.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "harness/config/run_spec.h"
#include "harness/results/probe_protocols.h"
#include "harness/store/store.h"

namespace semharness {

// Linear-probe top-1 on the test split of each feature of one run, under one protocol.
struct ProbeScores {
  std::optional<double> backbone_test;
  std::optional<double> embedding_test;
  std::optional<double> sem_test;   // at sem_tau_d
  std::optional<double> sem_tau_d;  // best_sem_tau_d(): the best validation top-1 (ties: the smallest)
};

// run_id -> its scores, for every run with top-1 rows of `protocol`.
std::map<std::string, ProbeScores> probe_scores_by_run(const std::vector<ResultRow>& results,
                                                       std::string_view protocol);

// The comparison table's number for a run of the given sem mode: the backbone feature for off, the
// embedder output for linear (it has no softmax), the SEM feature at the validation-best tau_d otherwise.
std::optional<double> headline_accuracy(const ProbeScores& scores, EmbedderMode sem_mode);

// The linear-probe protocols that the rows store (any run, split or metric), in linear_probe_protocols()
// order: the converged probe first.
std::vector<std::string> probe_protocols_present(const std::vector<ResultRow>& results);

// The rows of the given runs only (store.results() holds every grid's).
std::vector<ResultRow> results_of_runs(const std::vector<ResultRow>& results, const std::set<std::string>& run_ids);

}  // namespace semharness
