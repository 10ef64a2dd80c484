#pragma once
// BYOL (Grill et al. 2020): online encoder + predictor; a target encoder (backbone, SEM embedder and
// projector) that is an EMA of the online one, with cosine momentum. With SEM the online branch uses
// tau_online and the target tau_target (SPEC §1).
#include "baselines/momentum_method.h"

namespace semharness {

// 2 - 2 cos(p, z), averaged over the batch; z is treated as a constant.
torch::Tensor byol_loss(const torch::Tensor& p, const torch::Tensor& z);

class BYOLImpl : public MomentumMethodImpl {
 public:
  explicit BYOLImpl(const MethodOptions& options);
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;

  MLPHead predictor{nullptr};
  Encoder target{nullptr};
};

}  // namespace semharness
