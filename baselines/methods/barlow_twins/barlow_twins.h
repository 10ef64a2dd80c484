#pragma once
// Barlow Twins (Zbontar et al. 2021): the cross-correlation matrix of the two views' batch-standardized
// projections is pushed towards the identity. With SEM, view 1 uses tau_online and view 2 tau_target
// (SPEC §1).
#include "baselines/ssl_method.h"

namespace semharness {

// With each feature standardized over the batch as BatchNorm1d(affine = false) in training mode does,
// s(z) = (z - mean) / sqrt(biased var + 1e-5), and c = s(z1)^T s(z2) / N:
// loss = scale * (sum_i (1 - c_ii)^2 + lambda * sum_{i != j} c_ij^2).
torch::Tensor barlow_twins_loss(const torch::Tensor& z1, const torch::Tensor& z2, double lambda, double scale);

class BarlowTwinsImpl : public SSLMethodImpl {
 public:
  explicit BarlowTwinsImpl(const MethodOptions& options) : SSLMethodImpl(options) {}
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;
};

}  // namespace semharness
