// The fused softmax over simplices (sem/kernels/simplex_softmax_kernel.h) against an independent float64
// reference: the unfused LibTorch ops run in float64 on the same inputs, their autograd for the gradient,
// and central finite differences by hand. One table of cases (shape, tau, layout, dtype, logit scale), in
// the style of llama.cpp's test-backend-ops, then the properties no table row covers.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sem/kernels/simplex_softmax_kernel.h"
#include "sem/simplicial_embedding.h"

using namespace semharness;

namespace {

struct Case {
  int64_t B, L, V;
  double tau;
  SimplexLayout layout = SimplexLayout::VertexMajor;
  torch::Dtype dtype = torch::kFloat;
  double scale = 3.0;       // logits are scale * N(0, 1), or scale * (+-1) when `signs`
  bool signs = false;       // all logits exactly +-scale: many ties at the maximum
  bool transposed = false;  // a non-contiguous input (the transpose of a [L*V, B] tensor)

  std::string name() const {
    return fmt::format("B={} L={} V={} tau={} {} {} scale={}{}{}", B, L, V, tau,
                       layout == SimplexLayout::VertexMajor ? "vertex-major" : "block-major",
                       dtype == torch::kFloat    ? "f32"
                       : dtype == torch::kDouble ? "f64"
                                                 : "bf16",
                       scale, signs ? " signs" : "", transposed ? " non-contiguous" : "");
  }
};

std::vector<Case> cases() {
  const auto VM = SimplexLayout::VertexMajor, BM = SimplexLayout::BlockMajor;
  return {
      {4, 7, 1, 1.0},                                         // V = 1: every output is exactly 1, every gradient 0
      {3, 70, 2, 1.0},                                        // V = 2, L not a multiple of the tile (64)
      {1, 64, 13, 0.1},                                       // B = 1, L exactly one tile
      {5, 100, 13, 1.0},                                      // one full tile and a packed tail per row
      {2, 333, 13, 10.0},                                     // several tiles and a tail
      {6, 5, 13, 0.5},                                        // L < tile: simplices of several rows packed together
      {3, 1, 100, 0.7},                                       // L = 1, V large: the contiguous-row path
      {2, 2, 70, 0.7},                                        // L < tile, V > tile: packed with a large buffer
      {4, 80, 8, 0.1, VM, torch::kFloat, 80.0, true},         // logits +-80 (ties) at tau 0.1
      {4, 80, 8, 1.0, VM, torch::kFloat, 1e4},                // logits ~1e4
      {3, 70, 13, 0.1, VM, torch::kFloat, 1e4, true},         // +-1e4 at tau 0.1: exp's clamp
      {3, 65, 13, 0.5, VM, torch::kFloat, 3.0, false, true},  // non-contiguous
      {4, 50, 13, 0.5, BM},  // block-major, small V: transposed through the tile buffer
      {2, 300, 13, 1.0, BM, torch::kFloat, 80.0, true},
      {3, 4, 200, 0.3, BM},  // block-major, V > tile: contiguous rows with a tail
      {2, 9, 1, 1.0, BM},
      {66, 5001, 13, 0.5},                   // output >= 16 MiB: non-temporal stores, odd L (unaligned rows) + tail
      {3, 70, 13, 0.3, VM, torch::kDouble},  // float64 kernel
      {3, 10, 70, 0.3, BM, torch::kDouble, 1e4, true},
  };
}

// Logits for a case, as float64 (the values the kernel's dtype can hold exactly).
torch::Tensor make_logits(const Case& c, int64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({c.B, c.L * c.V}, torch::kDouble);
  if (c.signs) x = torch::sign(x) + (x == 0).to(torch::kDouble);
  return (x * c.scale).to(c.dtype).to(torch::kDouble);
}

torch::Tensor as_input(const torch::Tensor& x64, const Case& c) {
  if (!c.transposed) return x64.to(c.dtype);
  auto t = x64.t().contiguous().to(c.dtype).t();  // same values, column-major storage
  EXPECT_FALSE(t.is_contiguous());
  return t;
}

// [B, L*V] -> [B, V, L] (vertex-major) or [B, L, V] (block-major); the vertices lie along vertex_dim(c).
torch::Tensor blocks(const torch::Tensor& flat, const Case& c) {
  return c.layout == SimplexLayout::VertexMajor ? flat.reshape({c.B, c.V, c.L}) : flat.reshape({c.B, c.L, c.V});
}
int64_t vertex_dim(const Case& c) { return c.layout == SimplexLayout::VertexMajor ? 1 : 2; }
// The per-simplex sum of t, broadcast back to every vertex, flat.
torch::Tensor simplex_sum(const torch::Tensor& t, const Case& c) {
  return blocks(t, c).sum(vertex_dim(c), true).expand_as(blocks(t, c)).reshape({c.B, -1});
}

// Error bounds, element by element, from the float64 reference. The kernel rounds z = (x - max) / tau to
// about eps |z|; a probability y_i = exp(z_i) / sum_j exp(z_j) inherits a relative error of about
// eps (|z_i| + sum_j y_j |z_j|) <= eps (|z_i| + V), plus a few ulp from the exp, the sum and the scaling
// (`base`: 1e-6 in float32). The gradient dx_i = y_i (dy_i - <dy, y>) / tau inherits y_i's error and that
// of the dot product, whose sum over V vertices rounds once per vertex.
struct Bounds {
  torch::Tensor forward, backward;
};
Bounds error_bounds(const Case& c, const torch::Tensor& x64, const torch::Tensor& y, const torch::Tensor& dy) {
  const bool f64 = c.dtype == torch::kDouble;
  const double eps = f64 ? 1.2e-16 : 6e-8, base = f64 ? 1e-13 : 1e-6;
  const double atol = f64 ? 1e-300 : 2e-38;  // float32 flushes y < FLT_MIN to 0
  const auto xb = blocks(x64, c);
  const auto z = ((xb - std::get<0>(xb.max(vertex_dim(c), true))).abs() / c.tau).reshape({c.B, -1});
  const auto rel = base + 2 * eps * (z + static_cast<double>(c.V));
  Bounds b;
  b.forward = y * rel + atol;
  const auto dot_abs = simplex_sum(y * dy.abs(), c);
  const auto err_dot = simplex_sum(y * rel * dy.abs(), c);
  b.backward = 2 * (y * rel * (dy.abs() + dot_abs) + y * (err_dot + c.V * eps * dot_abs)) / c.tau + atol / c.tau;
  return b;
}

void expect_within(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& bound,
                   const std::string& what) {
  const auto err = (got.to(torch::kDouble) - want).abs();
  EXPECT_TRUE(torch::all(err <= bound).item<bool>()) << what << ": max |err| = " << err.max().item<double>()
                                                     << ", max |err| / bound = " << (err / bound).max().item<double>();
}

}  // namespace

TEST(SimplexSoftmaxKernel, CaseTableAgainstFloat64Reference) {
  int64_t seed = 100;
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name());
    const auto x64 = make_logits(c, seed++);
    const auto dy64 = torch::randn({c.B, c.L * c.V}, torch::kDouble).to(c.dtype).to(torch::kDouble);
    const auto x = as_input(x64, c).requires_grad_(true);
    ASSERT_TRUE(simplex_softmax_has_kernel(x));

    const auto y = fused_simplex_softmax(x, c.L, c.V, c.tau, c.layout);
    ASSERT_EQ(y.sizes(), x.sizes());
    ASSERT_EQ(y.scalar_type(), c.dtype);
    ASSERT_TRUE(y.is_contiguous());
    const auto dx = torch::autograd::grad({y}, {x}, {dy64.to(c.dtype)})[0];

    auto xr = x64.clone().requires_grad_(true);
    const auto y_ref = unfused_simplex_softmax(xr, c.L, c.V, c.tau, c.layout);
    const auto dx_ref = torch::autograd::grad({y_ref}, {xr}, {dy64})[0];

    const auto bounds = error_bounds(c, x64, y_ref.detach(), dy64);
    EXPECT_FALSE(torch::isnan(y).any().item<bool>());
    EXPECT_FALSE(torch::isnan(dx).any().item<bool>());
    EXPECT_GE(y.min().item<double>(), 0.0);
    EXPECT_LE(y.max().item<double>(), 1.0);
    expect_within(y.detach(), y_ref.detach(), bounds.forward, "forward");
    expect_within(dx, dx_ref, bounds.backward, "backward");
    const auto sums = blocks(y.detach().to(torch::kDouble), c).sum(vertex_dim(c));
    EXPECT_LT((sums - 1).abs().max().item<double>(), c.dtype == torch::kDouble ? 1e-13 : 1e-6 + 1e-8 * c.V);
    if (c.V == 1) {
      EXPECT_TRUE(torch::all(y == 1).item<bool>());
      EXPECT_TRUE(torch::all(dx == 0).item<bool>());
    }
  }
}

TEST(SimplexSoftmaxKernel, GradientMatchesCentralFiniteDifferences) {
  // Float64 kernel, tiny case, both layouts: d/dx_i of sum(w * y(x)) against (f(x + h e_i) - f(x - h e_i)) / 2h.
  for (auto layout : {SimplexLayout::VertexMajor, SimplexLayout::BlockMajor}) {
    SCOPED_TRACE(layout == SimplexLayout::VertexMajor ? "vertex-major" : "block-major");
    torch::manual_seed(7);
    const int64_t B = 2, L = 3, V = 4;
    const double tau = 0.3, h = 1e-6;
    const auto w = torch::randn({B, L * V}, torch::kDouble);
    const auto base = torch::randn({B, L * V}, torch::kDouble);
    auto x = base.clone().requires_grad_(true);
    (fused_simplex_softmax(x, L, V, tau, layout) * w).sum().backward();
    auto f = [&](const torch::Tensor& p) {
      return (fused_simplex_softmax(p, L, V, tau, layout) * w).sum().item<double>();
    };
    auto numeric = torch::zeros_like(base);
    for (int64_t i = 0; i < base.numel(); ++i) {
      auto plus = base.clone(), minus = base.clone();
      plus.view(-1)[i] += h;
      minus.view(-1)[i] -= h;
      numeric.view(-1)[i] = (f(plus) - f(minus)) / (2 * h);
    }
    EXPECT_LT((x.grad() - numeric).abs().max().item<double>(), 1e-7);
  }
}

TEST(SimplexSoftmaxKernel, DoubleBackwardFollowsTheReference) {
  // create_graph: the backward runs in differentiable ops, so second derivatives agree with the reference.
  torch::manual_seed(8);
  const int64_t B = 2, L = 5, V = 3;
  const auto base = torch::randn({B, L * V}, torch::kDouble);
  const auto dy = torch::randn({B, L * V}, torch::kDouble);
  auto second = [&](bool fused) {
    auto x = base.clone().requires_grad_(true);
    const auto y = fused ? fused_simplex_softmax(x, L, V, 0.4) : unfused_simplex_softmax(x, L, V, 0.4);
    const auto g = torch::autograd::grad({y}, {x}, {dy}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    return torch::autograd::grad({(g * g).sum()}, {x})[0];
  };
  EXPECT_LT((second(true) - second(false)).abs().max().item<double>(), 1e-12);
}

TEST(SimplexSoftmaxKernel, SameResultOnOneAndTwoThreads) {
  const int previous = at::get_num_threads();
  torch::manual_seed(9);
  for (auto layout : {SimplexLayout::VertexMajor, SimplexLayout::BlockMajor}) {
    const int64_t B = 66, L = 5001, V = 13;  // 4.3M entries: several parallel tasks, non-temporal stores
    const auto x = (torch::randn({B, L * V}) * 4).requires_grad_(true);
    const auto dy = torch::randn({B, L * V});
    std::vector<torch::Tensor> ys, dxs;
    for (int threads : {1, 2}) {
      at::set_num_threads(threads);
      const auto y = fused_simplex_softmax(x, L, V, 0.5, layout);
      dxs.push_back(torch::autograd::grad({y}, {x}, {dy})[0]);
      ys.push_back(y.detach());
    }
    EXPECT_TRUE(torch::equal(ys[0], ys[1]));
    EXPECT_TRUE(torch::equal(dxs[0], dxs[1]));
  }
  at::set_num_threads(previous);
}

TEST(SimplexSoftmaxKernel, InfinitiesAndNaNPropagateLikeTheReference) {
  // -inf is a vertex of probability 0; a NaN makes its simplex NaN, leaving the others alone.
  const double inf = std::numeric_limits<double>::infinity();
  const auto x = torch::tensor({{0.0, 1.0, -inf, 2.0, std::nan(""), 0.0}}, torch::kFloat);  // L = 3, V = 2
  const auto y = fused_simplex_softmax(x, 3, 2, 1.0).to(torch::kDouble);
  const auto ref = unfused_simplex_softmax(x.to(torch::kDouble), 3, 2, 1.0);
  EXPECT_NEAR(y[0][2].item<double>(), 0.0, 0.0);  // simplex 2: (-inf, 0)
  EXPECT_NEAR(y[0][5].item<double>(), 1.0, 1e-7);
  EXPECT_TRUE(std::isnan(y[0][1].item<double>()) && std::isnan(y[0][4].item<double>()));  // simplex 1
  EXPECT_NEAR(y[0][0].item<double>(), ref[0][0].item<double>(), 1e-7);                    // simplex 0: (0, 2)
  EXPECT_NEAR(y[0][3].item<double>(), ref[0][3].item<double>(), 1e-7);
}

TEST(SimplexSoftmaxKernel, OtherDtypesAndDevicesTakeTheFallback) {
  torch::manual_seed(10);
  const int64_t B = 3, L = 20, V = 13;
  const auto x64 = torch::randn({B, L * V}, torch::kDouble) * 2;
  const auto dy64 = torch::randn({B, L * V}, torch::kDouble);
  std::vector<torch::Tensor> inputs{x64.to(torch::kBFloat16)};
  if (torch::cuda::is_available()) inputs.push_back(x64.to(torch::kFloat).to(torch::kCUDA));
  auto xr = x64.clone().requires_grad_(true);
  const auto y_ref = unfused_simplex_softmax(xr, L, V, 0.5);
  const auto dx_ref = torch::autograd::grad({y_ref}, {xr}, {dy64})[0];
  for (const auto& in : inputs) {
    SCOPED_TRACE(in.toString());
    EXPECT_FALSE(simplex_softmax_has_kernel(in));
    const auto x = in.clone().requires_grad_(true);
    const auto y = fused_simplex_softmax(x, L, V, 0.5);
    EXPECT_EQ(y.device(), in.device());
    EXPECT_EQ(y.scalar_type(), in.scalar_type());
    const auto dx = torch::autograd::grad({y}, {x}, {dy64.to(in.options())})[0];
    const double tol = in.scalar_type() == torch::kBFloat16 ? 3e-2 : 1e-5;  // bf16 keeps 8 bits
    const auto x_in = in.to(torch::kCPU).to(torch::kDouble);                // the rounded logits
    const auto y_in = unfused_simplex_softmax(x_in, L, V, 0.5);
    EXPECT_LT((y.to(torch::kCPU).to(torch::kDouble) - y_in).abs().max().item<double>(), tol);
    EXPECT_LT((dx.to(torch::kCPU).to(torch::kDouble) - dx_ref).abs().max().item<double>(), 10 * tol);
  }
}

TEST(SimplexSoftmaxKernel, SEMModuleUsesTheKernelAndGumbelStillWorks) {
  torch::manual_seed(11);
  const int64_t L = 70, V = 13;
  const auto e = torch::randn({4, L * V});
  EXPECT_LT((simplex_softmax(e, L, V, 0.5) - unfused_simplex_softmax(e.to(torch::kDouble), L, V, 0.5))
                .abs()
                .max()
                .item<double>(),
            1e-6);
  auto eg = e.clone().requires_grad_(true);
  const auto hard = straight_through_gumbel_softmax(eg, L, V, 0.5);
  // one-hot - soft + soft: one-hot up to float rounding
  EXPECT_LT((hard - hard.round()).abs().max().item<double>(), 1e-6);
  EXPECT_LT((hard.view({4, V, L}).sum(1) - 1).abs().max().item<double>(), 1e-5);
  hard.sum().backward();  // the straight-through gradient of a softmax: a sum is constant, so ~0
  EXPECT_LT(eg.grad().abs().max().item<double>(), 1e-5);
}
