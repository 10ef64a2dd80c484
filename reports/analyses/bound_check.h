#pragma once
// The generalization-bound check of SPEC §4.2, on the stored features of finished runs
// (harness/train/artifacts.h): for each feature kind (the SEM feature softmax(e / tau_d) at each tau_d, the
// pre-softmax embedding e, the backbone feature h) and label fraction (1%, 10%, 100% of the stored training
// sample), a linear probe is retrained with the run's probe protocol (analysis_probe.h: the converged L-BFGS
// probe at its selected l2 when the run stored one, else the SGD probe at its selected lr / wd1); its
// train/test gap is measured and set against Monte-Carlo empirical Rademacher complexities of norm-bounded
// linear classes on the same n x D feature matrix X (sigma uniform in {-1,+1}^n, the radius B the trained
// probe's norm):
//   L2 ball            (B/n) E ||X^T sigma||_2           B = ||W||_F
//   L1 ball            (B/n) E ||X^T sigma||_inf         B = sum |W|
//   group L(2,1) ball  (B/n) E max_l ||(X^T sigma)_l||_2  B = sum_l ||W_l||_F over the L simplices
// The check passes when a proxy orders configurations as the measured gaps do: Spearman's rho within each run,
// its mean over runs (the independent units) above 0 by a sign-flip test, Holm-adjusted over the proxies
// (reports/statistics.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "harness/store/store.h"
#include "reports/document.h"

namespace semharness {

// Unit-radius Rademacher complexities (1/n) E_sigma of the dual norm of X^T sigma, estimated with `draws`
// sign vectors from a generator seeded by `seed`. Multiply by the class's radius B for the complexity of
// the ball of radius B. group_l21 needs blocks: L > 0 and X's columns in the SEM layout (column v*L + l is
// vertex v of simplex l); nullopt otherwise.
struct RademacherEstimate {
  double l2 = 0;                    // (1/n) E ||X^T sigma||_2
  double linf = 0;                  // (1/n) E ||X^T sigma||_inf  (the L1 ball's dual norm)
  std::optional<double> group_l21;  // (1/n) E max_l ||(X^T sigma)_l||_2
};
RademacherEstimate rademacher_complexity(const at::Tensor& x, int64_t L, int64_t V, int64_t draws, uint64_t seed);
// The same quantities for given sign vectors: sigma is [n, M] of +-1; the mean is over its M columns.
RademacherEstimate rademacher_complexity_for_signs(const at::Tensor& x, const at::Tensor& sigma, int64_t L, int64_t V);

// Norms of a probe weight W [C, D] (biases are not part of the classes above).
struct WeightNorms {
  double l2 = 0;                         // Frobenius norm
  double l1 = 0;                         // sum |W|
  std::optional<double> group_l21;       // sum over simplices l of ||W[:, block l]||_F (with blocks)
  std::optional<double> group_sparsity;  // fraction of blocks whose group norm is < 1% of the largest one
};
WeightNorms weight_norms(const at::Tensor& weight, int64_t L, int64_t V);

// Entropy of each of the L simplices of every row of y [n, L*V] (SEM layout), binned into `bins` equal bins
// on [0, ln V] (the last bin includes ln V): the fraction of the n*L simplices in each bin.
std::vector<double> block_entropy_histogram(const at::Tensor& y, int64_t L, int64_t V, int64_t bins);

// Spearman's rank correlation (ties get their average rank) and the one-sided p-value of rho > 0 from the
// t approximation t = rho sqrt((n-2)/(1-rho^2)) with n-2 degrees of freedom; nullopt with fewer than 3
// pairs or a constant side.
struct RankCorrelation {
  double rho = 0;
  std::optional<double> p_positive;
  int64_t n = 0;
};
std::optional<RankCorrelation> spearman(const std::vector<double>& a, const std::vector<double>& b);

struct BoundCheckOptions {
  std::vector<double> label_fractions{0.01, 0.1, 1.0};
  int64_t rademacher_draws = 50;
  int64_t entropy_bins = 10;
  int64_t max_probe_epochs = 100;  // the run's probe.epochs, capped here (SGD probe)
  // Rows of each stored split the check uses at most, evenly spaced through them (0: all). A run that exported
  // 10,000 rows for the scikit-learn cross-check would otherwise retrain every probe of the check on all of them,
  // for rank correlations over configurations that 2,000 rows (analysis.samples' default) already support.
  int64_t max_rows = 2000;
  uint64_t seed = 4242;  // label subsets, Rademacher signs, probe batches
};

// One section per grid (every grid in the database when grid is empty) that has finished runs; a grid whose
// runs stored no features gets a section saying so.
std::vector<ReportSection> bound_check_sections(Store& store, const std::string& db_path, const std::string& grid,
                                                const BoundCheckOptions& options = {});

}  // namespace semharness
