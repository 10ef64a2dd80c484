#include "baselines/simclr.h"

#include <limits>

#include <torch/torch.h>

namespace semharness {

torch::Tensor nt_xent_loss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  const int64_t n = z1.size(0);
  const auto z = torch::nn::functional::normalize(torch::cat({z1, z2}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto logits = torch::mm(z, z.t()) / temperature;
  const auto self = torch::eye(2 * n, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
  logits = logits.masked_fill(self, -std::numeric_limits<float>::infinity());
  const auto index = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(z.device()));
  const auto positives = torch::cat({index + n, index});
  return torch::nn::functional::cross_entropy(logits, positives);
}

torch::Tensor SimCLRImpl::training_loss(const torch::Tensor& view1, const torch::Tensor& view2) {
  double tau1 = 1.0, tau2 = 1.0;
  if (const auto& sem = options.encoder().sem()) {
    tau1 = sem->tau_online();
    tau2 = sem->tau_target();
  }
  const auto z1 = online->forward(view1, tau1).z;
  const auto z2 = online->forward(view2, tau2).z;
  return nt_xent_loss(z1, z2, options.simclr_temperature());
}

}  // namespace semharness
