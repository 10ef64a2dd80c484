// Barlow Twins, VICReg and SwAV: losses against hand-computed values, Sinkhorn-Knopp, the SwAV prototypes,
// freeze and queue, and a short training run per method with and without SEM.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/methods/barlow_twins/barlow_twins.h"
#include "baselines/methods/swav/swav.h"
#include "baselines/methods/vicreg/vicreg.h"

using namespace semharness;

namespace {

double value(const torch::Tensor& t) { return t.item<double>(); }

// Four samples; each column has mean 0 and biased variance 1, and the columns are pairwise orthogonal.
torch::Tensor orthogonal_columns() {
  return torch::tensor({{1.0, 1.0, 1.0}, {-1.0, 1.0, -1.0}, {1.0, -1.0, -1.0}, {-1.0, -1.0, 1.0}});
}

EncoderOptions tiny_encoder(int64_t projector_layers, const std::string& sem) {
  EncoderOptions encoder(BackboneOptions("convnet", 3).width(0.25), MLPHeadOptions(0, 64, 32).layers(projector_layers));
  if (sem == "sem") encoder.sem(SEMOptions(0, 8, 4).tau_online(0.5).tau_target(1.0));
  if (sem == "sem_linear") encoder.sem(SEMOptions(0, 8, 4).activation(SEMActivation::None));
  return encoder;
}

MethodOptions tiny_swav(const std::string& sem, int64_t queue_size) {
  MethodOptions options("swav", tiny_encoder(2, sem));
  options.get<SwAVOptions>().prototypes(16).queue_size(queue_size).queue_start_epoch(0).freeze_prototypes_epochs(0);
  return options;
}

torch::Tensor unit_rows(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

// No SEM, SEM (softmax), and the embedder without softmax.
constexpr const char* kSEMVariants[] = {"none", "sem", "sem_linear"};

// 8 SGD steps on one fixed batch of two views, with every hook called as training does.
void expect_loss_decreases(const MethodOptions& options, double lr = 0.05) {
  torch::manual_seed(0);
  auto method = make_method(options);
  method->train();
  torch::optim::SGD sgd(method->trainable_parameters(), torch::optim::SGDOptions(lr).momentum(0.9));
  const auto v1 = torch::randn({32, 3, 16, 16}), v2 = v1 + 0.1 * torch::randn_like(v1);
  const int64_t steps = 8;
  std::vector<double> losses;
  method->on_epoch_start(0, 1);
  for (int64_t step = 0; step < steps; ++step) {
    const auto out = method->training_step(v1, v2);
    losses.push_back(value(out.loss));
    ASSERT_TRUE(std::isfinite(losses.back())) << "step " << step;
    ASSERT_EQ(out.h1.size(0), 32);
    sgd.zero_grad();
    out.loss.backward();
    method->before_optimizer_step();
    sgd.step();
    method->after_optimizer_step(step, steps);
  }
  EXPECT_LT(losses.back(), losses.front());
}

}  // namespace

TEST(BarlowTest, HandComputed) {
  // Columns of z1: f1 = (1, -1, 1, -1), f2 = (1, 1, -1, -1); of z2: f1 and g2 = (1, 1, 1, -3). Each has mean
  // 0; biased variances 1, 1, 1, 3, so standardization gives f1, f2, f1, g2 / sqrt(3) (the affine maps below
  // drop out). c = s(z1)^T s(z2) / 4:
  //   c11 = f1.f1 / 4 = 1,  c12 = f1.g2 / (4 sqrt 3) = (1 - 1 + 1 + 3) / (4 sqrt 3) = 1 / sqrt 3,
  //   c21 = f2.f1 / 4 = 0,  c22 = f2.g2 / (4 sqrt 3) = (1 + 1 - 1 + 3) / (4 sqrt 3) = 1 / sqrt 3.
  // loss = scale * ((1 - 1)^2 + (1 - 1/sqrt 3)^2 + lambda * ((1/sqrt 3)^2 + 0^2)).
  const auto f = torch::tensor({{1.0, 1.0}, {-1.0, 1.0}, {1.0, -1.0}, {-1.0, -1.0}});
  const auto g = torch::tensor({{1.0, 1.0}, {-1.0, 1.0}, {1.0, 1.0}, {-1.0, -3.0}});
  const auto z1 = 2.0 * f + 3.0, z2 = 5.0 * g - 2.0;
  const double lambda = 0.0051, scale = 0.1;
  const double expected = scale * (std::pow(1.0 - 1.0 / std::sqrt(3.0), 2) + lambda / 3.0);
  EXPECT_NEAR(value(barlow_twins_loss(z1, z2, lambda, scale)), expected, 1e-5);
  // Swapping the views transposes c: the same diagonal and the same off-diagonal sum.
  EXPECT_NEAR(value(barlow_twins_loss(z2, z1, lambda, scale)), expected, 1e-5);
  // lambda and scale enter linearly.
  EXPECT_NEAR(value(barlow_twins_loss(z1, z2, 1.0, 1.0)), std::pow(1.0 - 1.0 / std::sqrt(3.0), 2) + 1.0 / 3.0, 1e-5);
}

TEST(BarlowTest, ZeroForIdenticalWhitenedViews) {
  // Orthogonal, equal-norm, zero-mean columns: c is the identity (up to BatchNorm's eps), whatever the
  // per-feature scale and shift.
  const auto z = orthogonal_columns() * 7.0 + 2.0;
  EXPECT_NEAR(value(barlow_twins_loss(z, z, 0.0051, 1.0)), 0.0, 1e-5);
  EXPECT_NEAR(value(barlow_twins_loss(z, z, 1.0, 1.0)), 0.0, 1e-5);
}

TEST(BarlowTest, GradientFlowsToBothViews) {
  torch::manual_seed(0);
  const auto z1 = torch::randn({8, 4}, torch::requires_grad());
  const auto z2 = torch::randn({8, 4}, torch::requires_grad());
  barlow_twins_loss(z1, z2, 0.0051, 0.1).backward();
  EXPECT_GT(value(z1.grad().abs().sum()), 0.0);
  EXPECT_GT(value(z2.grad().abs().sum()), 0.0);
}

TEST(VICRegTest, TermsHandComputed) {
  // View 1: columns a = (0, 1, 2), b = (0, 2, 1): means 1, unbiased variances 1 and 1, covariance
  //   ((-1)(-1) + 0 * 1 + 1 * 0) / 2 = 1/2. View 2 = view 1 / 2: variances 1/4, covariance 1/8.
  const auto z1 = torch::tensor({{0.0, 0.0}, {1.0, 2.0}, {2.0, 1.0}});
  const auto z2 = 0.5 * z1;
  // Invariance: mean of (z1 / 2)^2 = (0 + 0 + 1 + 4 + 4 + 1) / 4 / 6 = 5/12.
  const double invariance = 5.0 / 12.0;
  // Variance: view 1 has std sqrt(1 + 1e-4) > 1 (hinge 0); view 2 has std sqrt(0.25 + 1e-4) on both features.
  const double variance = 1.0 - std::sqrt(0.25 + 1e-4);
  // Covariance: view 1 2 * (1/2)^2 / 2 = 1/4; view 2 2 * (1/8)^2 / 2 = 1/64.
  const double covariance = 1.0 / 4.0 + 1.0 / 64.0;
  EXPECT_NEAR(value(vicreg_invariance_loss(z1, z2)), invariance, 1e-6);
  EXPECT_NEAR(value(vicreg_variance_loss(z1, z2)), variance, 1e-6);
  EXPECT_NEAR(value(vicreg_covariance_loss(z1, z2)), covariance, 1e-6);
  EXPECT_NEAR(value(vicreg_loss(z1, z2, 25.0, 25.0, 1.0)), 25.0 * invariance + 25.0 * variance + covariance, 1e-5);
  EXPECT_NEAR(value(vicreg_loss(z1, z2, 2.0, 3.0, 5.0)), 2.0 * invariance + 3.0 * variance + 5.0 * covariance, 1e-5);
}

TEST(VICRegTest, VarianceZeroAboveUnitStdAndInvarianceZeroForIdenticalViews) {
  torch::manual_seed(0);
  auto z = torch::randn({16, 8});
  z = (z - z.mean(0)) / z.std(0) * 2.0;  // every feature has std 2
  EXPECT_EQ(value(vicreg_variance_loss(z, z * 1.5)), 0.0);
  EXPECT_EQ(value(vicreg_invariance_loss(z, z)), 0.0);
  // Orthogonal zero-mean columns have no covariance.
  EXPECT_NEAR(value(vicreg_covariance_loss(orthogonal_columns(), orthogonal_columns())), 0.0, 1e-12);
}

TEST(SwAVTest, SinkhornIsDoublyStochasticAndNonNegative) {
  torch::manual_seed(0);
  const int64_t n = 12, k = 4;
  const auto scores = unit_rows(torch::randn({n, 8})).mm(unit_rows(torch::randn({k, 8})).t());
  const auto q = sinkhorn_knopp(scores, 50, 0.05);
  ASSERT_EQ(q.sizes(), scores.sizes());
  EXPECT_GE(value(q.min()), 0.0);
  EXPECT_TRUE(torch::allclose(q.sum(1), torch::ones({n}), 1e-5, 1e-5));                 // each sample's assignment
  EXPECT_TRUE(torch::allclose(q.sum(0), torch::full({k}, double(n) / k), 1e-3, 1e-3));  // equipartition
  EXPECT_FALSE(q.requires_grad());
  // With the default 3 iterations the last normalization still makes each sample's sum exact.
  EXPECT_TRUE(torch::allclose(sinkhorn_knopp(scores, 3, 0.05).sum(1), torch::ones({n}), 1e-5, 1e-5));
  // Equal scores: uniform 1/K. A common shift changes nothing, even where exp(shift / epsilon) overflows.
  EXPECT_TRUE(torch::allclose(sinkhorn_knopp(torch::zeros({3, 5}), 3, 0.05), torch::full({3, 5}, 0.2)));
  EXPECT_TRUE(torch::allclose(sinkhorn_knopp(scores + 10.0, 3, 0.05), sinkhorn_knopp(scores, 3, 0.05), 1e-5, 1e-6));
}

TEST(SwAVTest, LossHandComputed) {
  // p1 = ((0, 0), (ln 3, 0)), p2 = ((ln 3, 0), (0, 0)) at temperature 1: softmax rows (1/2, 1/2), (3/4, 1/4).
  // q1 = ((1, 0), (1/2, 1/2)), q2 = ((1/4, 3/4), (0, 1)).
  //   CE(q1, p2) = (-ln(3/4) - (ln(1/2) + ln(1/2)) / 2) / 2 = (ln(4/3) + ln 2) / 2
  //   CE(q2, p1) = (-(ln(1/2) / 4 + 3 ln(1/2) / 4) - ln(1/4)) / 2 = (ln 2 + ln 4) / 2
  //   loss = (CE(q1, p2) + CE(q2, p1)) / 2.
  const double ln3 = std::log(3.0);
  const auto p1 = torch::tensor({{0.0, 0.0}, {ln3, 0.0}}), p2 = torch::tensor({{ln3, 0.0}, {0.0, 0.0}});
  const auto q1 = torch::tensor({{1.0, 0.0}, {0.5, 0.5}}), q2 = torch::tensor({{0.25, 0.75}, {0.0, 1.0}});
  const double expected = 0.5 * ((std::log(4.0 / 3.0) + std::log(2.0)) / 2.0 + (std::log(2.0) + std::log(4.0)) / 2.0);
  EXPECT_NEAR(value(swav_loss(p1, p2, q1, q2, 1.0)), expected, 1e-6);
  // The scores are divided by the temperature.
  EXPECT_NEAR(value(swav_loss(p1 * 0.1, p2 * 0.1, q1, q2, 0.1)), expected, 1e-6);
}

TEST(SwAVTest, PrototypesHaveUnitNormRowsAfterAStep) {
  torch::manual_seed(0);
  auto swav = std::make_shared<SwAVImpl>(tiny_swav("none", 0));
  EXPECT_TRUE(torch::allclose(swav->prototypes->weight.norm(2, 1), torch::ones({16}), 1e-5, 1e-5));
  {
    torch::NoGradGuard no_grad;
    swav->prototypes->weight.mul_(torch::rand({16, 1}) * 5.0 + 0.5);
  }
  const auto x = torch::randn({8, 3, 16, 16});
  swav->training_step(x, x + 0.1 * torch::randn_like(x)).loss.backward();
  EXPECT_TRUE(torch::allclose(swav->prototypes->weight.norm(2, 1), torch::ones({16}), 1e-5, 1e-5));
  EXPECT_FALSE(swav->queue.defined());
}

TEST(SwAVTest, PrototypeGradientsResetDuringFreezeEpochsOnly) {
  torch::manual_seed(0);
  auto options = tiny_swav("none", 0);
  options.get<SwAVOptions>().freeze_prototypes_epochs(2);
  auto swav = std::make_shared<SwAVImpl>(options);
  const auto x = torch::randn({8, 3, 16, 16});
  const auto x2 = x + 0.1 * torch::randn_like(x);
  const auto projector_weight = swav->online->projector->parameters().front();
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    swav->on_epoch_start(epoch, 4);
    for (auto& p : swav->parameters()) p.mutable_grad().reset();
    swav->training_step(x, x2).loss.backward();
    ASSERT_TRUE(swav->prototypes->weight.grad().defined());
    swav->before_optimizer_step();
    EXPECT_EQ(swav->prototypes->weight.grad().defined(), epoch >= 2) << "epoch " << epoch;
    EXPECT_TRUE(projector_weight.grad().defined()) << "epoch " << epoch;
  }
}

TEST(SwAVTest, QueueHoldsTheNewestNormalizedProjections) {
  torch::manual_seed(0);
  const int64_t batch = 4, queue_size = 10;
  auto options = tiny_swav("sem", queue_size);
  options.get<SwAVOptions>().queue_start_epoch(1);
  auto swav = std::make_shared<SwAVImpl>(options);
  ASSERT_EQ(swav->queue.sizes(), (std::vector<int64_t>{2, queue_size, 32}));
  EXPECT_EQ(value(swav->queue.abs().sum()), 0.0);
  const auto x1 = torch::randn({batch, 3, 16, 16});
  const auto x2 = x1 + 0.1 * torch::randn_like(x1);
  {
    torch::NoGradGuard no_grad;
    swav->queue.copy_(unit_rows(torch::randn({2 * queue_size, 32})).view({2, queue_size, 32}));
  }
  const auto before = swav->queue.clone();

  // Training-mode BatchNorm normalizes by the batch, so the same batch gives the same projections again;
  // view 1 goes through SEM at tau_online, view 2 at tau_target.
  torch::Tensor z1, z2, p1, p2;
  {
    torch::NoGradGuard no_grad;
    z1 = unit_rows(swav->online->forward(x1, swav->tau_online()).z);
    z2 = unit_rows(swav->online->forward(x2, swav->tau_target()).z);
    p1 = swav->prototypes->forward(z1);
    p2 = swav->prototypes->forward(z2);
  }
  const auto& o = options.get<SwAVOptions>();
  const auto q = [&](const torch::Tensor& p, const torch::Tensor& queued) {
    const auto all = queued.defined() ? torch::cat({p, swav->prototypes->forward(queued)}) : p;
    return sinkhorn_knopp(all, o.sinkhorn_iterations(), o.epsilon()).narrow(0, 0, batch);
  };

  // Epoch 0 < queue_start_epoch: the queue is not read, but it is filled.
  swav->on_epoch_start(0, 3);
  auto loss = swav->training_step(x1, x2).loss;
  EXPECT_NEAR(value(loss), value(swav_loss(p1, p2, q(p1, {}), q(p2, {}), o.temperature())), 1e-5);
  EXPECT_TRUE(torch::allclose(swav->queue.narrow(1, 0, batch), torch::stack({z1, z2}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(swav->queue.narrow(1, batch, queue_size - batch), before.narrow(1, 0, queue_size - batch)));
  EXPECT_FALSE(swav->queue.requires_grad());

  // From queue_start_epoch on, the queued projections join the batch in Sinkhorn-Knopp.
  const auto queued = swav->queue.clone();
  swav->on_epoch_start(1, 3);
  loss = swav->training_step(x1, x2).loss;
  EXPECT_NEAR(value(loss), value(swav_loss(p1, p2, q(p1, queued[0]), q(p2, queued[1]), o.temperature())), 1e-5);
  EXPECT_GT(std::abs(value(loss) - value(swav_loss(p1, p2, q(p1, {}), q(p2, {}), o.temperature()))), 1e-6);
  EXPECT_TRUE(torch::allclose(swav->queue.narrow(1, 0, batch), torch::stack({z1, z2}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(swav->queue.narrow(1, batch, queue_size - batch), queued.narrow(1, 0, queue_size - batch)));
}

TEST(BarlowTest, LossFiniteAndDecreasesOnAFixedBatch) {
  for (const char* sem : kSEMVariants) {
    SCOPED_TRACE(sem);
    expect_loss_decreases(MethodOptions("barlow", tiny_encoder(3, sem)));
  }
}

TEST(VICRegTest, LossFiniteAndDecreasesOnAFixedBatch) {
  for (const char* sem : kSEMVariants) {
    SCOPED_TRACE(sem);
    // The invariance and variance weights of 25 make the loss ~30: a smaller step than the other methods'.
    expect_loss_decreases(MethodOptions("vicreg", tiny_encoder(3, sem)), 0.01);
  }
}

TEST(SwAVTest, LossFiniteAndDecreasesOnAFixedBatch) {
  for (const int64_t queue_size : {0, 64}) {
    for (const char* sem : kSEMVariants) {
      SCOPED_TRACE(std::string(sem) + ", queue " + std::to_string(queue_size));
      expect_loss_decreases(tiny_swav(sem, queue_size));
    }
  }
}
