#pragma once
// What every SSL method shares (solo-learn's base): an online encoder (backbone -> SEM -> projector), a
// loss on two augmented views, and hooks around the optimizer step and each epoch (EMA targets, queues,
// frozen layers). A folder per method under baselines/methods/ holds its options, heads and loss.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

#include "baselines/method_options.h"

namespace semharness {

struct StepOutput {
  torch::Tensor loss;    // the SSL loss of the batch
  torch::Tensor h1, h2;  // backbone features of the two views (the online classifier reads them, detached)
};

class SSLMethodImpl : public torch::nn::Module {
 public:
  explicit SSLMethodImpl(const MethodOptions& options);

  // The loss of one batch of two views of the same images.
  virtual StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) = 0;
  // Called before the first step of each epoch; epoch counts from 0.
  virtual void on_epoch_start(int64_t /*epoch*/, int64_t /*epochs*/) {}
  // Called between backward and the optimizer step (e.g. to zero the gradients of frozen layers).
  virtual void before_optimizer_step() {}
  // Called after every optimizer step; step counts from 0 to total_steps - 1.
  virtual void after_optimizer_step(int64_t /*step*/, int64_t /*total_steps*/) {}
  // The method's own per-epoch curves (e.g. DINO's teacher entropy), each the mean over the epoch's steps,
  // read once after the epoch's last step; names are metric names of the store. None by default.
  virtual std::vector<std::pair<std::string, double>> epoch_diagnostics() { return {}; }

  // Parameters the optimizer updates (EMA targets excluded).
  std::vector<torch::Tensor> trainable_parameters() const;

  // SEM temperatures (SPEC §1); 1 without SEM, where they are unused.
  double tau_online() const;
  double tau_target() const;

  MethodOptions options;
  Encoder online{nullptr};
};

// The method options.method() holds.
std::shared_ptr<SSLMethodImpl> make_method(const MethodOptions& options);

}  // namespace semharness
