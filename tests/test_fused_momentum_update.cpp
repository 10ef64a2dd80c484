// The optimizers' fused momentum step against a float64 reference written out from the formulas, over
// several steps, for SGD and LARS and for contiguous, channels-last and non-dense parameters.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/fused_momentum_update.h"
#include "baselines/optimizers.h"

namespace semharness {
namespace {

// One parameter's float64 reference state.
struct Reference {
  torch::Tensor p, buf;
};

// solo-learn's LARS / momentum SGD, step by step (the optimizer's header states the formula).
void reference_step(Reference& r, const torch::Tensor& g, const std::string& name, double lr, double wd, double eta,
                    double momentum) {
  const bool adapted = name == "sgd" || r.p.dim() > 1;
  auto d = g.clone();
  if (adapted) d += wd * r.p;
  if (name == "lars" && adapted) {
    const double w_norm = r.p.norm().item<double>(), g_norm = g.norm().item<double>();
    const double factor = std::min(eta * w_norm / (g_norm + wd * w_norm + 1e-8) / lr, 1.0);
    d *= factor;
  }
  r.buf = r.buf.defined() ? momentum * r.buf + d : d;
  r.p = r.p - lr * r.buf;
}

class FusedMomentumTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FusedMomentumTest, MatchesFloat64ReferenceOverSteps) {
  const std::string name = GetParam();
  torch::manual_seed(0);
  // A linear weight, a channels-last conv weight, a bias, and a transposed (non-dense-contiguous but dense)
  // weight, all float32 on the CPU.
  std::vector<torch::Tensor> params{
      torch::randn({64, 300}),
      torch::randn({16, 8, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast),
      torch::randn({64}),
      torch::randn({300, 64}).t(),
  };
  for (auto& p : params) p.requires_grad_(true);
  std::vector<Reference> reference;
  for (const auto& p : params) reference.push_back({p.detach().to(torch::kDouble), {}});
  const double lr = 0.3, wd = 1e-2, eta = 0.02, momentum = 0.9;
  PretrainOptimizer optimizer(params, OptimizerOptions().name(name).lr(lr).weight_decay(wd).lars_eta(eta));
  for (int step = 0; step < 4; ++step) {
    for (size_t i = 0; i < params.size(); ++i) {
      const auto g = torch::randn(params[i].sizes());
      params[i].mutable_grad() = params[i].detach().clone().copy_(g);  // the parameter's strides, as autograd's
      reference_step(reference[i], g.to(torch::kDouble), name, lr, wd, eta, momentum);
    }
    optimizer.step();
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(torch::allclose(params[i].detach().to(torch::kDouble), reference[i].p, 1e-5, 1e-6))
          << name << " parameter " << i << " step " << step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Optimizers, FusedMomentumTest, ::testing::Values("sgd", "lars"));

TEST(FusedMomentumKernelTest, TakesDenseCpuFloatTensorsOfOneLayout) {
  const auto p = torch::randn({8, 4, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(has_fused_momentum_update(p, torch::empty_like(p), {}));
  EXPECT_TRUE(has_fused_momentum_update(p, torch::empty_like(p), torch::empty_like(p)));
  EXPECT_FALSE(has_fused_momentum_update(p, p.contiguous(), {}));  // another layout
  EXPECT_FALSE(has_fused_momentum_update(p.to(torch::kHalf), p.to(torch::kHalf), {}));
  const auto wide = torch::randn({8, 8});
  EXPECT_FALSE(has_fused_momentum_update(wide.slice(1, 0, 4), wide.slice(1, 0, 4), {}));  // not dense
}

TEST(FusedMomentumKernelTest, HandComputedStep) {
  // p = 1, g = 2, wd 0.5, scale 0.25, lr 0.1: d = 0.25 * (2 + 0.5) = 0.625, buf = d, p = 1 - 0.0625.
  auto p = torch::ones({3}, torch::kDouble);
  at::Tensor buffer;
  fused_momentum_update(p, torch::full({3}, 2.0, torch::kDouble), buffer, {0.25, 0.5, 0.9, 0.1});
  EXPECT_NEAR(buffer[0].item<double>(), 0.625, 1e-15);
  EXPECT_NEAR(p[2].item<double>(), 0.9375, 1e-15);
  // Second step, g = 0: d = 0.25 * 0.5 * 0.9375, buf = 0.9 * 0.625 + d.
  fused_momentum_update(p, torch::zeros({3}, torch::kDouble), buffer, {0.25, 0.5, 0.9, 0.1});
  const double b = 0.9 * 0.625 + 0.25 * 0.5 * 0.9375;
  EXPECT_NEAR(buffer[1].item<double>(), b, 1e-15);
  EXPECT_NEAR(p[0].item<double>(), 0.9375 - 0.1 * b, 1e-15);
}

}  // namespace
}  // namespace semharness
