#pragma once
// SwAV (Caron et al. 2020): normalized projections are scored against learned unit-norm prototypes; the
// codes of one view (Sinkhorn-Knopp equipartition of its scores, optionally with a queue of past
// projections) are predicted from the other view's scores. With SEM, view 1 uses tau_online and view 2
// tau_target (SPEC §1).
#include "baselines/ssl_method.h"

namespace semharness {

// Soft assignments of N samples to K prototypes from scores [N, K]: Q = exp(scores / epsilon)^T is scaled to
// total 1, then `iterations` times its prototype rows are scaled to 1/K each and its sample columns to 1/N
// each. Returns [N, K] (the layout of scores), each row (a sample's assignment) summing to 1 and each column
// to about N/K. No gradient flows through it.
torch::Tensor sinkhorn_knopp(const torch::Tensor& scores, int64_t iterations, double epsilon);

// Swapped prediction over two views, scores p [N, K] and codes q [N, K]:
// (CE(q1, p2) + CE(q2, p1)) / 2 with CE(q, p) = -mean_n sum_k q_nk log_softmax(p_n / temperature)_k.
torch::Tensor swav_loss(const torch::Tensor& p1, const torch::Tensor& p2, const torch::Tensor& q1,
                        const torch::Tensor& q2, double temperature);

class SwAVImpl : public SSLMethodImpl {
 public:
  explicit SwAVImpl(const MethodOptions& options);
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;
  void on_epoch_start(int64_t epoch, int64_t epochs) override;
  // Drops the prototypes' gradients during the first freeze_prototypes_epochs epochs.
  void before_optimizer_step() override;

  // With prototype_norm = renormalise, scales each prototype (row of the weight) to unit L2 norm;
  // training_step starts with it. Nothing with weight_norm.
  void normalize_prototypes();
  // Scores [N, K] of normalised projections z [N, D] against the prototypes.
  torch::Tensor prototype_scores(const torch::Tensor& z) const;

  // Projector output -> prototypes, no bias. With weight_norm its weight is the direction v of each
  // prototype, and prototype_gain [K, 1] (initialised to ||v||) its length.
  torch::nn::Linear prototypes{nullptr};
  torch::Tensor prototype_gain;  // undefined with renormalise
  // [2, queue_size, projector output] normalized projections of past batches, newest first, one row per
  // view; undefined when queue_size is 0.
  torch::Tensor queue;

 private:
  // Codes of the batch's scores of one view (0 or 1), with the queue's scores added to the Sinkhorn input
  // once the queue is in use.
  torch::Tensor assignments(const torch::Tensor& scores, int64_t view);
  void push_to_queue(const torch::Tensor& z1, const torch::Tensor& z2);

  int64_t epoch_ = 0;
};

}  // namespace semharness
