#include "baselines/methods/byol/byol.h"

#include <torch/torch.h>

namespace semharness {

torch::Tensor byol_loss(const torch::Tensor& p, const torch::Tensor& z) {
  namespace F = torch::nn::functional;
  const auto options = F::NormalizeFuncOptions().dim(1);
  return (2.0 - 2.0 * (F::normalize(p, options) * F::normalize(z.detach(), options)).sum(1)).mean();
}

std::shared_ptr<SSLMethodImpl> BYOLOptions::make(const MethodOptions& options) {
  return std::make_shared<BYOLImpl>(options);
}

BYOLImpl::BYOLImpl(const MethodOptions& options_)
    : MomentumMethodImpl(options_, options_.get<BYOLOptions>().ema_base(), options_.get<BYOLOptions>().ema_final()) {
  const int64_t out = options.encoder().projector().out_features();
  predictor = register_module("predictor", MLPHead(MLPHeadOptions(out, options.get<BYOLOptions>().pred_hidden(), out)));
  target = register_target("target", Encoder(options.encoder()), online);
}

StepOutput BYOLImpl::training_step(const torch::Tensor& view1, const torch::Tensor& view2) {
  const auto out1 = online->forward(view1, tau_online());
  const auto p1 = predictor->forward(out1.z);
  const auto out2 = online->forward(view2, tau_online());
  const auto p2 = predictor->forward(out2.z);
  torch::Tensor z1, z2;
  {
    torch::NoGradGuard no_grad;
    z1 = target->forward(view1, tau_target()).z;
    z2 = target->forward(view2, tau_target()).z;
  }
  return {byol_loss(p1, z2) + byol_loss(p2, z1), out1.h, out2.h};
}

}  // namespace semharness
