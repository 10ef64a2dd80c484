#pragma once
// The softmax over the simplices of SEM (SPEC §1), y_l = softmax(e_l / tau), as one fused CPU kernel per
// direction: forward max / exp / normalize, backward dx = y * (dy - sum_v dy * y) / tau, each in a single
// pass over memory. CPU float32 and float64 run the hand-written kernel (float32 with a vectorized polynomial
// exp, multiversioned for AVX-512 / AVX2); every other device or dtype (CUDA, bf16, half) falls back to the
// unfused LibTorch ops, so the function is correct everywhere.
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace semharness {

// Where vertex v of simplex l sits in a row of L*V entries.
enum class SimplexLayout {
  VertexMajor,  // [V, L]: entry v*L + l (the SEM module's layout; simplex l is strided)
  BlockMajor,   // [L, V]: entry l*V + v (each simplex contiguous)
};

// Softmax of each simplex of e [B, L*V] at temperature tau (> 0); same shape, dtype and device as e.
// Differentiable; its backward is one fused pass too. A non-contiguous e is made contiguous first.
at::Tensor fused_simplex_softmax(const at::Tensor& e, int64_t L, int64_t V, double tau,
                                 SimplexLayout layout = SimplexLayout::VertexMajor);

// The same function with plain LibTorch ops and autograd: the reference, and the fallback of the fused one.
at::Tensor unfused_simplex_softmax(const at::Tensor& e, int64_t L, int64_t V, double tau,
                                   SimplexLayout layout = SimplexLayout::VertexMajor);

// Whether fused_simplex_softmax runs the hand-written kernel for e (CPU float32/float64) rather than the
// fallback.
bool simplex_softmax_has_kernel(const at::Tensor& e);

}  // namespace semharness
