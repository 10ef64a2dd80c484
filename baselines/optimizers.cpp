#include "baselines/optimizers.h"

#include <stdexcept>

#include <torch/torch.h>

#include "baselines/fused_momentum_update.h"

namespace semharness {

at::Tensor lars_factor(const at::Tensor& weight, const at::Tensor& grad, double weight_decay, double eta, bool clip,
                       double lr) {
  const auto w_norm = weight.norm();
  const auto g_norm = grad.norm();
  auto factor = eta * w_norm / (g_norm + weight_decay * w_norm + 1e-8);
  if (clip) factor = torch::clamp_max(factor / lr, 1.0);
  return torch::where((w_norm > 0).logical_and(g_norm > 0), factor, torch::ones_like(factor));
}

PretrainOptimizer::PretrainOptimizer(std::vector<at::Tensor> parameters, const OptimizerOptions& options)
    : parameters_(std::move(parameters)),
      buffers_(parameters_.size()),
      lr_scales_(parameters_.size(), 1.0),
      weight_decays_(parameters_.size(), options.weight_decay()),
      options_(options) {
  if (options_.name() != "sgd" && options_.name() != "lars") {
    throw std::invalid_argument("unknown optimizer '" + options_.name() + "' (expected sgd or lars)");
  }
}

void PretrainOptimizer::add_group(const std::vector<at::Tensor>& parameters, double lr_scale, double weight_decay) {
  for (const auto& p : parameters) {
    parameters_.push_back(p);
    buffers_.emplace_back();
    lr_scales_.push_back(lr_scale);
    weight_decays_.push_back(weight_decay);
  }
}

void PretrainOptimizer::zero_grad() {
  for (auto& p : parameters_) {
    if (p.grad().defined()) p.mutable_grad().reset();
  }
}

void PretrainOptimizer::step() {
  torch::NoGradGuard no_grad;
  const bool lars = options_.name() == "lars";
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const double lr = options_.lr() * lr_scales_[i], wd = weight_decays_[i];
    auto& p = parameters_[i];
    if (!p.grad().defined()) continue;
    auto d_p = p.grad();
    // LARS leaves biases and normalisation parameters (the 1-d ones) alone: no decay, no adaptation.
    const bool adapted = !lars || p.dim() > 1;
    auto& buffer = buffers_[i];
    if (has_fused_momentum_update(p, d_p, buffer)) {
      // On the CPU the trust factor is a host value already: reading it synchronises nothing.
      const double scale =
          lars && adapted ? lars_factor(p, d_p, wd, options_.lars_eta(), options_.lars_clip(), lr).item<double>() : 1.0;
      fused_momentum_update(p, d_p, buffer, {scale, adapted ? wd : 0.0, options_.momentum(), lr});
      continue;
    }
    if (adapted && wd != 0) d_p = d_p + wd * p;
    if (lars && adapted) d_p = d_p * lars_factor(p, p.grad(), wd, options_.lars_eta(), options_.lars_clip(), lr);
    if (!buffer.defined()) {
      buffer = d_p.clone();
    } else {
      buffer.mul_(options_.momentum()).add_(d_p);
    }
    p.add_(buffer, -lr);
  }
}

}  // namespace semharness
