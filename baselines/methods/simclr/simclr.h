#pragma once
// SimCLR (Chen et al. 2020): projector on each view, NT-Xent loss. With SEM, view 1 uses tau_online and
// view 2 tau_target (SPEC §1).
#include "baselines/ssl_method.h"

namespace semharness {

// NT-Xent over 2N projections: for each z, its other view is the positive and the 2N - 2 others are
// negatives, similarity = cosine / temperature; mean cross-entropy over all 2N.
torch::Tensor nt_xent_loss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature);

class SimCLRImpl : public SSLMethodImpl {
 public:
  explicit SimCLRImpl(const MethodOptions& options) : SSLMethodImpl(options) {}
  StepOutput training_step(const torch::Tensor& view1, const torch::Tensor& view2) override;
};

}  // namespace semharness
