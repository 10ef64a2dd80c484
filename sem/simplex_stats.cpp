#include "sem/simplex_stats.h"

#include <torch/torch.h>

#include "sem/simplicial_embedding.h"

namespace semharness {

at::Tensor block_entropy(const at::Tensor& y, int64_t L, int64_t V) {
  const auto p = to_blocks(y, L, V);
  // 0 * log 0 = 0: xlogy gives exactly that.
  return -torch::special::xlogy(p, p).sum(-1);
}

at::Tensor squared_norm(const at::Tensor& y) { return y.pow(2).sum(-1); }

}  // namespace semharness
