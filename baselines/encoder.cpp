#include "baselines/encoder.h"

#include <torch/torch.h>

namespace semharness {

EncoderImpl::EncoderImpl(const EncoderOptions& options_) : options(options_) {
  backbone = register_module("backbone", make_backbone(options.backbone()));
  int64_t projector_in = backbone->output_dim();
  if (options.sem()) {
    SEMOptions sem_options = *options.sem();
    sem_options.in_features(backbone->output_dim());
    sem = register_module("sem", SEM(sem_options));
    projector_in = sem->output_dim();
    if (!options.train_embedder()) {
      for (auto& p : sem->parameters()) p.set_requires_grad(false);
    }
  }
  MLPHeadOptions projector_options = options.projector();
  projector_options.in_features(projector_in);
  projector = register_module("projector", MLPHead(projector_options));
}

EncoderOutput EncoderImpl::forward(const torch::Tensor& x, double tau) {
  EncoderOutput out;
  out.h = backbone->forward(x);
  out.y = has_sem() ? sem->forward(out.h, tau) : torch::Tensor();
  out.z = projector->forward(has_sem() ? out.y : out.h);
  return out;
}

}  // namespace semharness
