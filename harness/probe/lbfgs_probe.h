#pragma once
// The converged linear probe (protocol lbfgs_probe): full-batch L-BFGS with a strong-Wolfe line search on the
// multinomial logistic loss, mean cross-entropy + l2 * sum W^2 (bias not penalised), one solve per penalty
// from the strongest down, each warm-started from the previous optimum, until a penalty does not improve the
// validation top-1 (ties: lower validation loss); the last one that did is selected. The linear-probe
// protocol of the CLIP paper. Unlike the SGD probe its answer is the
// optimum of a convex problem, so it does not depend on a learning rate or on how far a schedule got.
// With standardisation, each feature dimension is centred and scaled by training-split statistics, which
// makes the answer independent of the scale of a dimension; the stored weights have the standardisation
// folded in, so they apply to raw features.
#include <utility>
#include <vector>

#include "harness/probe/linear_probe.h"

namespace semharness {

// Training-split statistics that map raw features to standardised ones: (x - mean) / scale.
struct FeatureStandardizer {
  at::Tensor mean, scale;  // [D], the features' dtype and device; scale is 1 where a dimension is constant
                           // (its variance within the rounding error of computing it)

  static FeatureStandardizer fit(const at::Tensor& x);  // population mean and std, accumulated in float64
  at::Tensor apply(const at::Tensor& x) const;
  // A classifier (weight [C, D] as torch.nn.Linear, bias [C]) on standardised features -> the same
  // classifier on raw features.
  std::pair<at::Tensor, at::Tensor> fold(const at::Tensor& weight, const at::Tensor& bias) const;
};

// Returns the selected probe: its scores, its l2, its convergence, and its weight and bias on raw features.
ProbeResult train_lbfgs_probes(const LabeledFeatures& train, const LabeledFeatures& val, const LabeledFeatures& test,
                               int64_t num_classes, const LbfgsProbeSpec& spec);

}  // namespace semharness
