#include "baselines/byol.h"

#include <torch/torch.h>

#include "baselines/ema.h"

namespace semharness {

torch::Tensor byol_loss(const torch::Tensor& p, const torch::Tensor& z) {
  namespace F = torch::nn::functional;
  const auto options = F::NormalizeFuncOptions().dim(1);
  return (2.0 - 2.0 * (F::normalize(p, options) * F::normalize(z.detach(), options)).sum(1)).mean();
}

BYOLImpl::BYOLImpl(const MethodOptions& options_) : SSLMethodImpl(options_) {
  const int64_t out = options.encoder().projector().out_features();
  predictor = register_module("predictor", MLPHead(MLPHeadOptions(out, options.byol().pred_hidden(), out)));
  target = register_module("target", Encoder(options.encoder()));
  copy_weights(*target, *online);
  for (auto& p : target->parameters()) p.set_requires_grad(false);
}

StepOutput BYOLImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto p1 = predictor->forward(out1.z);
  const auto p2 = predictor->forward(online->forward(view2, tau_online()).z);
  torch::Tensor z1, z2;
  {
    torch::NoGradGuard no_grad;
    z1 = target->forward(view1, tau_target()).z;
    z2 = target->forward(view2, tau_target()).z;
  }
  return {byol_loss(p1, z2) + byol_loss(p2, z1), out1.h};
}

void BYOLImpl::after_optimizer_step(int64_t step, int64_t total_steps) {
  ema_update(*target, *online, cosine_momentum(options.byol().ema_base(), options.byol().ema_final(), step, total_steps));
}

}  // namespace semharness
