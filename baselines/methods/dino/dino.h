#pragma once
// DINO (Caron et al. 2021, as in solo-learn): the student is the online encoder (its projector is DINO's
// MLP down to the bottleneck) followed by a weight-normalised prototype layer; the teacher is an EMA copy of
// both with cosine momentum. The loss is the cross-entropy between the centred, sharpened teacher softmax
// of one view and the student's log-softmax of the other. With SEM the student uses tau_online and the
// teacher tau_target (SPEC §1).
#include "baselines/momentum_method.h"

namespace semharness {

// DINO's last layer (norm_last_layer = True): logits = normalize(z) . (v / ||v||)^T, with each prototype's
// vector v normalised to unit norm (weight norm with its gain fixed at 1), no bias.
class DINOLastLayerImpl : public torch::nn::Module {
 public:
  DINOLastLayerImpl(int64_t in_features, int64_t prototypes);
  torch::Tensor forward(const torch::Tensor& z);

  torch::Tensor weight;  // [prototypes, in_features], the direction v of each prototype
};
TORCH_MODULE(DINOLastLayer);

// Student and teacher logits hold the two views stacked ([2B, P], view 1 first). For each of the two pairs
// (teacher view a, student view b != a): mean over the batch of -sum softmax((t_a - center) / teacher_T) *
// log_softmax(s_b / student_T); the two pairs are averaged. The teacher side is a constant.
torch::Tensor dino_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                        const torch::Tensor& center, double student_temperature, double teacher_temperature);

// The teacher temperature of an epoch (from 0): solo-learn's linspace(warmup, final, warmup_epochs) over
// the warmup epochs, so the final value is reached at epoch warmup_epochs - 1; constant afterwards.
double dino_teacher_temperature(const DINOOptions& options, int64_t epoch);

class DINOImpl : public MomentumMethodImpl {
 public:
  explicit DINOImpl(const MethodOptions& options);
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;
  // Sets the teacher temperature and whether the last layer is frozen this epoch.
  void on_epoch_start(int64_t epoch, int64_t epochs) override;
  // During the first freeze_last_layer_epochs epochs the last layer's gradient is reset (the optimizer
  // skips it, weight decay and momentum included).
  void before_optimizer_step() override;
  // dino_teacher_entropy and dino_student_entropy (the mean entropy of one image's distribution over the
  // prototypes, nats) and dino_teacher_marginal_entropy (the entropy of the batch's mean teacher
  // distribution): ln(prototypes) for all three is the uniform collapse, a marginal entropy near 0 the
  // one-prototype collapse, a low teacher entropy under a high marginal one the working regime.
  std::vector<std::pair<std::string, double>> epoch_diagnostics() override;

  double teacher_temperature() const { return teacher_temperature_; }

  DINOLastLayer last_layer{nullptr};
  Encoder teacher{nullptr};
  DINOLastLayer teacher_last_layer{nullptr};
  torch::Tensor center;  // [1, prototypes]

 private:
  // After the EMA update of the teacher, the center moves toward the mean teacher output of the last step.
  void after_momentum_update() override;

  int64_t epoch_ = 0;
  double teacher_temperature_;
  torch::Tensor pending_teacher_mean_;  // [1, prototypes] batch mean of the teacher logits of the last step
  torch::Tensor entropy_sums_;          // [3] this epoch's sums of the three entropies, on the device
  int64_t entropy_steps_ = 0;
};

}  // namespace semharness
