// Losses against hand-computed values, the EMA update, schedules, and one short training run per method.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/byol.h"
#include "baselines/ema.h"
#include "baselines/schedules.h"
#include "baselines/simclr.h"

using namespace semharness;

TEST(LossTest, NtXentHandComputed) {
  // z = (e1, e2, e1, e2): each row has one positive of cosine 1 and two negatives of cosine 0.
  const auto z = torch::tensor({{1.0, 0.0}, {0.0, 1.0}});
  EXPECT_NEAR(nt_xent_loss(z, z, 1.0).item<double>(), std::log(1.0 + 2.0 / std::exp(1.0)), 1e-6);
  EXPECT_NEAR(nt_xent_loss(z * 3, z, 0.5).item<double>(), std::log(1.0 + 2.0 * std::exp(-2.0)), 1e-6);
  // One pair: no negatives, the loss is 0 whatever the vectors.
  EXPECT_NEAR(nt_xent_loss(torch::tensor({{1.0, 0.0}}), torch::tensor({{1.0, 1.0}}), 0.2).item<double>(), 0.0, 1e-6);
}

TEST(LossTest, NtXentSymmetricInViews) {
  torch::manual_seed(0);
  const auto a = torch::randn({6, 4}), b = torch::randn({6, 4});
  EXPECT_NEAR(nt_xent_loss(a, b, 0.2).item<double>(), nt_xent_loss(b, a, 0.2).item<double>(), 1e-5);
}

TEST(LossTest, ByolHandComputed) {
  const auto p = torch::tensor({{1.0, 0.0}, {2.0, 0.0}});
  const auto z = torch::tensor({{1.0, 1.0}, {-3.0, 0.0}});
  // cos = 1/sqrt(2) and -1: (2 - sqrt(2) + 4) / 2.
  EXPECT_NEAR(byol_loss(p, z).item<double>(), (2.0 - std::sqrt(2.0) + 4.0) / 2.0, 1e-6);
}

TEST(EmaTest, UpdatesParametersAndCopiesBuffers) {
  torch::nn::BatchNorm1d online(2), target(2);
  {
    torch::NoGradGuard no_grad;
    online->weight.fill_(3.0);
    target->weight.fill_(1.0);
    online->running_mean.fill_(5.0);
  }
  ema_update(*target, *online, 0.9);
  EXPECT_NEAR(target->weight[0].item<double>(), 0.9 * 1.0 + 0.1 * 3.0, 1e-6);
  EXPECT_NEAR(target->running_mean[1].item<double>(), 5.0, 1e-12);
  copy_weights(*target, *online);
  EXPECT_NEAR(target->weight[1].item<double>(), 3.0, 1e-12);
}

TEST(ScheduleTest, EndPoints) {
  EXPECT_NEAR(cosine_momentum(0.99, 1.0, 0, 100), 0.99, 1e-12);
  EXPECT_NEAR(cosine_momentum(0.99, 1.0, 50, 100), 0.995, 1e-12);
  EXPECT_NEAR(cosine_momentum(0.99, 1.0, 100, 100), 1.0, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(1.0, 0, 10, 110), 0.1, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(1.0, 9, 10, 110), 1.0, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(1.0, 10, 10, 110), 1.0, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(1.0, 60, 10, 110), 0.5, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(1.0, 110, 10, 110), 0.0, 1e-12);
  EXPECT_NEAR(warmup_cosine_lr(0.3, 0, 0, 10), 0.3, 1e-12);
}

class MethodStepTest : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(MethodStepTest, LossFiniteAndDecreasesOnAFixedBatch) {
  const auto& [name, with_sem] = GetParam();
  torch::manual_seed(0);
  EncoderOptions encoder(BackboneOptions("convnet", 3).width(0.25), 64, 32);
  if (with_sem) encoder.sem(SEMOptions(0, 8, 4).tau_online(0.5).tau_target(1.0));
  auto method = make_method(MethodOptions(name, encoder).byol_pred_hidden(64));
  torch::optim::SGD sgd(method->trainable_parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const auto v1 = torch::randn({32, 3, 16, 16}), v2 = v1 + 0.1 * torch::randn_like(v1);
  std::vector<double> losses;
  for (int step = 0; step < 8; ++step) {
    const auto loss = method->training_loss(v1, v2);
    losses.push_back(loss.item<double>());
    ASSERT_TRUE(std::isfinite(losses.back()));
    sgd.zero_grad();
    loss.backward();
    sgd.step();
    method->after_optimizer_step(step, 8);
  }
  EXPECT_LT(losses.back(), losses.front());
}

INSTANTIATE_TEST_SUITE_P(Methods, MethodStepTest,
                         ::testing::Combine(::testing::Values("simclr", "byol"), ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + (std::get<1>(info.param) ? "_sem" : "_baseline");
                         });

TEST(ByolTest, TargetIsFrozenAndFollowsOnline) {
  torch::manual_seed(0);
  EncoderOptions encoder(BackboneOptions("convnet", 1).width(0.25), 16, 8);
  encoder.sem(SEMOptions(0, 4, 3));
  BYOLImpl byol(MethodOptions("byol", encoder).byol_pred_hidden(16).ema_base(0.5).ema_final(0.5));
  for (const auto& p : byol.target->parameters()) EXPECT_FALSE(p.requires_grad());
  const auto trainable = byol.trainable_parameters();
  EXPECT_EQ(trainable.size(), byol.online->parameters().size() + byol.predictor->parameters().size());
  // Target starts equal to online; after the online weights move, one EMA step at m = 0.5 goes half way.
  const auto online_w = byol.online->sem->linear->weight;
  const auto target_w = byol.target->sem->linear->weight;
  EXPECT_TRUE(torch::equal(online_w, target_w));
  const auto before = target_w.clone();
  {
    torch::NoGradGuard no_grad;
    online_w.add_(1.0);
  }
  byol.after_optimizer_step(0, 10);
  EXPECT_TRUE(torch::allclose(target_w, before + 0.5));
}
