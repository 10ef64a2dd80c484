#pragma once
// MoCo v2+ (Chen et al. 2020, "Improved Baselines with Momentum Contrastive Learning", as in solo-learn):
// online encoder q, momentum target encoder k (backbone, SEM embedder and projector, EMA with cosine
// momentum), InfoNCE against a queue of past target keys, symmetrised over the two views. With SEM the
// online branch uses tau_online and the target tau_target (SPEC §1).
#include "baselines/momentum_method.h"

namespace semharness {

// InfoNCE of one view: logits = [q.k, q.queue] / temperature over L2-normalised q and k (normalised here;
// the queue's columns must already be unit vectors), cross-entropy with the positive at index 0, averaged
// over the batch. q: [B, D], k: [B, D] (a constant), queue: [D, K].
torch::Tensor moco_infonce_loss(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& queue,
                                double temperature);

class MoCoV2PlusImpl : public MomentumMethodImpl {
 public:
  explicit MoCoV2PlusImpl(const MethodOptions& options);
  // (L(q1, k2, queue[1]) + L(q2, k1, queue[0])) / 2; the keys are kept for after_optimizer_step.
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;

  // Writes keys [2, B, D] (view-major, unit rows) into queue[view] at the pointer, wrapping around; when B
  // exceeds the queue size only the last queue_size keys are kept, as if written one after another.
  void enqueue(const torch::Tensor& keys);

  Encoder target{nullptr};
  torch::Tensor queue;      // [2, D, queue_size], unit columns: one queue of keys per view
  torch::Tensor queue_ptr;  // [1] int64 on the queue's device: the column the next key goes to

 private:
  // After the EMA update of the target, the keys of the last training_step enter the queue.
  void after_momentum_update() override;

  torch::Tensor pending_keys_;  // [2, B, D] normalised target keys of the last training_step
};

}  // namespace semharness
