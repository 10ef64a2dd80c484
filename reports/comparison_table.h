#pragma once
// The paper's table: one row per configuration (method and whatever else varies, SEM settings aside),
// columns baseline (sem=off, linear probe on the backbone feature) and +SEM (sem=on, linear probe on the
// SEM feature at the tau_d chosen on the validation split), mean ± std over seeds; the controls get their
// own columns when the database has them: +linear (sem=linear, probe on the embedder output) and +gumbel
// (sem=gumbel, like +SEM). Torch-free.
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace semharness {

struct SeedStats {
  double mean = 0, std = 0;  // std: sample standard deviation (0 for one seed)
  int64_t n = 0;
};
SeedStats seed_stats(const std::vector<double>& values);

struct ComparisonRow {
  std::string label;  // e.g. "simclr" or "simclr backbone=resnet18"
  std::optional<SeedStats> baseline, sem;
  std::optional<SeedStats> linear, gumbel;  // the controls
};

// Only finished runs count.
std::vector<ComparisonRow> comparison_table(const std::vector<RunRecord>& runs, const std::vector<ResultRow>& results);
// Aligned text for the terminal, with a line naming the protocol.
std::string format_comparison(const std::vector<ComparisonRow>& rows);

}  // namespace semharness
