#pragma once
// The SEM block of Lavoie et al. (ICLR 2023), SPEC §1:
//   e = BatchNorm1d(L*V)(Linear(in -> L*V, no bias)(h));  y = concat_l softmax(e_l / tau)
// Layout: the embedder's L*V outputs are read as [V, L] (vertex-major), so block l is the strided set
// {v*L + l}. The Linear's weights are learned, so this is only a fixed permutation of its output units; it
// makes the softmax reduce over a non-innermost dimension, which LibTorch runs ~3x faster for small V
// (shared/notes). to_blocks() is the one place that knows the layout; the softmax is sem/kernels' fused one.
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace semharness {

// Every profiler scope the SEM block records (its forward "sem::SEM", the softmax kernel and its backward)
// starts with this, so that a profile can tell the block's calls from the rest (harness/train/op_profile.h).
inline constexpr const char* kSemScopePrefix = "sem::";

// What follows the Linear+BN embedder. Softmax is SEM; the other two are the paper code's controls.
enum class SEMActivation {
  Softmax,        // softmax over each simplex at tau
  None,           // the embedder alone, no softmax: is SEM only extra width? (sem = linear)
  GumbelSoftmax,  // straight-through Gumbel-softmax: one-hot forward, softmax gradient (sem = gumbel)
};

struct SEMOptions {
  SEMOptions(int64_t in_features, int64_t L, int64_t V) : in_features_(in_features), L_(L), V_(V) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, L);                // number of simplices
  TORCH_ARG(int64_t, V);                // vertices per simplex
  TORCH_ARG(double, tau_online) = 1.0;  // temperature of the online branch / first view
  TORCH_ARG(double, tau_target) = 1.0;  // temperature of the EMA target / second view (SPEC §1)
  TORCH_ARG(SEMActivation, activation) = SEMActivation::Softmax;
};

class SEMImpl : public torch::nn::Cloneable<SEMImpl> {
 public:
  explicit SEMImpl(const SEMOptions& options);
  void reset() override;

  // Pre-softmax embedding e, [B, L*V] in the block layout above.
  torch::Tensor embed(const torch::Tensor& h);
  // y = simplex_softmax(embed(h), tau) for Softmax; embed(h) for None; for GumbelSoftmax in training mode
  // the one-hot of each simplex's argmax of (e + Gumbel noise) / tau with the gradient of its softmax,
  // and simplex_softmax in eval mode.
  torch::Tensor forward(const torch::Tensor& h, double tau);
  int64_t output_dim() const { return options.L() * options.V(); }

  SEMOptions options;
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(SEM);

// [B, L*V] in the block layout -> [B, L, V] view (no copy): [b, l, v] is vertex v of simplex l.
torch::Tensor to_blocks(const torch::Tensor& flat, int64_t L, int64_t V);
// Softmax of each simplex at temperature tau; same shape and layout as e.
torch::Tensor simplex_softmax(const torch::Tensor& e, int64_t L, int64_t V, double tau);
// One-hot per simplex in the forward pass, gradient of the softmax of (e + Gumbel noise) / tau backward.
torch::Tensor straight_through_gumbel_softmax(const torch::Tensor& e, int64_t L, int64_t V, double tau);
// The downstream feature of SPEC §2: softmax(e / tau_d) of a frozen pre-softmax embedding.
inline torch::Tensor downstream_feature(const torch::Tensor& e, int64_t L, int64_t V, double tau_d) {
  return simplex_softmax(e, L, V, tau_d);
}

}  // namespace semharness
