#pragma once
// The MLP heads of the SSL methods: (Linear -> [BatchNorm1d] -> ReLU|GELU) x (layers - 1) -> Linear.
// SimCLR/MoCo: 2 layers without BN; BYOL, SwAV: 2 layers with BN; Barlow Twins, VICReg, DINO: 3 layers.
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
  TORCH_ARG(int64_t, layers) = 2;  // Linear layers, >= 1
  TORCH_ARG(bool, batch_norm) = true;
  TORCH_ARG(bool, gelu) = false;  // activation GELU instead of ReLU (DINO)
  // > 0: Linear weights drawn from a normal truncated at +-2 std and zero biases (DINO's head); 0: LibTorch's
  // default initialisation.
  TORCH_ARG(double, init_std) = 0.0;
};

class MLPHeadImpl : public torch::nn::Cloneable<MLPHeadImpl> {
 public:
  explicit MLPHeadImpl(const MLPHeadOptions& options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  MLPHeadOptions options;
  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(MLPHead);

// Fills tensor in place from N(0, std^2) truncated to [-2 std, 2 std].
void truncated_normal_(torch::Tensor& tensor, double std);

}  // namespace semharness
