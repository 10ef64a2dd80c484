// Where the authors' code departs from the spec (SPEC §7), switch by switch: each switch's authors' setting and
// its other setting, trained through the real training step, and the run identity of keys added for them.
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/methods/mocov2plus/mocov2plus.h"
#include "baselines/methods/swav/swav.h"
#include "baselines/ssl_method.h"
#include "harness/config/grid.h"
#include "harness/config/run_spec.h"
#include "harness/store/snapshot.h"
#include "harness/data/image_set.h"
#include "harness/data/tensors.h"
#include "harness/results/probe_protocols.h"
#include "harness/train/method_factory.h"
#include "harness/train/mixed_precision.h"
#include "harness/train/phase_timer.h"
#include "harness/train/run.h"
#include "harness/train/training_step.h"
#include "test_paths.h"

using namespace semharness;

namespace {

// A tiny run's typed settings: the given keys over the defaults, a small SEM and a half-width ConvNet.
RunSpec tiny_spec(std::map<std::string, std::string> settings) {
  settings.emplace("sem.L", "8");
  settings.emplace("sem.V", "4");
  settings.emplace("backbone.width", "0.25");
  settings.emplace("proj.hidden", "32");
  settings.emplace("proj.out", "16");
  return RunSpec::parse(RunConfig::defaults(settings, "test"));
}

std::map<std::string, torch::Tensor> snapshot(const torch::OrderedDict<std::string, torch::Tensor>& tensors) {
  std::map<std::string, torch::Tensor> copy;
  for (const auto& item : tensors) copy[item.key()] = item.value().detach().clone();
  return copy;
}

// `steps` steps of the real training step (optimizer, online classifier, hooks) on random 1-channel images.
void train_steps(SSLMethodImpl& method, const RunSpec& spec, int steps) {
  const c10::Device cpu(c10::kCPU);
  TrainingStep step(method, spec, 10, cpu);
  PhaseTimer timer(cpu);
  method.train();
  method.on_epoch_start(0, 1);
  for (int i = 0; i < steps; ++i) {
    const auto x = torch::rand({16, 1, 28, 28});
    step.run(x, (x + 0.05 * torch::randn_like(x)).clamp(0, 1), torch::randint(10, {16}), i, steps, timer);
  }
}

bool same(const torch::Tensor& a, const torch::Tensor& b) { return torch::equal(a, b); }

// The number a whole text spells, if it is one.
std::optional<double> number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

// sem.train_embedder = off (the authors' SimCLR, SwAV and Barlow Twins): after 5 steps the embedder's Linear
// and BN affine parameters are bit-identical to their initial values, its BN running statistics have moved,
// and the backbone trained. With on (the default) the embedder trains.
TEST(AuthorsProtocolTest, FrozenEmbedderKeepsItsWeightsWhileBatchNormStatisticsMove) {
  for (const char* method_name : {"simclr", "swav", "barlow"}) {
    for (const bool trained : {false, true}) {
      SCOPED_TRACE(std::string(method_name) + (trained ? " trained" : " frozen"));
      torch::manual_seed(3);
      const RunSpec spec =
          tiny_spec({{"method", method_name}, {"sem", "on"}, {"sem.train_embedder", trained ? "on" : "off"}});
      auto method = make_method(method_options(spec, 1));
      const auto sem_params = snapshot(method->online->sem->named_parameters());
      const auto sem_buffers = snapshot(method->online->sem->named_buffers());
      const auto backbone = snapshot(method->online->backbone->named_parameters());
      ASSERT_FALSE(sem_params.empty());
      train_steps(*method, spec, 5);
      for (const auto& item : method->online->sem->named_parameters()) {
        EXPECT_EQ(same(item.value(), sem_params.at(item.key())), !trained) << item.key();
      }
      bool statistics_moved = false;
      for (const auto& item : method->online->sem->named_buffers()) {
        if (item.key().find("running_mean") != std::string::npos)
          statistics_moved |= !same(item.value(), sem_buffers.at(item.key()));
      }
      EXPECT_TRUE(statistics_moved);
      bool backbone_moved = false;
      for (const auto& item : method->online->backbone->named_parameters())
        backbone_moved |= !same(item.value(), backbone.at(item.key()));
      EXPECT_TRUE(backbone_moved);
    }
  }
}

// moco.target_embedder = own (the authors'): the target's SEM embedder starts from its own random weights
// while its backbone and projector are copies of the online ones; copy (the default) copies all three.
TEST(AuthorsProtocolTest, MocoTargetEmbedderStartsFromItsOwnInitOrACopy) {
  for (const char* choice : {"own", "copy"}) {
    SCOPED_TRACE(choice);
    torch::manual_seed(0);
    const RunSpec spec = tiny_spec(
        {{"method", "mocov2plus"}, {"sem", "on"}, {"moco.target_embedder", choice}, {"moco.queue_size", "64"}});
    auto method = make_method(method_options(spec, 1));
    auto* moco = dynamic_cast<MoCoV2PlusImpl*>(method.get());
    ASSERT_NE(moco, nullptr);
    const bool own = std::string(choice) == "own";
    const auto online = moco->online->named_parameters();
    for (const auto& item : moco->target->named_parameters()) {
      // The embedder's Linear weight is random; its BN affine starts at 1 and 0 however it is made.
      const bool random_embedder_weight = item.key().rfind("sem.", 0) == 0 && item.value().dim() > 1;
      EXPECT_EQ(same(item.value(), online[item.key()]), !(own && random_embedder_weight)) << item.key();
      EXPECT_FALSE(item.value().requires_grad()) << item.key();
    }
  }
}

// swav.prototype_norm = weight_norm (the authors' fork): prototype = g * v / ||v||, g starting at ||v|| and
// trained, the rows never renormalised; renormalise (the default) keeps unit rows and has no gain.
TEST(AuthorsProtocolTest, SwavPrototypesWeightNormWithTrainedGainOrRenormalisedRows) {
  torch::manual_seed(1);
  const RunSpec spec = tiny_spec({{"method", "swav"},
                                  {"swav.prototype_norm", "weight_norm"},
                                  {"swav.prototypes", "12"},
                                  {"swav.freeze_prototypes_epochs", "0"},
                                  {"swav.queue_size", "0"},
                                  {"lr", "0.5"}});
  auto method = make_method(method_options(spec, 1));
  auto* swav = dynamic_cast<SwAVImpl*>(method.get());
  ASSERT_NE(swav, nullptr);
  ASSERT_TRUE(swav->prototype_gain.defined());
  EXPECT_TRUE(swav->prototype_gain.requires_grad());
  const auto v0 = swav->prototypes->weight.detach().clone();
  const auto g0 = swav->prototype_gain.detach().clone();
  EXPECT_TRUE(torch::allclose(g0, v0.norm(2, {1}, true)));
  // The scores use the effective weight g * v / ||v||: at the start, v itself.
  const auto z = torch::randn({5, 16});
  EXPECT_TRUE(torch::allclose(swav->prototype_scores(z), torch::mm(z, v0.t()), 1e-5, 1e-6));
  train_steps(*method, spec, 5);
  const auto& v = swav->prototypes->weight;
  const auto& g = swav->prototype_gain;
  EXPECT_FALSE(same(g, g0));
  EXPECT_FALSE(same(v, v0));
  EXPECT_TRUE(torch::allclose(swav->prototype_scores(z), torch::mm(z, (g * v / v.norm(2, {1}, true)).t()), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(v.norm(2, 1), torch::ones({12}), 1e-3, 1e-3)) << "rows were renormalised";

  const RunSpec renormalised = tiny_spec({{"method", "swav"}, {"swav.prototypes", "12"}, {"swav.queue_size", "0"}});
  auto plain = make_method(method_options(renormalised, 1));
  auto* plain_swav = dynamic_cast<SwAVImpl*>(plain.get());
  EXPECT_FALSE(plain_swav->prototype_gain.defined());
  train_steps(*plain, renormalised, 3);
  plain_swav->normalize_prototypes();
  EXPECT_TRUE(torch::allclose(plain_swav->prototypes->weight.norm(2, 1), torch::ones({12}), 1e-5, 1e-5));
}

// Each method's augmentation recipe is the authors' script's (SPEC §3 and §7): strong jitter for SimCLR and
// SwAV, saturation 0.4 for MoCo v2+, crops from 20% and solarize 0.1 on both views for VICReg, solarize 0.2 on
// the second view for BYOL, Barlow Twins and DINO.
TEST(AuthorsProtocolTest, AugmentationRecipesAreTheAuthorsScripts) {
  struct View {
    double min_scale, brightness, contrast, saturation, hue, solarize;
  };
  const std::map<std::string, std::pair<View, View>> expected = {
      {"simclr", {{0.08, 0.8, 0.8, 0.8, 0.2, 0}, {0.08, 0.8, 0.8, 0.8, 0.2, 0}}},
      {"mocov2plus", {{0.08, 0.4, 0.4, 0.4, 0.1, 0}, {0.08, 0.4, 0.4, 0.4, 0.1, 0}}},
      {"byol", {{0.08, 0.4, 0.4, 0.2, 0.1, 0}, {0.08, 0.4, 0.4, 0.2, 0.1, 0.2}}},
      {"barlow", {{0.08, 0.4, 0.4, 0.2, 0.1, 0}, {0.08, 0.4, 0.4, 0.2, 0.1, 0.2}}},
      {"swav", {{0.08, 0.8, 0.8, 0.8, 0.2, 0}, {0.08, 0.8, 0.8, 0.8, 0.2, 0}}},
      {"dino", {{0.08, 0.4, 0.4, 0.2, 0.1, 0}, {0.08, 0.4, 0.4, 0.2, 0.1, 0.2}}},
      {"vicreg", {{0.2, 0.4, 0.4, 0.2, 0.1, 0.1}, {0.2, 0.4, 0.4, 0.2, 0.1, 0.1}}},
  };
  ASSERT_EQ(expected.size(), method_names().size());
  for (const auto& name : method_names()) {
    SCOPED_TRACE(name);
    const AugmentRecipe recipe = augment_recipe(default_method_options(name));
    const auto check = [](const ViewAugmentOptions& got, const View& want) {
      EXPECT_DOUBLE_EQ(got.crop_min_scale, want.min_scale);
      EXPECT_DOUBLE_EQ(got.brightness, want.brightness);
      EXPECT_DOUBLE_EQ(got.contrast, want.contrast);
      EXPECT_DOUBLE_EQ(got.saturation, want.saturation);
      EXPECT_DOUBLE_EQ(got.hue, want.hue);
      EXPECT_DOUBLE_EQ(got.solarize_p, want.solarize);
      EXPECT_DOUBLE_EQ(got.jitter_p, 0.8);
      EXPECT_DOUBLE_EQ(got.gray_p, 0.2);
      EXPECT_DOUBLE_EQ(got.flip_p, 0.5);
    };
    check(recipe.view1, expected.at(name).first);
    check(recipe.view2, expected.at(name).second);
  }
}

// A key added after runs were stored leaves the ids of runs at its default unchanged: the quick grid's runs
// have the ids of the committed baseline, whether or not the new keys are written out; a value away from the
// default makes another run.
TEST(AuthorsProtocolTest, KeysAddedLaterKeepTheIdsOfStoredRuns) {
  const Grid grid = load_grid(std::string(SEMHARNESS_SOURCE_DIR) + "/experiments/quick.ini");
  std::set<std::string> ids;
  for (const auto& run : grid.runs) ids.insert(run.run_id());
  std::set<std::string> stored;
  for (const auto& run : read_store_snapshot(std::string(SEMHARNESS_SOURCE_DIR) + "/results/baseline-quick.db").runs)
    stored.insert(run.run_id);
  EXPECT_EQ(ids, stored);

  const Grid explicit_defaults =
      load_grid(std::string(SEMHARNESS_SOURCE_DIR) + "/experiments/quick.ini", {"sem.train_embedder=on"});
  const Grid frozen =
      load_grid(std::string(SEMHARNESS_SOURCE_DIR) + "/experiments/quick.ini", {"sem.train_embedder=off"});
  for (size_t i = 0; i < grid.runs.size(); ++i) {
    EXPECT_EQ(explicit_defaults.runs[i].run_id(), grid.runs[i].run_id());
    EXPECT_NE(frozen.runs[i].run_id(), grid.runs[i].run_id());
  }
}

// experiments/paper_cifar100.ini sets every per-method value of SPEC §1 and §7, the authors' setting of each
// switch included: read back, every cell of each method carries exactly this table, so that a silent change
// to the file (or to a key's default it relies on) fails here.
TEST(AuthorsProtocolTest, PaperGridSetsEveryPerMethodValueOfTheSpec) {
  using Settings = std::map<std::string, std::string>;
  const Settings common = {{"dataset", "cifar100"},
                           {"backbone", "resnet18"},
                           {"backbone.stem_padding", "2"},
                           {"epochs", "1000"},
                           {"batch_size", "256"},
                           {"warmup_epochs", "10"},
                           {"precision", "fp16"},
                           {"lars.eta", "0.02"},
                           {"lars.clip", "on"},
                           {"online.classifier", "solo_learn"},
                           {"sem.L", "5000"},
                           {"sem.V", "13"},
                           {"probe.protocols", "sgd,lbfgs"},
                           {"probe.epochs", "100"},
                           {"probe.batch_size", "256"},
                           {"probe.lr", "0.01,0.1,0.2"},
                           {"probe.wd1", "0,1e-5"},
                           {"probe.tau_d", "0.0001,0.001,0.01,0.1,1,10"},
                           {"probe.val_fraction", "0.1"},
                           {"probe.split_seed", "1337"}};
  const std::map<std::string, Settings> per_method = {
      {"simclr",
       {{"optimizer", "lars"},
        {"lr", "0.4"},
        {"wd", "1e-5"},
        {"sem.tau_online", "0.17"},
        {"sem.tau_target", "0.78"},
        {"simclr.temperature", "0.2"},
        {"proj.hidden", "2048"},
        {"proj.out", "256"},
        {"sem.train_embedder", "off"},
        {"online.lr", "0.1"}}},
      {"mocov2plus",
       {{"optimizer", "sgd"},
        {"lr", "0.3"},
        {"wd", "1e-4"},
        {"sem.tau_online", "0.04"},
        {"sem.tau_target", "0.01"},
        {"moco.queue_size", "32768"},
        {"moco.temperature", "0.2"},
        {"moco.ema_base", "0.99"},
        {"moco.ema_final", "0.999"},
        {"moco.target_embedder", "own"},
        {"sem.train_embedder", "on"},
        {"online.lr", "0.3"}}},
      {"byol",
       {{"optimizer", "lars"},
        {"lr", "1"},
        {"wd", "1e-5"},
        {"sem.tau_online", "1"},
        {"sem.tau_target", "1"},
        {"proj.hidden", "4096"},
        {"proj.out", "256"},
        {"byol.pred_hidden", "4096"},
        {"byol.ema_base", "0.99"},
        {"byol.ema_final", "1"},
        {"sem.train_embedder", "on"},
        {"online.lr", "0.1"}}},
      {"barlow",
       {{"optimizer", "lars"},
        {"lr", "0.3"},
        {"wd", "1e-4"},
        {"sem.tau_online", "1"},
        {"sem.tau_target", "0.99"},
        {"proj.hidden", "2048"},
        {"proj.out", "2048"},
        {"barlow.scale", "0.1"},
        {"barlow.lambda", "0.0051"},
        {"sem.train_embedder", "off"},
        {"online.lr", "0.1"}}},
      {"swav",
       {{"optimizer", "lars"},
        {"lr", "0.6"},
        {"wd", "1e-6"},
        {"sem.tau_online", "0.85"},
        {"sem.tau_target", "1.5"},
        {"swav.prototypes", "3000"},
        {"swav.queue_size", "3840"},
        {"swav.queue_start_epoch", "50"},
        {"swav.prototype_norm", "weight_norm"},
        {"sem.train_embedder", "off"},
        {"online.lr", "0.1"}}},
      {"dino",
       {{"optimizer", "lars"},
        {"lr", "0.3"},
        {"wd", "1e-6"},
        {"sem.tau_online", "1"},
        {"sem.tau_target", "1"},
        {"dino.prototypes", "4096"},
        {"dino.ema_base", "0.9995"},
        {"dino.ema_final", "1"},
        {"sem.train_embedder", "on"},
        {"online.lr", "0.1"}}},
      {"vicreg",
       {{"optimizer", "lars"},
        {"lr", "0.3"},
        {"wd", "1e-4"},
        {"sem.tau_online", "1"},
        {"proj.hidden", "2048"},
        {"proj.out", "2048"},
        {"vicreg.sim_weight", "25"},
        {"vicreg.var_weight", "25"},
        {"vicreg.cov_weight", "1"},
        {"sem.train_embedder", "on"},
        {"online.lr", "0.1"}}},
  };
  const Grid grid = load_grid(std::string(SEMHARNESS_SOURCE_DIR) + "/experiments/paper_cifar100.ini");
  ASSERT_EQ(grid.runs.size(), 7u * 2u * 5u);  // methods x {off, on} x seeds
  std::set<std::string> methods_seen;
  for (const RunConfig& run : grid.runs) {
    const std::string method = run.str("method");
    methods_seen.insert(method);
    Settings expected = common;
    for (const auto& [key, value] : per_method.at(method)) expected[key] = value;
    for (const auto& [key, value] : expected) {
      SCOPED_TRACE(method + " " + key);
      if (const auto single = number(value)) {
        EXPECT_DOUBLE_EQ(run.f(key), *single);
      } else if (number(split_list(value).front())) {
        std::vector<double> numbers;
        for (const auto& item : split_list(value)) numbers.push_back(*number(item));
        EXPECT_EQ(run.floats(key), numbers);
      } else {
        EXPECT_EQ(run.str(key), value);
      }
    }
  }
  EXPECT_EQ(methods_seen.size(), per_method.size());
}

// online.classifier = solo_learn (the authors'): the classifier is a group of the main optimizer (its momentum
// buffers sit beside the method's, its own SGD holds no state) and trains; separate (the default): its own SGD.
TEST(AuthorsProtocolTest, OnlineClassifierInTheMainOptimizerOrItsOwn) {
  for (const char* choice : {"solo_learn", "separate"}) {
    SCOPED_TRACE(choice);
    torch::manual_seed(2);
    const RunSpec spec = tiny_spec({{"method", "simclr"}, {"online.classifier", choice}, {"optimizer", "lars"}});
    auto method = make_method(method_options(spec, 1));
    const c10::Device cpu(c10::kCPU);
    TrainingStep step(*method, spec, 10, cpu);
    PhaseTimer timer(cpu);
    const size_t method_parameters = method->trainable_parameters().size();
    const auto before = step.classifier()->weight.detach().clone();
    method->train();
    method->on_epoch_start(0, 1);
    for (int i = 0; i < 3; ++i) {
      const auto x = torch::rand({16, 1, 28, 28});
      step.run(x, x.flip({3}), torch::randint(10, {16}), i, 3, timer);
    }
    EXPECT_FALSE(same(step.classifier()->weight, before));
    const bool solo = std::string(choice) == "solo_learn";
    EXPECT_EQ(step.optimizer().momentum_buffers().size(), method_parameters + (solo ? 2 : 0));
    size_t defined = 0;
    for (const auto& buffer : step.optimizer().momentum_buffers()) defined += buffer.defined();
    EXPECT_EQ(defined, method_parameters + (solo ? 2 : 0));
    EXPECT_EQ(step.classifier_optimizer().state().empty(), solo);
  }
}

// probe.protocols = sgd_augmented (the authors' probe as their code runs it) stores linear_probe_augmented rows for
// every feature beside the fixed-feature probe's, with other numbers (each batch's features come from augmented
// images), the same on a second run, and leaves the fixed-feature probe's numbers as they are without it.
TEST(AuthorsProtocolTest, AugmentedProbeRecomputesFeaturesFromAugmentedImages) {
  const DeviceDataset data = to_device(make_synthetic(600, 200, 5), c10::Device(c10::kCPU));
  const auto run = [&](const std::string& protocols) {
    RunSpec spec = tiny_spec({{"dataset", "synthetic"},
                              {"sem", "on"},
                              {"epochs", "1"},
                              {"batch_size", "64"},
                              {"probe.protocols", protocols},
                              {"probe.epochs", "4"},
                              {"probe.tau_d", "1"},
                              {"analysis.samples", "0"}});
    return execute_run(spec, data, c10::Device(c10::kCPU), nullptr, CheckpointPolicy{});
  };
  const auto top1 = [](const RunOutcome& outcome, std::string_view protocol) {
    std::map<std::string, double> values;  // feature -> test top-1
    for (const auto& r : outcome.results) {
      if (r.protocol == protocol && r.split == "test" && r.metric == "top1") values[r.feature] = r.value;
    }
    return values;
  };
  const RunOutcome fixed = run("sgd");
  const RunOutcome both = run("sgd,sgd_augmented");
  const RunOutcome again = run("sgd,sgd_augmented");
  const auto augmented = top1(both, kSgdAugmentedProbe);
  EXPECT_EQ(augmented.size(), 3u);  // backbone, embedding, sem
  EXPECT_EQ(top1(both, kSgdProbe), top1(fixed, kSgdProbe));
  EXPECT_NE(augmented, top1(both, kSgdProbe));
  EXPECT_EQ(augmented, top1(again, kSgdAugmentedProbe));
  bool timed = false;
  for (const auto& t : both.timings) timed |= t.name == "probe:" + std::string(kSgdAugmentedProbe) && t.total_ms > 0;
  EXPECT_TRUE(timed);
}

// precision = fp16 (every CIFAR script of the authors) trains under fp16 autocast with dynamic loss scaling on
// CUDA; bf16 (the default) and fp32 need no scaling; the CPU runs fp32 whatever the key says.
TEST(AuthorsProtocolTest, Fp16ScalesTheLossOnCudaOnly) {
  for (const char* precision : {"fp16", "bf16", "fp32"}) {
    EXPECT_FALSE(LossScaler(c10::Device(c10::kCPU), precision).enabled()) << precision;
  }
  if (!torch::cuda::is_available()) GTEST_SKIP() << "the CUDA half needs a GPU";
  const c10::Device cuda(c10::kCUDA, 0);
  for (const char* precision : {"fp16", "bf16"}) {
    SCOPED_TRACE(precision);
    torch::manual_seed(0);
    const RunSpec spec = tiny_spec({{"method", "simclr"}, {"precision", precision}});
    auto method = make_method(method_options(spec, 1));
    method->to(cuda);
    TrainingStep step(*method, spec, 10, cuda);
    PhaseTimer timer(cuda);
    method->train();
    method->on_epoch_start(0, 1);
    const auto x = torch::rand({16, 1, 28, 28}, torch::TensorOptions().device(cuda));
    const auto loss =
        step.run(x, x.flip({3}), torch::randint(10, {16}, torch::TensorOptions().device(cuda)), 0, 1, timer);
    EXPECT_TRUE(torch::isfinite(loss).item<bool>());
    const bool fp16 = std::string(precision) == "fp16";
    EXPECT_EQ(step.scaler().enabled(), fp16);
    if (fp16) EXPECT_GT(step.scaler().state().front().item<double>(), 1.0);
  }
}
