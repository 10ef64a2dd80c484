#pragma once
// Tests on per-seed accuracies. Torch-free.
#include <cstdint>
#include <optional>
#include <vector>

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

// Holm's step-down adjustment, in the input's order: the i-th smallest of m p-values (0-based) becomes
// max over j <= i of min(1, (m - j) p_(j)). Rejecting where the adjusted p < alpha keeps the chance of any
// false rejection in the family at or below alpha.
std::vector<double> holm_adjusted(const std::vector<double>& p);

// The mean of one value per independent unit (a run), tested against 0 by sign flips: under the null each
// value is as likely negated, so p(mean > 0) is the share of the 2^n sign patterns (all of them for n <= 16,
// else 20,000 drawn with a fixed seed, the observed one counted) whose mean is at least the observed mean;
// with a 95% t-interval of the mean. nullopt for fewer than 2 values.
struct SignFlipTest {
  int64_t n = 0;
  double mean = 0, low = 0, high = 0;  // the mean and its 95% t-interval
  double p_positive = 1;               // one-sided p of mean > 0
};
std::optional<SignFlipTest> sign_flip_test(const std::vector<double>& values);

}  // namespace semharness
