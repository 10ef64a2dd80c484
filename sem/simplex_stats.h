#pragma once
// Statistics of simplicial features (SPEC §1, §4.2), on [B, L*V] tensors in the SEM block layout.
#include <ATen/core/Tensor.h>

namespace semharness {

// Entropy of each simplex, [B, L], in nats; in [0, ln V].
at::Tensor block_entropy(const at::Tensor& y, int64_t L, int64_t V);
// ||y||_2^2 per row, [B]; in [L/V, L] for simplicial features.
at::Tensor squared_norm(const at::Tensor& y);

}  // namespace semharness
