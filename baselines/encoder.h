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
  EncoderOptions(BackboneOptions backbone, int64_t proj_hidden, int64_t proj_out)
      : backbone_(std::move(backbone)), proj_hidden_(proj_hidden), proj_out_(proj_out) {}
  TORCH_ARG(BackboneOptions, backbone);
  TORCH_ARG(int64_t, proj_hidden);
  TORCH_ARG(int64_t, proj_out);
  // in_features is filled from the backbone; L, V and the temperatures are used.
  TORCH_ARG(std::optional<SEMOptions>, sem) = std::nullopt;
};

struct EncoderOutput {
  torch::Tensor h;  // backbone feature
  torch::Tensor y;  // SEM feature (undefined without SEM)
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
