#include "sem/simplicial_embedding.h"

#include <torch/torch.h>

#include "sem/kernels/simplex_softmax_kernel.h"

namespace semharness {

SEMImpl::SEMImpl(const SEMOptions& options_) : options(options_) { reset(); }

void SEMImpl::reset() {
  TORCH_CHECK(options.L() >= 1 && options.V() >= 1, "SEM needs L >= 1 and V >= 1");
  TORCH_CHECK(options.tau_online() > 0 && options.tau_target() > 0, "SEM temperatures must be > 0");
  const int64_t dim = options.L() * options.V();
  linear =
      register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(options.in_features(), dim).bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm1d(dim));
}

torch::Tensor SEMImpl::embed(const torch::Tensor& h) { return bn->forward(linear->forward(h)); }

torch::Tensor SEMImpl::forward(const torch::Tensor& h, double tau) {
  // The block's scope for the profiler (harness/train/op_profile.h: mark_part finds its calls by the prefix).
  RECORD_FUNCTION("sem::SEM", std::vector<c10::IValue>({h}));
  const auto e = embed(h);
  switch (options.activation()) {
    case SEMActivation::None: return e;
    case SEMActivation::GumbelSoftmax:
      if (is_training()) return straight_through_gumbel_softmax(e, options.L(), options.V(), tau);
      break;
    case SEMActivation::Softmax: break;
  }
  return simplex_softmax(e, options.L(), options.V(), tau);
}

torch::Tensor straight_through_gumbel_softmax(const torch::Tensor& e, int64_t L, int64_t V, double tau) {
  // Gumbel(0, 1) noise = -log(-log U); clamping U away from 0 and 1 keeps both logs finite.
  const auto u = torch::rand_like(e).clamp_(1e-10, 1.0 - 1e-7);
  const auto soft = simplex_softmax(e - torch::log(-torch::log(u)), L, V, tau);
  const auto blocks = soft.view({e.size(0), V, L});
  const auto hard = torch::zeros_like(blocks).scatter_(1, blocks.argmax(1, /*keepdim=*/true), 1.0).view_as(soft);
  return hard - soft.detach() + soft;
}

torch::Tensor to_blocks(const torch::Tensor& flat, int64_t L, int64_t V) {
  return flat.view({flat.size(0), V, L}).transpose(1, 2);
}

torch::Tensor simplex_softmax(const torch::Tensor& e, int64_t L, int64_t V, double tau) {
  TORCH_CHECK(e.dim() == 2 && e.size(1) == L * V, "simplex_softmax: expected [B, ", L * V, "], got ", e.sizes());
  return fused_simplex_softmax(e, L, V, tau, SimplexLayout::VertexMajor);
}

}  // namespace semharness
