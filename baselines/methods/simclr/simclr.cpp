#include "baselines/methods/simclr/simclr.h"

#include <limits>

#include <torch/torch.h>

namespace semharness {

std::shared_ptr<SSLMethodImpl> SimCLROptions::make(const MethodOptions& options) {
  return std::make_shared<SimCLRImpl>(options);
}

torch::Tensor nt_xent_loss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  const int64_t n = z1.size(0);
  const auto z =
      torch::nn::functional::normalize(torch::cat({z1, z2}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto logits = torch::mm(z, z.t()) / temperature;
  const auto self = torch::eye(2 * n, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
  logits = logits.masked_fill(self, -std::numeric_limits<float>::infinity());
  const auto index = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(z.device()));
  const auto positives = torch::cat({index + n, index});
  return torch::nn::functional::cross_entropy(logits, positives);
}

StepOutput SimCLRImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto out2 = online->forward(view2, tau_target());
  return {nt_xent_loss(out1.z, out2.z, options.get<SimCLROptions>().temperature()), out1.h, out2.h};
}

}  // namespace semharness
