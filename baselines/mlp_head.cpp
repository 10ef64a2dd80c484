#include "baselines/mlp_head.h"

#include <cmath>

#include <torch/torch.h>

namespace semharness {

MLPHeadImpl::MLPHeadImpl(const MLPHeadOptions& options_) : options(options_) { reset(); }

void MLPHeadImpl::reset() {
  TORCH_CHECK(options.layers() >= 1, "MLPHead needs at least one layer");
  layers = torch::nn::Sequential();
  int64_t in = options.in_features();
  for (int64_t i = 0; i + 1 < options.layers(); ++i) {
    layers->push_back(torch::nn::Linear(in, options.hidden()));
    if (options.batch_norm()) layers->push_back(torch::nn::BatchNorm1d(options.hidden()));
    if (options.gelu()) {
      layers->push_back(torch::nn::GELU());
    } else {
      layers->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
    }
    in = options.hidden();
  }
  layers->push_back(torch::nn::Linear(in, options.out_features()));
  register_module("layers", layers);
  if (options.init_std() > 0) {
    torch::NoGradGuard no_grad;
    for (auto& module : layers->modules(/*include_self=*/false)) {
      if (auto* linear = module->as<torch::nn::Linear>()) {
        truncated_normal_(linear->weight, options.init_std());
        linear->bias.zero_();
      }
    }
  }
}

void truncated_normal_(torch::Tensor& tensor, double std) {
  // Inverse-CDF sampling of N(0, std^2) restricted to [-2 std, 2 std]: u uniform in [Phi(-2), Phi(2)].
  const double low = 0.5 * std::erfc(2.0 / std::sqrt(2.0)), high = 1.0 - low;
  auto u = torch::rand_like(tensor) * (high - low) + low;
  tensor.copy_(torch::erfinv(u * 2 - 1) * (std * std::sqrt(2.0)));
}

torch::Tensor MLPHeadImpl::forward(const torch::Tensor& x) { return layers->forward(x); }

}  // namespace semharness
