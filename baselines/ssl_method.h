#pragma once
// What every SSL method shares (solo-learn's base): an online encoder (backbone -> SEM -> projector), a
// loss on two augmented views, and a hook after each optimizer step (EMA targets). One file per method
// holds its heads and loss.
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "baselines/encoder.h"

namespace semharness {

struct MethodOptions {
  MethodOptions(std::string name, EncoderOptions encoder) : name_(std::move(name)), encoder_(std::move(encoder)) {}
  TORCH_ARG(std::string, name);  // "simclr", "byol"
  TORCH_ARG(EncoderOptions, encoder);
  TORCH_ARG(double, simclr_temperature) = 0.2;
  TORCH_ARG(int64_t, byol_pred_hidden) = 512;
  TORCH_ARG(double, ema_base) = 0.99;   // BYOL target momentum at step 0 ...
  TORCH_ARG(double, ema_final) = 1.0;   // ... and at the last step (cosine in between)
};

class SSLMethodImpl : public torch::nn::Module {
 public:
  explicit SSLMethodImpl(const MethodOptions& options);

  // The loss of one batch of two views of the same images.
  virtual torch::Tensor training_loss(const torch::Tensor& view1, const torch::Tensor& view2) = 0;
  // Called after every optimizer step; step counts from 0 to total_steps - 1.
  virtual void after_optimizer_step(int64_t /*step*/, int64_t /*total_steps*/) {}

  // Parameters the optimizer updates (EMA targets excluded).
  std::vector<torch::Tensor> trainable_parameters() const;

  MethodOptions options;
  Encoder online{nullptr};
};

// The method named by options.name(); throws std::invalid_argument for an unknown one.
std::shared_ptr<SSLMethodImpl> make_method(const MethodOptions& options);

}  // namespace semharness
