#include "baselines/methods/vicreg/vicreg.h"

#include <torch/torch.h>

namespace semharness {

std::shared_ptr<SSLMethodImpl> VICRegOptions::make(const MethodOptions& options) {
  return std::make_shared<VICRegImpl>(options);
}
namespace {

torch::Tensor std_hinge(const torch::Tensor& z) {
  constexpr double kVarianceEps = 1e-4;
  return torch::relu(1.0 - torch::sqrt(z.var(0, /*unbiased=*/true) + kVarianceEps)).mean();
}

torch::Tensor off_diagonal_covariance(const torch::Tensor& z) {
  const int64_t n = z.size(0), d = z.size(1);
  const auto centered = z - z.mean(0, /*keepdim=*/true);
  const auto cov = torch::mm(centered.t(), centered) / static_cast<double>(n - 1);
  return (cov - torch::diag(cov.diagonal())).pow(2).sum() / static_cast<double>(d);
}

}  // namespace

torch::Tensor vicreg_invariance_loss(const torch::Tensor& z1, const torch::Tensor& z2) {
  return torch::mse_loss(z1, z2);
}

torch::Tensor vicreg_variance_loss(const torch::Tensor& z1, const torch::Tensor& z2) {
  return std_hinge(z1) + std_hinge(z2);
}

torch::Tensor vicreg_covariance_loss(const torch::Tensor& z1, const torch::Tensor& z2) {
  return off_diagonal_covariance(z1) + off_diagonal_covariance(z2);
}

torch::Tensor vicreg_loss(const torch::Tensor& z1, const torch::Tensor& z2, double sim_weight, double var_weight,
                          double cov_weight) {
  TORCH_CHECK(z1.dim() == 2 && z1.sizes() == z2.sizes(), "vicreg_loss: expected two [N, D] tensors, got ", z1.sizes(),
              " and ", z2.sizes());
  return sim_weight * vicreg_invariance_loss(z1, z2) + var_weight * vicreg_variance_loss(z1, z2) +
         cov_weight * vicreg_covariance_loss(z1, z2);
}

StepOutput VICRegImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto out2 = online->forward(view2, tau_online());
  const auto& w = options.get<VICRegOptions>();
  return {vicreg_loss(out1.z, out2.z, w.sim_weight(), w.var_weight(), w.cov_weight()), out1.h, out2.h};
}

}  // namespace semharness
