#pragma once
// The regression gate (`semharness check`): every cell (one configuration; its finished runs are its seeds)
// present in both a current and a baseline database is compared on one or more accuracies; a cell is worse
// when its accuracy is lower than the baseline's by more than seed noise explains. Torch-free.
//
// Decision per cell and metric (current values a, baseline values b, top-1 in %):
//   - both sides >= 2 seeds and not both zero-variance: one-sided Welch t-test, p = P(T_df <= t),
//     t = (mean_a - mean_b) / sqrt(s_a^2/n_a + s_b^2/n_b), df Welch–Satterthwaite; worse when p, Holm-adjusted
//     over all Welch tests of the check (family-wise error rate alpha), is below alpha;
//   - otherwise (a single seed on a side, or no spread on either): worse when mean_b - mean_a > tolerance;
//   - the baseline has the metric and the current database does not: worse ("missing").
// Where the cell's runs ran on other processors in the two databases (provenance cpu_model and cpu_capability:
// CPU runs repeat bit for bit only on the same kind), a drop must also exceed cpu_margin points to count: the
// numbers of another CPU differ by more than seed noise explains when the seeds' spread is small.
// A probe metric (headline, probe.*) is compared once per linear-probe protocol that the cell's runs store in
// both databases (harness/results/probe_protocols.h), every test in the one Holm family; a protocol that only
// one side stores is counted, not compared (no failure), unless the two sides share no protocol at all: then
// the baseline's first is compared and missing from the current database.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/store/snapshot.h"
#include "reports/comparison_table.h"
#include "reports/statistics.h"

namespace semharness {

// The metrics --metric may name. Every one is a top-1 % on the test split.
struct GateMetric {
  std::string name, description;
};
const std::vector<GateMetric>& gate_metrics();
// The default: "headline".
inline const char* kDefaultGateMetric = "headline";

// Holm: the family-wise error rate over every Welch test of a check is at most alpha (a check of many cells
// does not fail on seed noise more often than one of a single cell). None: each test at alpha on its own.
enum class GateCorrection { Holm, None };

struct GateOptions {
  std::vector<std::string> metrics = {kDefaultGateMetric};  // names from gate_metrics()
  double alpha = 0.05;
  GateCorrection correction = GateCorrection::Holm;
  double tolerance = 0.5;  // accuracy points
  // Accuracy points a cell may lose, whatever the test says, when its runs ran on other CPUs in the two
  // databases. 1.0: the largest move of a 3-seed mean measured between two CPUs on quick.ini (the same code
  // on an Intel Xeon and an AMD EPYC, both AVX-512: 0.92 points, the SGD probe; README "Regression gate").
  double cpu_margin = 1.0;
};

// The value of a metric for a run from its own result rows, nullopt when the run does not have it (e.g.
// probe.sem of a sem=off run). probe_protocol: the linear-probe protocol of the probe metrics (knn and
// online_linear ignore it). Throws std::invalid_argument for a name not in gate_metrics().
std::optional<double> run_metric(const std::string& metric, const RunRecord& run,
                                 const std::vector<ResultRow>& run_results, std::string_view probe_protocol);

struct GateComparison {
  std::string cell_id, label, metric;
  std::string protocol;         // the stored protocol of the numbers: a linear-probe protocol, knn, online_linear
  SeedStats current, baseline;  // current.n == 0: the current database lacks the metric
  double difference = 0;        // current.mean - baseline.mean
  enum class Test { Welch, Tolerance, Missing } test = Test::Welch;
  std::optional<WelchTest> welch;  // for Test::Welch
  double p_adjusted = 1;           // for Test::Welch: welch->p_lower after the correction
  bool other_cpu = false;          // the two databases ran the cell on other CPUs: cpu_margin applies
  bool worse = false;
};

struct GateResult {
  std::vector<GateComparison> comparisons;  // cells in baseline order, metrics in the order asked
  int64_t common_cells = 0;                 // cells with finished runs in both databases
  int64_t cells_compared = 0;               // of those, the cells with at least one metric in the baseline
  int64_t cells_worse = 0;
  int64_t only_current = 0, only_baseline = 0;  // cells with finished runs in one database only
  // Linear-probe protocols of common cells that one database stores and the other does not (not compared;
  // counted once per cell and protocol when a probe metric is asked).
  int64_t protocols_one_side = 0;
  int64_t cells_other_cpu = 0;  // cells compared whose runs ran on other CPUs in the two databases
};

// Only finished runs count. Throws InputError when options name an unknown metric, alpha is outside (0, 1)
// or the tolerance or the CPU margin is negative.
GateResult regression_gate(const StoreSnapshot& current, const StoreSnapshot& baseline, const GateOptions& options);

// The failing comparisons as an aligned table (nothing when none failed), then the one-line summary:
// "check: 8 cells compared, 0 worse than baseline (alpha 0.05); 2 only in one database".
std::string format_gate(const GateResult& result, const GateOptions& options);

}  // namespace semharness
