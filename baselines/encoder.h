#pragma once
// backbone -> (SEM) -> projector: the branch every SSL method trains. Without SEM the projector reads the
// backbone feature h (the baseline of SPEC §1); with SEM it reads y = SEM(h, tau).
#include <memory>
#include <optional>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "baselines/backbones.h"
#include "baselines/mlp_head.h"
#include "sem/simplicial_embedding.h"

namespace semharness {

struct EncoderOptions {
  // projector.in_features is filled from the backbone or the SEM block.
  EncoderOptions(BackboneOptions backbone, MLPHeadOptions projector)
      : backbone_(std::move(backbone)), projector_(std::move(projector)) {}
  TORCH_ARG(BackboneOptions, backbone);
  TORCH_ARG(MLPHeadOptions, projector);
  // in_features is filled from the backbone; L, V and the temperatures are used.
  TORCH_ARG(std::optional<SEMOptions>, sem) = std::nullopt;
  // false: the embedder's parameters (Linear, BN affine) are not trained and keep their initial values; BN's
  // running statistics still move. The authors' SimCLR, SwAV and Barlow Twins leave the embedder out of the
  // optimizer (SPEC §7).
  TORCH_ARG(bool, train_embedder) = true;
};

struct EncoderOutput {
  torch::Tensor h;  // backbone feature
  torch::Tensor y;  // SEM block output (undefined without SEM)
  torch::Tensor z;  // projector output
};

class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const EncoderOptions& options);
  // tau is the SEM temperature of this call (ignored without SEM).
  EncoderOutput forward(const torch::Tensor& x, double tau);
  bool has_sem() const { return !sem.is_empty(); }

  EncoderOptions options;
  std::shared_ptr<BackboneImpl> backbone;
  SEM sem{nullptr};
  MLPHead projector{nullptr};
};
TORCH_MODULE(Encoder);

}  // namespace semharness
