#include "baselines/mlp_head.h"

#include <torch/torch.h>

namespace semharness {

MLPHeadImpl::MLPHeadImpl(const MLPHeadOptions& options_) : options(options_) { reset(); }

void MLPHeadImpl::reset() {
  fc1 = register_module("fc1", torch::nn::Linear(options.in_features(), options.hidden()));
  bn = register_module("bn", torch::nn::BatchNorm1d(options.hidden()));
  fc2 = register_module("fc2", torch::nn::Linear(options.hidden(), options.out_features()));
}

torch::Tensor MLPHeadImpl::forward(const torch::Tensor& x) {
  return fc2->forward(torch::relu(bn->forward(fc1->forward(x))));
}

}  // namespace semharness
