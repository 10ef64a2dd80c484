// The SEM block against independent references: a hand-written float64 loop for the softmax over
// simplices and the layout, a float64 BatchNorm, finite differences for the gradient.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sem/simplex_stats.h"
#include "sem/simplicial_embedding.h"

using namespace semharness;

namespace {

// Reference softmax over simplices, element by element in double; block l holds entries {v * L + l}.
torch::Tensor reference_simplex_softmax(const torch::Tensor& e, int64_t L, int64_t V, double tau) {
  auto in = e.to(torch::kDouble).contiguous();
  auto out = torch::empty_like(in);
  auto a = in.accessor<double, 2>();
  auto o = out.accessor<double, 2>();
  for (int64_t b = 0; b < in.size(0); ++b) {
    for (int64_t l = 0; l < L; ++l) {
      double mx = -1e300;
      for (int64_t v = 0; v < V; ++v) mx = std::max(mx, a[b][v * L + l] / tau);
      double z = 0;
      for (int64_t v = 0; v < V; ++v) z += std::exp(a[b][v * L + l] / tau - mx);
      for (int64_t v = 0; v < V; ++v) o[b][v * L + l] = std::exp(a[b][v * L + l] / tau - mx) / z;
    }
  }
  return out;
}

}  // namespace

TEST(SEMTest, SoftmaxMatchesFloat64Reference) {
  torch::manual_seed(0);
  for (auto [L, V] : {std::pair<int64_t, int64_t>{1, 1}, {5, 13}, {64, 8}, {7, 2}}) {
    const auto e = torch::randn({4, L * V}, torch::kDouble) * 3;
    for (double tau : {0.01, 0.1, 1.0, 10.0}) {
      const auto expected = reference_simplex_softmax(e, L, V, tau);
      const auto y64 = simplex_softmax(e, L, V, tau);
      EXPECT_LT((y64 - expected).abs().max().item<double>(), 1e-12) << "L=" << L << " V=" << V << " tau=" << tau;
      // float32: logits e / tau reach ~1000, whose rounding (~6e-5) bounds the error of each probability.
      const auto y32 = simplex_softmax(e.to(torch::kFloat), L, V, tau);
      EXPECT_LT((y32.to(torch::kDouble) - expected).abs().max().item<double>(), 1e-4)
          << "L=" << L << " V=" << V << " tau=" << tau;
    }
  }
}

TEST(SEMTest, SimplexInvariants) {
  torch::manual_seed(1);
  const int64_t L = 50, V = 13, B = 16;
  SEM sem(SEMOptions(32, L, V));
  const auto y = sem->forward(torch::randn({B, 32}), 0.5);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{B, L * V}));
  const auto blocks = to_blocks(y, L, V);
  EXPECT_LT((blocks.sum(-1) - 1).abs().max().item<double>(), 1e-5);  // each simplex sums to 1
  EXPECT_LT((y.sum(1) - L).abs().max().item<double>(), 1e-3);        // ||y||_1 = L
  EXPECT_GE(y.min().item<double>(), 0.0);
  EXPECT_LE(y.max().item<double>(), 1.0);
  const auto sq = squared_norm(y);
  EXPECT_GE(sq.min().item<double>(), static_cast<double>(L) / V - 1e-4);  // L/V <= ||y||^2 <= L
  EXPECT_LE(sq.max().item<double>(), L + 1e-4);
  const auto entropy = block_entropy(y, L, V);
  EXPECT_EQ(entropy.sizes(), (std::vector<int64_t>{B, L}));
  EXPECT_GE(entropy.min().item<double>(), -1e-6);
  EXPECT_LE(entropy.max().item<double>(), std::log(static_cast<double>(V)) + 1e-5);
}

TEST(SEMTest, EntropyHandComputed) {
  // L = 2, V = 2; layout [V, L]: simplex 0 = (y[0], y[2]), simplex 1 = (y[1], y[3]).
  const auto y = torch::tensor({{0.5, 1.0, 0.5, 0.0}}, torch::kDouble);
  const auto h = block_entropy(y, 2, 2);
  EXPECT_NEAR(h[0][0].item<double>(), std::log(2.0), 1e-12);
  EXPECT_NEAR(h[0][1].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(squared_norm(y)[0].item<double>(), 1.5, 1e-12);
}

TEST(SEMTest, BlockForwardMatchesFloat64Reference) {
  torch::manual_seed(2);
  const int64_t in = 6, L = 3, V = 4, B = 8;
  SEM sem(SEMOptions(in, L, V));
  sem->to(torch::kDouble);
  const auto h = torch::randn({B, in}, torch::kDouble);
  const auto y = sem->forward(h, 0.7);
  // Linear without bias, then BatchNorm in training mode (batch mean, biased variance, eps 1e-5, gamma 1, beta 0).
  const auto linear = torch::mm(h, sem->linear->weight.detach().t());
  const auto mean = linear.mean(0, true);
  const auto var = (linear - mean).pow(2).mean(0, true);
  const auto e = (linear - mean) / torch::sqrt(var + 1e-5);
  EXPECT_LT((y.detach() - reference_simplex_softmax(e, L, V, 0.7)).abs().max().item<double>(), 1e-12);
  EXPECT_EQ(sem->linear->bias.defined(), false);
}

TEST(SEMTest, GradientMatchesFiniteDifferences) {
  torch::manual_seed(3);
  const int64_t L = 3, V = 5, B = 2;
  const double tau = 0.3, eps = 1e-6;
  const auto weights = torch::randn({B, L * V}, torch::kDouble);
  auto e = torch::randn({B, L * V}, torch::kDouble).requires_grad_(true);
  (simplex_softmax(e, L, V, tau) * weights).sum().backward();
  const auto analytic = e.grad().clone();
  auto base = e.detach().clone();
  auto numeric = torch::zeros_like(base);
  auto objective = [&](const torch::Tensor& x) {
    return (reference_simplex_softmax(x, L, V, tau) * weights).sum().item<double>();
  };
  for (int64_t i = 0; i < base.numel(); ++i) {
    auto plus = base.clone(), minus = base.clone();
    plus.view(-1)[i] += eps;
    minus.view(-1)[i] -= eps;
    numeric.view(-1)[i] = (objective(plus) - objective(minus)) / (2 * eps);
  }
  EXPECT_LT((analytic - numeric).abs().max().item<double>(), 1e-7);
}

TEST(SEMTest, DownstreamFeatureSharpensWithTemperature) {
  const auto e = torch::tensor({{2.0, 1.0, 0.0, 0.5}}, torch::kDouble);  // L = 2, V = 2
  const auto cold = downstream_feature(e, 2, 2, 1e-3);
  EXPECT_NEAR(cold[0][0].item<double>(), 1.0, 1e-9);  // simplex 0: (2.0, 0.0) -> vertex 0
  EXPECT_NEAR(cold[0][1].item<double>(), 1.0, 1e-9);  // simplex 1: (1.0, 0.5) -> vertex 0
  EXPECT_NEAR(cold[0][3].item<double>(), 0.0, 1e-9);
  const auto hot = downstream_feature(e, 2, 2, 1e3);
  EXPECT_NEAR(hot[0][0].item<double>(), 0.5, 1e-3);
}
