#pragma once
// The paper's table: one row per configuration (method and whatever else varies, SEM settings aside),
// columns baseline (sem=off, linear probe on the backbone feature) and +SEM (sem=on, linear probe on the
// SEM feature at the tau_d chosen on the validation split), mean ± std over seeds, and their difference with
// a 95% confidence interval; the controls get their own columns when the database has them: +linear
// (sem=linear, probe on the embedder output) and +gumbel (sem=gumbel, like +SEM); the baseline's online
// linear classifier and the published number (reports/reference_numbers.h) for the same method, dataset and
// backbone. When a row's runs of one sem mode hold several SEM settings (sem.L, sem.V, sem.tau_online,
// sem.tau_target), the setting with the best mean validation top-1 is the one reported. Every accuracy of a
// table is of one linear-probe protocol (harness/results/probe_protocols.h); a grid whose runs store several
// gets a table per protocol, and a table of +SEM - baseline under each. Runs with epochs = 0 are the
// untrained-backbone floor: a row of their own, after the trained ones. Torch-free.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/config/run_spec.h"
#include "harness/results/probe_protocols.h"
#include "harness/store/store.h"
#include "reports/document.h"
#include "reports/reference_numbers.h"

namespace semharness {

struct SeedStats {
  double mean = 0, std = 0;  // std: sample standard deviation (0 for one seed)
  int64_t n = 0;
};
SeedStats seed_stats(const std::vector<double>& values);

// A confidence interval of mean(b) - mean(a) over seeds.
struct DifferenceInterval {
  double difference = 0;  // mean(b) - mean(a) (= the mean of the per-seed differences when paired)
  double low = 0, high = 0;
  double df = 0;        // degrees of freedom of the t quantile
  bool paired = false;  // paired t-interval on the per-seed differences; false: Welch
  double confidence = 0.95;
};
// Paired by seed when a and b hold the same seeds (at least 2): t-interval on the per-seed differences.
// Otherwise Welch's interval (Welch–Satterthwaite df; n - 2 summed when both sides have zero variance, the
// interval then being a point). nullopt when a side has fewer than 2 seeds (and they cannot be paired).
std::optional<DifferenceInterval> difference_interval(const std::map<int64_t, double>& a,
                                                      const std::map<int64_t, double>& b, double confidence = 0.95);

// run_id -> the tau_d whose SEM linear probe of `protocol` has the best validation top-1 (ties: the smallest
// tau_d).
std::map<std::string, double> best_sem_tau_d(const std::vector<ResultRow>& results, std::string_view protocol);

// One column of a row: the headline accuracy of each seed (runs of one seed that differ only in settings
// the column ignores are averaged), and the SEM setting chosen when there were several.
struct ComparisonArm {
  std::map<int64_t, double> by_seed;
  std::string setting;  // e.g. "sem.L=8 sem.V=4", empty when the row had one setting
  SeedStats stats() const;
};

// An L-BFGS probe whose solve stopped above the gradient tolerance (probe_converged = 0).
struct UnconvergedProbe {
  std::string run_label;  // as `run` prints it: "method=byol sem=on seed=1"
  std::string feature;    // backbone, embedding, sem
  std::optional<double> tau_d;
  std::optional<double> grad_norm;  // probe_grad_norm: the largest |gradient| entry at the end
};

struct ComparisonRow {
  std::string label;       // e.g. "simclr", "simclr backbone=resnet18", "untrained backbone (simclr)"
  std::string protocol;    // the linear-probe protocol of every accuracy of the row
  bool untrained = false;  // its runs have epochs = 0: the floor a trained backbone should beat
  std::optional<SeedStats> baseline, sem;
  std::optional<SeedStats> linear, gumbel;  // the controls
  // Added for the full report: the row's non-SEM identity keys (method, dataset, backbone, epochs, ...),
  // the per-seed values of each column, the +SEM - baseline interval, the baseline's online linear top-1.
  std::map<std::string, std::string> keys;
  std::map<EmbedderMode, ComparisonArm> arms;  // by sem mode
  std::optional<DifferenceInterval> sem_minus_baseline;
  std::optional<SeedStats> baseline_online;
  // L-BFGS protocols: how many probes of the row's runs stored probe_converged, and those at 0.
  int64_t probes_with_convergence = 0;
  std::vector<UnconvergedProbe> unconverged;
};

// The rows of one protocol. Only finished runs count, and of those only the runs that store `protocol` or
// no linear-probe row at all (a run of probe.protocols = sgd has no place in the lbfgs_probe table).
std::vector<ComparisonRow> comparison_table(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results,
                                            std::string_view protocol);
// The rows of every linear-probe protocol the runs store, protocol after protocol in linear_probe_protocols()
// order (the first of that list when they store none).
std::vector<ComparisonRow> comparison_table(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results);

// The table of rows of one protocol (the first row's) as a report section: columns method, baseline, +SEM,
// the difference (95% CI), the controls and the online/reference columns when any row has them; a first row
// names the protocol of each column; the best of a row's own accuracies is marked best; for an L-BFGS
// protocol a note on the probes that did not converge. Section and table id: "comparison" for linear_probe
// (the id from before the protocols), "comparison_<protocol>" for the others. references: the published
// numbers to look up.
ReportSection comparison_section(const std::vector<ComparisonRow>& rows,
                                 const std::vector<ReferenceNumber>& references);
// "Does SEM's gain survive the probe?": one row per configuration, one column per protocol of `rows` holding
// its +SEM - baseline (95% CI), and how many rows agree in sign and in CI verdict across protocols. nullopt
// when the rows hold fewer than two protocols.
std::optional<ReportSection> probe_survival_section(const std::vector<ComparisonRow>& rows);
// Aligned text for the terminal: the table of comparison_section for each protocol of `rows` (built-in
// reference numbers), with its notes, then the survival table when there are several.
std::string format_comparison(const std::vector<ComparisonRow>& rows);

// Report builder: the comparison of the runs of `grid` (every grid when empty), a section per protocol their
// results hold, and the survival section when there are several.
std::vector<ReportSection> comparison_sections(Store& store, const std::vector<ReferenceNumber>& references,
                                               const std::string& grid);

}  // namespace semharness
