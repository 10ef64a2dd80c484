#pragma once
// VICReg (Bardes et al. 2022): invariance (MSE between the views' projections), variance (a hinge keeping
// each feature's std above 1) and covariance (decorrelated features) terms. With SEM, both views use
// tau_online (SPEC §1).
#include "baselines/ssl_method.h"

namespace semharness {

// Mean squared error over all N x D entries.
torch::Tensor vicreg_invariance_loss(const torch::Tensor& z1, const torch::Tensor& z2);
// Per view: mean over features of relu(1 - sqrt(unbiased var + 1e-4)); the two views' terms are summed.
torch::Tensor vicreg_variance_loss(const torch::Tensor& z1, const torch::Tensor& z2);
// Per view: sum of the squared off-diagonal entries of the unbiased (N - 1) covariance matrix, divided by D;
// the two views' terms are summed.
torch::Tensor vicreg_covariance_loss(const torch::Tensor& z1, const torch::Tensor& z2);
// sim_weight * invariance + var_weight * variance + cov_weight * covariance.
torch::Tensor vicreg_loss(const torch::Tensor& z1, const torch::Tensor& z2, double sim_weight, double var_weight,
                          double cov_weight);

class VICRegImpl : public SSLMethodImpl {
 public:
  explicit VICRegImpl(const MethodOptions& options) : SSLMethodImpl(options) {}
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;
};

}  // namespace semharness
