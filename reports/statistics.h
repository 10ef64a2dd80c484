#pragma once
// Tests on per-seed accuracies. Torch-free.
#include "reports/comparison_table.h"

namespace semharness {

// Welch's unequal-variance t-test of mean(a) - mean(b), from summary statistics (sample standard deviations).
struct WelchTest {
  double t = 0;        // (mean_a - mean_b) / sqrt(s_a^2/n_a + s_b^2/n_b)
  double df = 0;       // Welch–Satterthwaite degrees of freedom
  double p_lower = 0;  // one-sided p-value of the alternative mean_a < mean_b: P(T_df <= t)
};
// Needs n >= 2 on both sides and a positive variance on at least one; throws std::invalid_argument otherwise.
WelchTest welch_t_test(const SeedStats& a, const SeedStats& b);

}  // namespace semharness
