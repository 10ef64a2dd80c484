#include "baselines/mlp_head.h"

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
}

torch::Tensor MLPHeadImpl::forward(const torch::Tensor& x) { return layers->forward(x); }

}  // namespace semharness
