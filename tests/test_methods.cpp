// Losses against hand-computed values, the EMA update, schedules, and one short training run per method.
#include <cmath>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/ema.h"
#include "baselines/methods/byol/byol.h"
#include "baselines/methods/simclr/simclr.h"
#include "baselines/optimizers.h"
#include "baselines/schedules.h"
#include "harness/train/method_factory.h"
#include "harness/config/run_spec.h"

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

TEST(LarsTest, TrustRatioHandComputed) {
  // Tolerances 1e-9: the denominator carries an epsilon of 1e-8.
  // ||w|| = 5 (3, 4), ||g|| = 1 (0.6, 0.8), wd 0.5, eta 0.02: 0.02 * 5 / (1 + 0.5 * 5) = 0.1 / 3.5.
  const auto w = torch::tensor({3.0, 4.0}, torch::kDouble), g = torch::tensor({0.6, 0.8}, torch::kDouble);
  EXPECT_NEAR(lars_factor(w, g, 0.5, 0.02, /*clip=*/false, 1.0).item<double>(), 0.1 / 3.5, 1e-9);
  // Clipped: min(factor / lr, 1): lr 0.01 -> 2.857 clipped to 1; lr 1 -> unchanged.
  EXPECT_NEAR(lars_factor(w, g, 0.5, 0.02, true, 0.01).item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(lars_factor(w, g, 0.5, 0.02, true, 1.0).item<double>(), 0.1 / 3.5, 1e-9);
  // A zero weight or gradient leaves the rate alone.
  EXPECT_NEAR(lars_factor(torch::zeros({2}, torch::kDouble), g, 0.5, 0.02, false, 1.0).item<double>(), 1.0, 1e-9);
}

TEST(LarsTest, StepExcludesBiasesAndNormsFromDecayAndAdaptation) {
  auto weight = torch::tensor({{3.0, 4.0}}, torch::kDouble).requires_grad_(true);  // 2-d: adapted
  auto bias = torch::tensor({1.0}, torch::kDouble).requires_grad_(true);           // 1-d: plain momentum SGD
  weight.mutable_grad() = torch::tensor({{0.6, 0.8}}, torch::kDouble);
  bias.mutable_grad() = torch::tensor({2.0}, torch::kDouble);
  PretrainOptimizer lars({weight, bias}, OptimizerOptions().name("lars").lr(1.0).weight_decay(0.5).lars_clip(false));
  lars.step();
  // weight: (g + wd w) * factor = ((0.6, 0.8) + (1.5, 2)) * 0.1 / 3.5; bias: 1 - 1 * 2, no decay.
  const double factor = 0.1 / 3.5;
  EXPECT_NEAR(weight[0][0].item<double>(), 3.0 - 2.1 * factor, 1e-9);
  EXPECT_NEAR(weight[0][1].item<double>(), 4.0 - 2.8 * factor, 1e-9);
  EXPECT_NEAR(bias[0].item<double>(), -1.0, 1e-9);
  // Second step: momentum 0.9 keeps 0.9 of the first update direction.
  bias.mutable_grad() = torch::tensor({0.0}, torch::kDouble);
  lars.step();
  EXPECT_NEAR(bias[0].item<double>(), -1.0 - 0.9 * 2.0, 1e-9);
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

// Every method x embedder, built from a run configuration the way the harness builds it (so the per-method
// projector shapes are covered too), on a fixed batch: the loss is finite and goes down.
class MethodStepTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(MethodStepTest, LossFiniteAndDecreasesOnAFixedBatch) {
  const auto& [name, sem] = GetParam();
  RunConfig config = RunConfig::defaults();
  const std::map<std::string, std::string> small = {
      {"method", name},
      {"sem", sem},
      {"backbone.width", "0.25"},
      {"proj.hidden", "64"},
      {"proj.out", "32"},
      {"sem.L", "8"},
      {"sem.V", "4"},
      {"sem.tau_online", "0.5"},
      {"byol.pred_hidden", "64"},
      {"moco.queue_size", "32"},
      {"swav.prototypes", "16"},
      {"swav.queue_size", "0"},
      {"swav.freeze_prototypes_epochs", "0"},
      {"dino.prototypes", "64"},
      {"dino.freeze_last_layer_epochs", "0"},
      // A fixed centre makes DINO's teacher (EMA momentum ~1) a fixed target the student must approach; a
      // moving centre reshapes the target while the student learns, so its loss need not fall in 12 steps.
      {"dino.center_momentum", "1"}};
  for (const auto& [key, value] : small) config.values[key] = value;
  torch::manual_seed(0);
  auto method = make_method(method_options(RunSpec::parse(config), 3));
  PretrainOptimizer optimizer(method->trainable_parameters(), OptimizerOptions().name("sgd").lr(0.02));
  // Two batches in turn: with MoCo's queue of one batch, each batch meets the other's keys as negatives
  // (a single repeated batch would fill the queue with copies of its own positives).
  const auto a = torch::randn({32, 3, 16, 16}), b = torch::randn({32, 3, 16, 16});
  const auto a2 = a + 0.1 * torch::randn_like(a), b2 = b + 0.1 * torch::randn_like(b);
  std::vector<double> losses;
  method->on_epoch_start(0, 1);
  const int steps = 12;
  for (int step = 0; step < steps; ++step) {
    const auto output = step % 2 == 0 ? method->training_step(a, a2) : method->training_step(b, b2);
    losses.push_back(output.loss.item<double>());
    ASSERT_TRUE(std::isfinite(losses.back())) << "step " << step;
    EXPECT_EQ(output.h1.size(0), 32);
    optimizer.zero_grad();
    output.loss.backward();
    method->before_optimizer_step();
    optimizer.step();
    method->after_optimizer_step(step, steps);
  }
  // Steps 2 and 3 are the first to see both batches with a warm queue; compare with the last two.
  EXPECT_LT(losses[steps - 2] + losses[steps - 1], losses[2] + losses[3]);
}

INSTANTIATE_TEST_SUITE_P(Methods, MethodStepTest,
                         ::testing::Combine(::testing::ValuesIn(method_names()),
                                            ::testing::Values("off", "on", "linear", "gumbel")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

// Each method's options struct is the one source of its keys: every option is a grid key with the struct's
// default, the run's value reaches the struct, and no method key lacks an option.
TEST(MethodOptionsTest, EveryOptionIsAKeyWhoseValueReachesTheStruct) {
  struct Collect {
    std::string prefix;
    std::map<std::string, double> defaults;
    std::map<std::string, std::string> texts;  // choice options
    void operator()(const int64_t& value, const char* name, const Bounds&, const char*) {
      defaults[prefix + "." + name] = static_cast<double>(value);
    }
    void operator()(const double& value, const char* name, const Bounds&, const char*) {
      defaults[prefix + "." + name] = value;
    }
    void operator()(const std::string& value, const char* name, const std::vector<std::string>&, const char*) {
      texts[prefix + "." + name] = value;
    }
    void operator()(const bool& value, const char* name, const char*) {  // a flag, on/off in a grid
      texts[prefix + "." + name] = value ? "on" : "off";
    }
    void ordered(const char*, const char*) {}
    void added_later(const char*) {}
  };
  std::set<std::string> option_keys;
  for_each_method([&](auto options) {
    Collect collect{options.kKeyPrefix, {}, {}};
    options.fields(collect);
    RunConfig config = RunConfig::defaults({{"method", options.kName}});
    for (const auto& [key, value] : collect.defaults) {
      option_keys.insert(key);
      const KeySpec* spec = find_key(key);
      ASSERT_NE(spec, nullptr) << key;
      EXPECT_EQ(std::stod(spec->default_value), value) << key;
      // A value other than the default (integers and unit-interval values stay in bounds).
      config.values[key] = spec->max == 1 ? "0.5" : spec->type == KeyType::Int ? "7" : "0.25";
    }
    for (const auto& [key, value] : collect.texts) {
      option_keys.insert(key);
      const KeySpec* spec = find_key(key);
      ASSERT_NE(spec, nullptr) << key;
      EXPECT_EQ(spec->default_value, value) << key;
      ASSERT_GE(spec->choices.size(), 2u) << key;
      config.values[key] = spec->choices.back() == value ? spec->choices.front() : spec->choices.back();
    }
    const MethodOptions built = method_options(RunSpec::parse(config), 3);
    ASSERT_EQ(built.name(), options.kName);
    Collect read{options.kKeyPrefix, {}, {}};
    auto copy = built.get<decltype(options)>();
    copy.fields(read);
    for (const auto& [key, value] : read.defaults) EXPECT_EQ(value, std::stod(config.values.at(key))) << key;
    for (const auto& [key, value] : read.texts) EXPECT_EQ(value, config.values.at(key)) << key;
  });
  for (const KeySpec& spec : config_keys()) {
    const std::string prefix = spec.name.substr(0, spec.name.find('.'));
    for_each_method([&](auto options) {
      if (prefix == options.kKeyPrefix) EXPECT_EQ(option_keys.count(spec.name), 1u) << spec.name;
    });
  }
  EXPECT_EQ(find_key("method")->choices, method_names());
  EXPECT_EQ(method_names().front(), "simclr");
  EXPECT_EQ(method_names().size(), 7u);
}

// The optimizer's keys come from OptimizerOptions: a run gets the struct's defaults, and its own values.
TEST(MethodOptionsTest, OptimizerOptionsFromTheGrid) {
  const OptimizerOptions defaults = RunSpec::parse(RunConfig::defaults()).optimizer;
  EXPECT_EQ(defaults.name(), OptimizerOptions().name());
  EXPECT_EQ(defaults.lr(), OptimizerOptions().lr());
  EXPECT_EQ(defaults.weight_decay(), OptimizerOptions().weight_decay());
  EXPECT_EQ(defaults.lars_eta(), OptimizerOptions().lars_eta());
  EXPECT_EQ(defaults.lars_clip(), OptimizerOptions().lars_clip());
  EXPECT_EQ(defaults.momentum(), 0.9);
  // What the README documents and every stored run used.
  EXPECT_EQ(find_key("lr")->default_value, "0.3");
  EXPECT_EQ(find_key("wd")->default_value, "1e-05");
  const OptimizerOptions set =
      RunSpec::parse(
          RunConfig::defaults(
              {{"optimizer", "lars"}, {"lr", "0.5"}, {"wd", "0.001"}, {"lars.eta", "0.001"}, {"lars.clip", "off"}}))
          .optimizer;
  EXPECT_EQ(set.name(), "lars");
  EXPECT_EQ(set.lr(), 0.5);
  EXPECT_EQ(set.weight_decay(), 0.001);
  EXPECT_EQ(set.lars_eta(), 0.001);
  EXPECT_FALSE(set.lars_clip());
}

TEST(ByolTest, TargetIsFrozenAndFollowsOnline) {
  torch::manual_seed(0);
  EncoderOptions encoder(BackboneOptions("convnet", 1).width(0.25), MLPHeadOptions(0, 16, 8));
  encoder.sem(SEMOptions(0, 4, 3));
  BYOLImpl byol(MethodOptions(BYOLOptions().pred_hidden(16).ema_base(0.5).ema_final(0.5), encoder));
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
