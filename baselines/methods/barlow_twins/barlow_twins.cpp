#include "baselines/methods/barlow_twins/barlow_twins.h"

#include <torch/torch.h>

namespace semharness {

std::shared_ptr<SSLMethodImpl> BarlowTwinsOptions::make(const MethodOptions& options) {
  return std::make_shared<BarlowTwinsImpl>(options);
}
namespace {

torch::Tensor batch_standardize(const torch::Tensor& z) {
  constexpr double kBatchNormEps = 1e-5;  // torch's BatchNorm1d default, which the reference uses
  const auto mean = z.mean(0, /*keepdim=*/true);
  const auto var = z.var(0, /*unbiased=*/false, /*keepdim=*/true);
  return (z - mean) / torch::sqrt(var + kBatchNormEps);
}

}  // namespace

torch::Tensor barlow_twins_loss(const torch::Tensor& z1, const torch::Tensor& z2, double lambda, double scale) {
  TORCH_CHECK(z1.dim() == 2 && z1.sizes() == z2.sizes(), "barlow_twins_loss: expected two [N, D] tensors, got ",
              z1.sizes(), " and ", z2.sizes());
  const auto c = torch::mm(batch_standardize(z1).t(), batch_standardize(z2)) / static_cast<double>(z1.size(0));
  const auto diagonal = c.diagonal();
  const auto on_diagonal = (1.0 - diagonal).pow(2).sum();
  const auto off_diagonal = (c - torch::diag(diagonal)).pow(2).sum();
  return scale * (on_diagonal + lambda * off_diagonal);
}

StepOutput BarlowTwinsImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto out2 = online->forward(view2, tau_target());
  return {barlow_twins_loss(out1.z, out2.z, options.get<BarlowTwinsOptions>().lambda(),
                            options.get<BarlowTwinsOptions>().scale()),
          out1.h, out2.h};
}

}  // namespace semharness
