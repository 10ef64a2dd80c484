#pragma once
// One optimizer step of SSL pretraining, the same for a run (pretrain.h) and for the throughput benchmarks
// (`semharness bench`): the method's loss on two views, the online linear classifier on the detached
// backbone feature, backward, gradient clipping, the optimizer step and the method's hooks. The online
// classifier is trained either as solo-learn does (online.classifier = solo_learn: on both views, its loss added
// to the method's, a parameter group of the main optimizer with weight decay 0) or on view 1 by an SGD of its
// own (separate). Nothing in it
// reads a value back to the host (except the fp16 loss scaler's one flag, as PyTorch's GradScaler does).
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include "baselines/optimizers.h"
#include "baselines/ssl_method.h"
#include "harness/config/run_spec.h"
#include "harness/train/mixed_precision.h"
#include "harness/train/phase_timer.h"

namespace semharness {

class TrainingStep {
 public:
  // The method's parameters must already be on `device`.
  TrainingStep(SSLMethodImpl& method, const RunSpec& spec, int64_t num_classes, c10::Device device);

  // The learning rate of this step for the SSL optimizer; the online classifier follows it in proportion.
  void set_lr(double lr);
  // One step on two views of a batch with its labels (for the online classifier). `step` and `total_steps`
  // drive the method's momentum schedules. Returns the detached loss, on the device; adds the online
  // classifier's correct predictions to `online_correct` (a device scalar) when it is defined.
  at::Tensor run(const at::Tensor& view1, const at::Tensor& view2, const at::Tensor& labels, int64_t step,
                 int64_t total_steps, PhaseTimer& timer, at::Tensor online_correct = {});

  torch::nn::Linear& classifier() { return classifier_; }
  torch::optim::SGD& classifier_optimizer() { return classifier_sgd_; }
  PretrainOptimizer& optimizer() { return optimizer_; }
  LossScaler& scaler() { return scaler_; }

 private:
  SSLMethodImpl& method_;
  std::vector<at::Tensor> parameters_;
  PretrainOptimizer optimizer_;
  torch::nn::Linear classifier_;
  torch::optim::SGD classifier_sgd_;
  LossScaler scaler_;
  c10::Device device_;
  std::string precision_;
  double base_lr_, online_lr_, grad_clip_;
  bool solo_learn_;                            // online.classifier = solo_learn
  std::vector<at::Tensor> scaled_parameters_;  // what the loss scaler unscales: the method's (and the classifier's)
};

}  // namespace semharness
