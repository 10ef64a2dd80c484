// The converged linear probe (harness/probe/lbfgs_probe.h) against references that share none of its code:
// the optimality condition written out by hand in float64, an independently computed standardisation, and
// single-penalty solves for the selection.
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "harness/probe/lbfgs_probe.h"
#include "harness/config/run_spec.h"

using namespace semharness;

namespace {

// Four overlapping Gaussian classes in 12 dimensions with dimensions of very different scales and offsets
// (as features of an untrained network are): a linear classifier gets most, not all, right.
LabeledFeatures overlapping_classes(int64_t n, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto y = torch::randint(0, 4, {n}, generator, torch::kLong);
  const auto means = torch::linspace(-1.0, 1.0, 4 * 12).view({4, 12}).roll(5, 1) * 0.9;
  auto x = torch::randn({n, 12}, generator) + means.index_select(0, y);
  const auto scale = torch::logspace(-3, 1, 12);  // 0.001 .. 10
  return {((x + 3.0) * scale).to(torch::kFloat), y};
}

// The grid's defaults (probe.standardize, probe.max_iter, probe.tolerance) with a short penalty path.
LbfgsProbeSpec small_spec() {
  LbfgsProbeSpec spec = RunSpec::parse(RunConfig::defaults()).probe.lbfgs;
  spec.l2s = {1e-5, 1e-3, 1e-1};
  return spec;
}

// Gradient of mean cross-entropy + l2 * sum W^2 at (weight [C, D], bias [C]) on x [N, D], in float64, from
// the formula: dW = (P - Y)^T X / n + 2 l2 W, db = mean(P - Y).
double gradient_max_float64(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& weight,
                            const torch::Tensor& bias, double l2) {
  const auto x64 = x.to(torch::kDouble), w64 = weight.to(torch::kDouble), b64 = bias.to(torch::kDouble);
  const auto logits = x64.mm(w64.t()) + b64;
  const auto p = (logits - std::get<0>(logits.max(1, true))).exp();
  const auto residual = p / p.sum(1, true) - torch::one_hot(y, weight.size(0)).to(torch::kDouble);
  const double n = static_cast<double>(x.size(0));
  const auto d_weight = residual.t().mm(x64) / n + 2.0 * l2 * w64;
  const auto d_bias = residual.mean(0);
  return std::max(d_weight.abs().max().item<double>(), d_bias.abs().max().item<double>());
}

double top1_float64(const LabeledFeatures& data, const torch::Tensor& weight, const torch::Tensor& bias) {
  const auto logits = data.x.to(torch::kDouble).mm(weight.to(torch::kDouble).t()) + bias.to(torch::kDouble);
  return (logits.argmax(1) == data.y).to(torch::kDouble).mean().item<double>() * 100.0;
}

}  // namespace

TEST(LbfgsProbeTest, StandardisedSolutionIsTheOptimumAndItsFoldedWeightsApplyToRawFeatures) {
  const auto train = overlapping_classes(3000, 1), val = overlapping_classes(600, 2),
             test = overlapping_classes(2000, 3);
  const auto spec = small_spec();
  const auto result = train_lbfgs_probes(train, val, test, 4, spec);
  ASSERT_TRUE(result.convergence.has_value());
  EXPECT_TRUE(result.convergence->converged) << "max |grad| " << result.convergence->grad_norm;
  EXPECT_LE(result.convergence->grad_norm, spec.tolerance);
  EXPECT_GT(result.convergence->iterations, 0);
  EXPECT_GT(result.test.top1, 60.0);
  EXPECT_LT(result.test.top1, 99.0);

  // Standardise independently (float64, population std) and map the raw weights back: w_std = w_raw * s,
  // b_std = b_raw + w_raw . m. The hand-written float64 gradient there must vanish to the tolerance.
  const auto x64 = train.x.to(torch::kDouble);
  const auto mean = x64.mean(0), std = x64.std(0, /*unbiased=*/false);
  const auto weight = result.weight.to(torch::kDouble), bias = result.bias.to(torch::kDouble);
  const auto weight_std = weight * std, bias_std = bias + weight.mv(mean);
  EXPECT_LE(gradient_max_float64((x64 - mean) / std, train.y, weight_std, bias_std, result.l2), 2 * spec.tolerance);

  // The stored (raw-feature) weights reproduce the stored scores.
  EXPECT_NEAR(top1_float64(test, result.weight, result.bias), result.test.top1, 1e-9);
  EXPECT_NEAR(top1_float64(train, result.weight, result.bias), result.train.top1, 1e-9);
}

TEST(LbfgsProbeTest, RawSolutionIsTheOptimumOfTheRawProblem) {
  auto train = overlapping_classes(2000, 4), val = overlapping_classes(500, 5), test = overlapping_classes(500, 6);
  for (auto* split : {&train, &val, &test}) split->x = split->x / torch::logspace(-3, 1, 12).to(torch::kFloat) - 3.0;
  auto spec = small_spec();
  spec.standardize = false;
  const auto result = train_lbfgs_probes(train, val, test, 4, spec);
  ASSERT_TRUE(result.convergence.has_value());
  EXPECT_TRUE(result.convergence->converged) << "max |grad| " << result.convergence->grad_norm;
  EXPECT_LE(gradient_max_float64(train.x, train.y, result.weight, result.bias, result.l2), 2 * spec.tolerance);
}

TEST(LbfgsProbeTest, AccuracyDoesNotDependOnTheScaleOfAFeatureDimension) {
  const auto train = overlapping_classes(3000, 7), val = overlapping_classes(600, 8),
             test = overlapping_classes(2000, 9);
  const auto spec = small_spec();
  const auto reference = train_lbfgs_probes(train, val, test, 4, spec);
  // One dimension x1000, another x0.001.
  auto factor = torch::ones({12});
  factor[3] = 1000.0;
  factor[8] = 0.001;
  const auto rescale = [&](const LabeledFeatures& split) { return LabeledFeatures{split.x * factor, split.y}; };
  const auto rescaled = train_lbfgs_probes(rescale(train), rescale(val), rescale(test), 4, spec);
  EXPECT_NEAR(rescaled.test.top1, reference.test.top1, 0.2);
  EXPECT_NEAR(rescaled.val.top1, reference.val.top1, 0.2);
  EXPECT_EQ(rescaled.l2, reference.l2);
}

TEST(LbfgsProbeTest, SelectsOnValidationFromTheStrongestPenaltyDown) {
  // 40 training images in 12 dimensions: the weakest penalty over-fits, the strongest under-fits.
  const auto train = overlapping_classes(40, 10), val = overlapping_classes(1000, 11),
             test = overlapping_classes(500, 12);
  auto spec = small_spec();
  spec.l2s = {1e-6, 1e-2, 1.0, 10.0};
  const auto selected = train_lbfgs_probes(train, val, test, 4, spec);
  EXPECT_GT(selected.l2, 1e-6);
  EXPECT_LT(selected.l2, 10.0);
  for (double l2 : spec.l2s) {
    auto alone = spec;
    alone.l2s = {l2};
    const auto single = train_lbfgs_probes(train, val, test, 4, alone);
    // Every stronger penalty, solved on its own, is no better on validation than the selected one, up to one
    // of the 1000 validation images (a warm and a cold start stop at slightly different points within the
    // tolerance).
    if (l2 >= selected.l2)
      EXPECT_GE(selected.val.top1, single.val.top1 - 0.1 - 1e-9) << "l2 " << l2 << " selected " << selected.l2;
    if (l2 == selected.l2) EXPECT_NEAR(single.test.top1, selected.test.top1, 0.25) << "warm start changed the optimum";
  }
}

TEST(LbfgsProbeTest, ReportsAnUnconvergedSolve) {
  const auto train = overlapping_classes(1000, 13), val = overlapping_classes(200, 14);
  auto spec = small_spec();
  spec.l2s = {1e-6};
  spec.max_iterations = 2;
  const auto result = train_lbfgs_probes(train, val, val, 4, spec);
  ASSERT_TRUE(result.convergence.has_value());
  EXPECT_FALSE(result.convergence->converged);
  EXPECT_GT(result.convergence->grad_norm, spec.tolerance);
  EXPECT_LE(result.convergence->iterations, 2);
}

TEST(LbfgsProbeTest, FoldingMatchesStandardisingTheInput) {
  const auto data = overlapping_classes(500, 15);
  const auto standardizer = FeatureStandardizer::fit(data.x);
  const auto weight = torch::randn({4, 12}), bias = torch::randn({4});
  const auto [raw_weight, raw_bias] = standardizer.fold(weight, bias);
  const auto expected =
      standardizer.apply(data.x).to(torch::kDouble).mm(weight.to(torch::kDouble).t()) + bias.to(torch::kDouble);
  const auto folded = data.x.to(torch::kDouble).mm(raw_weight.to(torch::kDouble).t()) + raw_bias.to(torch::kDouble);
  EXPECT_LT((folded - expected).abs().max().item<double>(), 1e-5 * expected.abs().max().item<double>());
  // A constant dimension is left unscaled instead of dividing by zero.
  auto constant = data.x.clone();
  constant.select(1, 0).fill_(2.5);
  const auto fitted = FeatureStandardizer::fit(constant);
  EXPECT_EQ(fitted.scale[0].item<float>(), 1.0f);
  EXPECT_TRUE(torch::isfinite(fitted.apply(constant)).all().item<bool>());
}
