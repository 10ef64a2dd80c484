#include "baselines/fused_momentum_update.h"

#include <ATen/ATen.h>

#include "sem/kernels/parallel_for.h"

namespace semharness {
namespace {

constexpr int64_t kGrain = 1 << 15;

// The same arithmetic, in the same order and precision, as the LibTorch ops of PretrainOptimizer::step.
template <typename T, bool First>
void update(T* p, const T* g, T* buf, int64_t n, const MomentumUpdate& u) {
  const T scale = static_cast<T>(u.scale), wd = static_cast<T>(u.weight_decay), m = static_cast<T>(u.momentum);
  const T minus_lr = static_cast<T>(-u.lr);
  kernel_parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T d = (g[i] + wd * p[i]) * scale;
      const T b = First ? d : buf[i] * m + d;
      buf[i] = b;
      p[i] += minus_lr * b;
    }
  });
}

template <typename T>
void dispatch(at::Tensor& p, const at::Tensor& g, at::Tensor& buffer, const MomentumUpdate& u, bool first) {
  if (first) {
    update<T, true>(p.data_ptr<T>(), g.const_data_ptr<T>(), buffer.data_ptr<T>(), p.numel(), u);
  } else {
    update<T, false>(p.data_ptr<T>(), g.const_data_ptr<T>(), buffer.data_ptr<T>(), p.numel(), u);
  }
}

}  // namespace

bool has_fused_momentum_update(const at::Tensor& p, const at::Tensor& g, const at::Tensor& buffer) {
  const auto fits = [&](const at::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == p.scalar_type() && t.sizes() == p.sizes() &&
           t.strides() == p.strides() && t.is_non_overlapping_and_dense();
  };
  const bool dtype = p.scalar_type() == at::kFloat || p.scalar_type() == at::kDouble;
  return dtype && fits(p) && fits(g) && (!buffer.defined() || fits(buffer));
}

void fused_momentum_update(at::Tensor& p, const at::Tensor& g, at::Tensor& buffer, const MomentumUpdate& update) {
  TORCH_CHECK(has_fused_momentum_update(p, g, buffer), "fused_momentum_update: no kernel for these tensors");
  const bool first = !buffer.defined();
  if (first) buffer = at::empty_like(p);  // p's strides (a channels-last weight's too)
  if (p.scalar_type() == at::kFloat) {
    dispatch<float>(p, g, buffer, update, first);
  } else {
    dispatch<double>(p, g, buffer, update, first);
  }
}

}  // namespace semharness
