// MoCo v2+ and DINO: losses against hand-computed values, the queue, the EMA target/teacher, DINO's center,
// teacher-temperature schedule and frozen last layer, and a short training run per SEM variant.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/methods/dino/dino.h"
#include "baselines/methods/mocov2plus/mocov2plus.h"

using namespace semharness;

namespace {

enum class SEMVariant { None, Softmax, Linear };

EncoderOptions tiny_encoder(int64_t in_channels, MLPHeadOptions projector, SEMVariant variant) {
  EncoderOptions encoder(BackboneOptions("convnet", in_channels).width(0.25), projector);
  if (variant != SEMVariant::None) {
    encoder.sem(SEMOptions(0, 8, 4).tau_online(0.5).tau_target(1.0).activation(
        variant == SEMVariant::Linear ? SEMActivation::None : SEMActivation::Softmax));
  }
  return encoder;
}

MLPHeadOptions moco_projector(int64_t hidden, int64_t out) { return MLPHeadOptions(0, hidden, out).batch_norm(false); }
MLPHeadOptions dino_projector(int64_t hidden, int64_t out) {
  return MLPHeadOptions(0, hidden, out).layers(3).gelu(true);
}

MethodOptions moco_options(SEMVariant variant) {
  MethodOptions options("mocov2plus", tiny_encoder(3, moco_projector(64, 32), variant));
  options.get<MoCoV2PlusOptions>().queue_size(128);
  return options;
}

MethodOptions dino_options(SEMVariant variant) {
  MethodOptions options("dino", tiny_encoder(3, dino_projector(64, 32), variant));
  options.get<DINOOptions>().prototypes(64);
  return options;
}

// 8 SGD steps on one fixed batch of 32 images (two close views), with every hook called as training does.
// warmup_steps forward passes without an optimizer step come first: they fill MoCo's queue with keys of this
// batch, which otherwise replace the random initial negatives during the run and raise the loss.
std::vector<double> train_losses(const MethodOptions& options, int64_t warmup_steps = 0) {
  torch::manual_seed(0);
  auto method = make_method(options);
  method->train();
  torch::optim::SGD sgd(method->trainable_parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const auto v1 = torch::randn({32, 3, 16, 16}), v2 = v1 + 0.1 * torch::randn_like(v1);
  const int64_t steps = 8;
  method->on_epoch_start(0, 1);
  for (int64_t i = 0; i < warmup_steps; ++i) {
    torch::NoGradGuard no_grad;
    method->training_step(v1, v2);
    method->after_optimizer_step(0, steps);
  }
  std::vector<double> losses;
  for (int64_t step = 0; step < steps; ++step) {
    const auto out = method->training_step(v1, v2);
    losses.push_back(out.loss.item<double>());
    EXPECT_EQ(out.h1.size(0), 32);
    sgd.zero_grad();
    out.loss.backward();
    method->before_optimizer_step();
    sgd.step();
    method->after_optimizer_step(step, steps);
  }
  return losses;
}

void expect_finite_and_decreasing(const std::vector<double>& losses) {
  std::string all;
  for (double loss : losses) {
    EXPECT_TRUE(std::isfinite(loss));
    all += std::to_string(loss) + " ";
  }
  EXPECT_LT(losses.back(), losses.front()) << "losses: " << all;
}

torch::Tensor unit_rows(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

// The target starts as a copy of the online module, is not trained, and one EMA step at m = 0.5 goes half way.
template <typename Method>
void expect_ema_target(Method& method, torch::nn::Module& target, const torch::Tensor& online_weight,
                       const torch::Tensor& target_weight) {
  for (const auto& p : target.parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_TRUE(torch::equal(online_weight, target_weight));
  const auto before = target_weight.clone();
  {
    torch::NoGradGuard no_grad;
    online_weight.add_(1.0);
  }
  method.after_optimizer_step(0, 10);
  EXPECT_TRUE(torch::allclose(target_weight, before + 0.5));
}

}  // namespace

TEST(MoCoTest, InfoNceHandComputed) {
  // q = (1, 0), k = (0.6, 0.8), queue columns (0, 1) and (-1, 0), T = 0.5:
  // logits = (0.6, 0, -1) / 0.5 = (1.2, 0, -2); loss = -1.2 + log(e^1.2 + e^0 + e^-2).
  const auto queue = torch::tensor({{0.0, -1.0}, {1.0, 0.0}});
  const double expected = -1.2 + std::log(std::exp(1.2) + 1.0 + std::exp(-2.0));
  EXPECT_NEAR(moco_infonce_loss(torch::tensor({{1.0, 0.0}}), torch::tensor({{0.6, 0.8}}), queue, 0.5).item<double>(),
              expected, 1e-6);
  // q and k are normalised inside; the batch mean of two copies is the same value.
  EXPECT_NEAR(
      moco_infonce_loss(torch::tensor({{3.0, 0.0}, {0.5, 0.0}}), torch::tensor({{3.0, 4.0}, {0.6, 0.8}}), queue, 0.5)
          .item<double>(),
      expected, 1e-6);
}

TEST(MoCoTest, StepEnqueuesNormalizedTargetKeys) {
  torch::manual_seed(0);
  MethodOptions options("mocov2plus", tiny_encoder(3, moco_projector(16, 8), SEMVariant::Softmax));
  options.get<MoCoV2PlusOptions>().queue_size(10);
  MoCoV2PlusImpl moco(options);
  const auto buffers = moco.named_buffers();
  EXPECT_TRUE(buffers.contains("queue"));
  EXPECT_TRUE(buffers.contains("queue_ptr"));
  ASSERT_EQ(moco.queue.sizes(), (std::vector<int64_t>{2, 8, 10}));
  EXPECT_TRUE(torch::allclose(moco.queue.norm(2, 1), torch::ones({2, 10})));

  const auto v1 = torch::randn({4, 3, 16, 16}), v2 = torch::randn({4, 3, 16, 16});
  const auto before = moco.queue.clone();
  moco.training_step(v1, v2);
  torch::Tensor k1, k2;
  {
    torch::NoGradGuard no_grad;
    k1 = unit_rows(moco.target->forward(v1, moco.tau_target()).z);
    k2 = unit_rows(moco.target->forward(v2, moco.tau_target()).z);
  }
  moco.after_optimizer_step(0, 10);
  EXPECT_TRUE(torch::allclose(moco.queue[0].slice(1, 0, 4), k1.t(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(moco.queue[1].slice(1, 0, 4), k2.t(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(moco.queue.slice(2, 4, 10), before.slice(2, 4, 10)));
  EXPECT_EQ(moco.queue_ptr.item<int64_t>(), 4);
}

TEST(MoCoTest, EnqueueWrapsAndKeepsTheLastKeys) {
  torch::manual_seed(0);
  MethodOptions options("mocov2plus", tiny_encoder(3, moco_projector(8, 2), SEMVariant::None));
  options.get<MoCoV2PlusOptions>().queue_size(3);
  MoCoV2PlusImpl moco(options);
  // keys[view][i] = (view, i): easy to recognise in the queue's columns.
  const auto keys = [](int64_t batch, int64_t first) {
    const auto index = torch::arange(first, first + batch, torch::kFloat);
    return torch::stack(
        {torch::stack({torch::zeros({batch}), index}, 1), torch::stack({torch::ones({batch}), index}, 1)});
  };
  const auto column_ids = [&](int64_t view) { return moco.queue[view][1]; };
  moco.enqueue(keys(2, 0));  // columns 0, 1 <- keys 0, 1
  EXPECT_EQ(moco.queue_ptr.item<int64_t>(), 2);
  moco.enqueue(keys(2, 2));  // column 2 <- key 2, wraps: column 0 <- key 3
  EXPECT_EQ(moco.queue_ptr.item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(column_ids(0), torch::tensor({3.0f, 1.0f, 2.0f})));
  EXPECT_TRUE(torch::equal(moco.queue[1][0], torch::ones({3})));
  // A batch of 5 > 3 written from column 1: keys 10..14 land on columns 1, 2, 0, 1, 2; 12, 13, 14 remain.
  moco.enqueue(keys(5, 10));
  EXPECT_EQ(moco.queue_ptr.item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(column_ids(0), torch::tensor({12.0f, 13.0f, 14.0f})));
  EXPECT_TRUE(torch::equal(column_ids(1), torch::tensor({12.0f, 13.0f, 14.0f})));
}

TEST(MoCoTest, TargetStartsEqualAndFollowsByEma) {
  torch::manual_seed(0);
  MethodOptions options("mocov2plus", tiny_encoder(3, moco_projector(16, 8), SEMVariant::Softmax));
  options.get<MoCoV2PlusOptions>().queue_size(16).ema_base(0.5).ema_final(0.5);
  MoCoV2PlusImpl moco(options);
  EXPECT_EQ(moco.trainable_parameters().size(), moco.online->parameters().size());
  expect_ema_target(moco, *moco.target, moco.online->sem->linear->weight, moco.target->sem->linear->weight);
}

TEST(MoCoTest, LossDecreasesWithoutSEM) {
  expect_finite_and_decreasing(train_losses(moco_options(SEMVariant::None), 4));
}
TEST(MoCoTest, LossDecreasesWithSEM) {
  expect_finite_and_decreasing(train_losses(moco_options(SEMVariant::Softmax), 4));
}
TEST(MoCoTest, LossDecreasesWithLinearSEM) {
  expect_finite_and_decreasing(train_losses(moco_options(SEMVariant::Linear), 4));
}

TEST(DINOTest, LossHandComputed) {
  // Two prototypes, one image. After centring and temperatures: student views (0, 0) and (ln 3, 0), teacher
  // views (ln 3, 0) and (0, 0), i.e. probabilities s1 = (1/2, 1/2), s2 = (3/4, 1/4), t1 = (3/4, 1/4),
  // t2 = (1/2, 1/2). Pairs: H(t1, s2) = -(3/4 ln 3/4 + 1/4 ln 1/4) and H(t2, s1) = ln 2; loss = their mean.
  const double ln3 = std::log(3.0);
  const double expected = (-(0.75 * std::log(0.75) + 0.25 * std::log(0.25)) + std::log(2.0)) / 2.0;
  const auto student = torch::tensor({{0.0, 0.0}, {ln3, 0.0}});
  const auto teacher = torch::tensor({{ln3, 0.0}, {0.0, 0.0}});
  EXPECT_NEAR(dino_loss(student, teacher, torch::zeros({1, 2}), 1.0, 1.0).item<double>(), expected, 1e-6);
  // The same after scaling by the temperatures and shifting the teacher by the center.
  const auto center = torch::tensor({{0.5, -0.5}});
  EXPECT_NEAR(dino_loss(student * 0.1, teacher * 0.04 + center, center, 0.1, 0.04).item<double>(), expected, 1e-5);
}

TEST(DINOTest, LastLayerUsesUnitPrototypes) {
  torch::manual_seed(0);
  DINOLastLayer layer(4, 3);
  const auto z = torch::randn({5, 4});
  const auto expected = torch::mm(unit_rows(z), unit_rows(layer->weight).t());
  EXPECT_TRUE(torch::allclose(layer->forward(z * 7.0), expected, 1e-5, 1e-6));
  {
    torch::NoGradGuard no_grad;
    layer->weight.mul_(3.0);
  }
  EXPECT_TRUE(torch::allclose(layer->forward(z), expected, 1e-5, 1e-6));
  EXPECT_EQ(layer->parameters().size(), 1u);
}

TEST(DINOTest, CenterMovesTowardTeacherMean) {
  torch::manual_seed(0);
  MethodOptions options("dino", tiny_encoder(3, dino_projector(16, 8), SEMVariant::Softmax));
  options.get<DINOOptions>().prototypes(6).center_momentum(0.9);
  DINOImpl dino(options);
  EXPECT_TRUE(dino.named_buffers().contains("center"));
  {
    torch::NoGradGuard no_grad;
    dino.center.fill_(1.0);
  }
  const auto v1 = torch::randn({4, 3, 16, 16}), v2 = torch::randn({4, 3, 16, 16});
  dino.training_step(v1, v2);
  torch::Tensor teacher_mean;
  {
    torch::NoGradGuard no_grad;
    const auto t1 = dino.teacher_last_layer->forward(dino.teacher->forward(v1, dino.tau_target()).z);
    const auto t2 = dino.teacher_last_layer->forward(dino.teacher->forward(v2, dino.tau_target()).z);
    teacher_mean = torch::cat({t1, t2}).mean(0, true);
  }
  dino.after_optimizer_step(0, 10);
  EXPECT_TRUE(torch::allclose(dino.center, 0.9 * torch::ones({1, 6}) + 0.1 * teacher_mean, 1e-5, 1e-6));
}

// The epoch's entropies against the same distributions recomputed here in float64 from the teacher's and
// student's logits; the mean over steps; cleared at the next epoch.
TEST(DINOTest, EntropyDiagnosticsAreTheEpochsMeanEntropies) {
  torch::manual_seed(0);
  MethodOptions options("dino", tiny_encoder(3, dino_projector(16, 8), SEMVariant::None));
  options.get<DINOOptions>().prototypes(6).student_temperature(0.1).warmup_teacher_temperature_epochs(0);
  DINOImpl dino(options);
  EXPECT_TRUE(dino.epoch_diagnostics().empty());
  {
    torch::NoGradGuard no_grad;
    dino.center.copy_(torch::randn({1, 6}) * 0.1);
  }
  const auto entropy = [](const torch::Tensor& p) { return -(p * p.log()).sum(-1); };
  std::vector<double> expected(3, 0.0);
  dino.on_epoch_start(0, 1);
  for (int step = 0; step < 2; ++step) {
    const auto v1 = torch::randn({4, 3, 16, 16}), v2 = torch::randn({4, 3, 16, 16});
    torch::Tensor teacher, student;
    {
      torch::NoGradGuard no_grad;
      const auto logits = [](DINOLastLayer& last, Encoder& encoder, const torch::Tensor& a, const torch::Tensor& b) {
        return torch::cat({last->forward(encoder->forward(a, 1.0).z), last->forward(encoder->forward(b, 1.0).z)})
            .to(torch::kDouble);
      };
      teacher = torch::softmax((logits(dino.teacher_last_layer, dino.teacher, v1, v2) - dino.center) / 0.07, -1);
      student = torch::softmax(logits(dino.last_layer, dino.online, v1, v2) / 0.1, -1);
    }
    dino.training_step(v1, v2);
    expected[0] += entropy(teacher).mean().item<double>() / 2;
    expected[1] += entropy(student).mean().item<double>() / 2;
    expected[2] += entropy(teacher.mean(0)).item<double>() / 2;
  }
  const auto diagnostics = dino.epoch_diagnostics();
  ASSERT_EQ(diagnostics.size(), 3u);
  EXPECT_EQ(diagnostics[0].first, "dino_teacher_entropy");
  EXPECT_EQ(diagnostics[1].first, "dino_student_entropy");
  EXPECT_EQ(diagnostics[2].first, "dino_teacher_marginal_entropy");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(diagnostics[i].second, expected[i], 1e-5) << diagnostics[i].first;
    EXPECT_GT(diagnostics[i].second, 0.0);
    EXPECT_LE(diagnostics[i].second, std::log(6.0) + 1e-9);
  }
  dino.on_epoch_start(1, 2);
  EXPECT_TRUE(dino.epoch_diagnostics().empty());
}

TEST(DINOTest, TeacherTemperatureWarmsUpLinearly) {
  auto options =
      DINOOptions().warmup_teacher_temperature(0.04).teacher_temperature(0.07).warmup_teacher_temperature_epochs(50);
  EXPECT_NEAR(dino_teacher_temperature(options, 0), 0.04, 1e-12);
  // solo-learn's linspace(0.04, 0.07, 50): epoch e has 0.04 + 0.03 * e / 49.
  EXPECT_NEAR(dino_teacher_temperature(options, 25), 0.04 + 0.03 * 25.0 / 49.0, 1e-12);
  EXPECT_NEAR(dino_teacher_temperature(options, 49), 0.07, 1e-12);
  EXPECT_NEAR(dino_teacher_temperature(options, 50), 0.07, 1e-12);
  EXPECT_NEAR(dino_teacher_temperature(options, 500), 0.07, 1e-12);
  EXPECT_NEAR(dino_teacher_temperature(DINOOptions().warmup_teacher_temperature_epochs(0), 0), 0.07, 1e-12);

  torch::manual_seed(0);
  MethodOptions method_options("dino", tiny_encoder(3, dino_projector(16, 8), SEMVariant::None));
  method_options.method(options.prototypes(6));
  DINOImpl dino(method_options);
  EXPECT_NEAR(dino.teacher_temperature(), 0.04, 1e-12);
  dino.on_epoch_start(25, 100);
  EXPECT_NEAR(dino.teacher_temperature(), 0.04 + 0.03 * 25.0 / 49.0, 1e-12);
  dino.on_epoch_start(80, 100);
  EXPECT_NEAR(dino.teacher_temperature(), 0.07, 1e-12);
}

TEST(DINOTest, LastLayerFrozenDuringFreezeEpochs) {
  torch::manual_seed(0);
  MethodOptions options("dino", tiny_encoder(3, dino_projector(16, 8), SEMVariant::Softmax));
  options.get<DINOOptions>().prototypes(6).freeze_last_layer_epochs(1);
  DINOImpl dino(options);
  torch::optim::SGD sgd(dino.trainable_parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-2));
  const auto v1 = torch::randn({4, 3, 16, 16}), v2 = torch::randn({4, 3, 16, 16});
  const auto& weight = dino.last_layer->weight;
  const auto step = [&](int64_t epoch) {
    dino.on_epoch_start(epoch, 2);
    sgd.zero_grad();
    dino.training_step(v1, v2).loss.backward();
    dino.before_optimizer_step();
    const auto before = weight.clone();
    sgd.step();
    dino.after_optimizer_step(epoch, 2);
    return before;
  };
  auto before = step(0);
  EXPECT_TRUE(!weight.grad().defined() || weight.grad().abs().sum().item<double>() == 0.0);
  EXPECT_TRUE(torch::equal(weight, before));
  before = step(1);
  ASSERT_TRUE(weight.grad().defined());
  EXPECT_GT(weight.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(torch::equal(weight, before));
}

TEST(DINOTest, TeacherStartsEqualAndFollowsByEma) {
  torch::manual_seed(0);
  MethodOptions options("dino", tiny_encoder(3, dino_projector(16, 8), SEMVariant::Softmax));
  options.get<DINOOptions>().prototypes(6).ema_base(0.5).ema_final(0.5);
  DINOImpl dino(options);
  EXPECT_EQ(dino.trainable_parameters().size(), dino.online->parameters().size() + 1);
  for (const auto& p : dino.teacher_last_layer->parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_TRUE(torch::equal(dino.last_layer->weight, dino.teacher_last_layer->weight));
  expect_ema_target(dino, *dino.teacher, dino.online->sem->linear->weight, dino.teacher->sem->linear->weight);
}

TEST(DINOTest, PrototypeLayersReadTheProjectorsOutput) {
  MethodOptions options("dino", tiny_encoder(3, dino_projector(16, 8), SEMVariant::None));
  options.get<DINOOptions>().prototypes(6);
  DINOImpl dino(options);
  EXPECT_EQ(dino.last_layer->weight.sizes(), (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(dino.teacher_last_layer->weight.sizes(), (std::vector<int64_t>{6, 8}));
}

TEST(DINOTest, LossDecreasesWithoutSEM) { expect_finite_and_decreasing(train_losses(dino_options(SEMVariant::None))); }
TEST(DINOTest, LossDecreasesWithSEM) { expect_finite_and_decreasing(train_losses(dino_options(SEMVariant::Softmax))); }
TEST(DINOTest, LossDecreasesWithLinearSEM) {
  expect_finite_and_decreasing(train_losses(dino_options(SEMVariant::Linear)));
}
