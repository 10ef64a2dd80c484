#pragma once
// The heads of the SSL methods: Linear -> BatchNorm1d -> ReLU -> Linear (SimCLR's projector, BYOL's
// projector and predictor).
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace semharness {

struct MLPHeadOptions {
  MLPHeadOptions(int64_t in_features, int64_t hidden, int64_t out_features)
      : in_features_(in_features), hidden_(hidden), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, hidden);
  TORCH_ARG(int64_t, out_features);
};

class MLPHeadImpl : public torch::nn::Cloneable<MLPHeadImpl> {
 public:
  explicit MLPHeadImpl(const MLPHeadOptions& options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  MLPHeadOptions options;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(MLPHead);

}  // namespace semharness
