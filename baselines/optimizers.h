#pragma once
// The pretraining optimizers: SGD with momentum and LARS (You et al. 2017, as in solo-learn: trust ratio
// eta * ||w|| / (||g|| + wd * ||w||), clipped to the base learning rate, biases and normalisation weights
// excluded from adaptation and weight decay). Both keep their momentum buffers on the parameters' device
// and take no host synchronisation.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "baselines/optimizer_options.h"

namespace semharness {

// LARS's local learning-rate factor for one parameter (a 0-d tensor): 1 when ||w|| or ||g|| is 0; with
// clip, min(factor / lr, 1) so that the effective rate never exceeds lr.
at::Tensor lars_factor(const at::Tensor& weight, const at::Tensor& grad, double weight_decay, double eta, bool clip,
                       double lr);

class PretrainOptimizer {
 public:
  PretrainOptimizer(std::vector<at::Tensor> parameters, const OptimizerOptions& options);
  // A further parameter group (solo-learn's online classifier): learning rate lr_scale * lr(), its own weight
  // decay; LARS adapts it as it adapts the first group.
  void add_group(const std::vector<at::Tensor>& parameters, double lr_scale, double weight_decay);
  void set_lr(double lr) { options_.lr(lr); }
  double lr() const { return options_.lr(); }
  void zero_grad();
  void step();
  // Momentum buffers, one per parameter (undefined until the first step), for checkpoints.
  std::vector<at::Tensor>& momentum_buffers() { return buffers_; }

 private:
  std::vector<at::Tensor> parameters_, buffers_;
  std::vector<double> lr_scales_, weight_decays_;  // per parameter
  OptimizerOptions options_;
};

}  // namespace semharness
