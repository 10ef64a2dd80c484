// Linear probes, kNN and augmentations on data whose answer is known.
#include <cmath>

#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/methods/method_list.h"
#include "harness/data/augment.h"
#include "harness/probe/linear_probe.h"
#include "harness/config/run_spec.h"

using namespace semharness;

namespace {

// Three Gaussian blobs in 5 dimensions, means 4 apart along three axes: a linear classifier separates them.
LabeledFeatures blobs(int64_t n) {
  const auto y = torch::arange(n, torch::kLong) % 3;
  auto x = torch::randn({n, 5});
  x.index_put_(
      {torch::indexing::Slice(), torch::indexing::Slice(0, 3)},
      x.index({torch::indexing::Slice(), torch::indexing::Slice(0, 3)}) + 4.0 * torch::one_hot(y, 3).to(torch::kFloat));
  return {x, y};
}

}  // namespace

TEST(ProbeTest, SeparatesGaussianBlobs) {
  torch::manual_seed(0);
  SgdProbeSpec spec = RunSpec::parse(RunConfig::defaults()).probe.sgd;
  spec.epochs = 20;
  spec.batch_size = 64;
  const auto result = train_linear_probes(blobs(600), blobs(150), blobs(300), 3, spec);
  EXPECT_GT(result.test.top1, 95.0);
  EXPECT_GT(result.train.top1, 95.0);
  EXPECT_LT(result.test.loss, 0.3);
  EXPECT_GT(result.weight_l1, 0.0);
}

TEST(ProbeTest, SelectsOnValidationNotTest) {
  // Test labels are shifted by one class, so the probe that learned (lr 0.1) is the worst on test and the
  // one that barely moved (lr 1e-6) is better there: selection must still pick lr 0.1, by validation.
  torch::manual_seed(1);
  auto test = blobs(90);
  test.y = (test.y + 1) % 3;
  SgdProbeSpec spec = RunSpec::parse(RunConfig::defaults()).probe.sgd;
  spec.lrs = {1e-6, 0.1};
  spec.wd1s = {0.0};
  spec.epochs = 10;
  const auto result = train_linear_probes(blobs(300), blobs(90), test, 3, spec);
  EXPECT_EQ(result.lr, 0.1);
  EXPECT_GT(result.val.top1, 90.0);
  EXPECT_LT(result.test.top1, 10.0);
}

TEST(ProbeTest, KnnOnClusters) {
  torch::manual_seed(2);
  const auto bank = blobs(300), queries = blobs(60);
  EXPECT_GT(knn_top1(bank, queries, 3, 20, 0.1), 95.0);
}

TEST(AugmentTest, ViewsAreSeededAndBounded) {
  const Augmenter augmenter({0.0, 0.0, 0.0}, {1.0, 1.0, 1.0}, torch::kCPU);
  torch::manual_seed(3);
  const auto images = torch::rand({8, 3, 16, 16});
  auto options = BYOLOptions::augment().view2;
  torch::manual_seed(4);
  const auto a = augmenter.view(images, options);
  torch::manual_seed(4);
  const auto b = augmenter.view(images, options);
  torch::manual_seed(5);
  const auto c = augmenter.view(images, options);
  EXPECT_EQ(a.sizes(), images.sizes());
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_GE(a.min().item<double>(), 0.0);  // mean 0, std 1: normalisation is the identity
  EXPECT_LE(a.max().item<double>(), 1.0);
}

// Views drawn from seeded AugmentGenerators depend on the seed only: not on the default generator, not on
// the thread that draws them (pretrain's prefetch thread).
TEST(AugmentTest, OwnGeneratorsIgnoreTheDefaultOneAndTheThread) {
  const Augmenter augmenter({0.5, 0.5, 0.5}, {0.25, 0.25, 0.25}, torch::kCPU);
  torch::manual_seed(3);
  const auto images = torch::rand({8, 3, 16, 16});
  const auto options = SimCLROptions::augment().view1;
  torch::manual_seed(10);
  const auto here = augmenter.view(images, options, AugmentGenerators::seeded(torch::kCPU, 7));
  torch::Tensor there;
  std::thread([&] {
    torch::manual_seed(11);
    there = augmenter.view(images, options, AugmentGenerators::seeded(torch::kCPU, 7));
  }).join();
  EXPECT_TRUE(torch::equal(here, there));
  EXPECT_FALSE(torch::equal(here, augmenter.view(images, options, AugmentGenerators::seeded(torch::kCPU, 8))));
  // The default generator was not drawn from.
  torch::manual_seed(10);
  const auto fresh = torch::rand({4});
  torch::manual_seed(10);
  augmenter.view(images, options, AugmentGenerators::seeded(torch::kCPU, 7));
  EXPECT_TRUE(torch::equal(torch::rand({4}), fresh));
}

TEST(AugmentTest, SolarizeAndFlipHandComputed) {
  const Augmenter augmenter({0.5}, {0.25}, torch::kCPU);
  ViewAugmentOptions options;
  options.crop_min_scale = 1.0;
  options.jitter_p = 0.0;
  options.gray_p = 0.0;
  options.solarize_p = 1.0;
  options.flip_p = 0.0;
  // A constant image stays constant under any crop; solarize maps 0.75 to 0.25; normalise to (0.25-0.5)/0.25.
  const auto out = augmenter.view(torch::full({2, 1, 8, 8}, 0.75), options);
  EXPECT_NEAR(out.min().item<double>(), -1.0, 1e-5);
  EXPECT_NEAR(out.max().item<double>(), -1.0, 1e-5);
  EXPECT_EQ(BYOLOptions::augment().view1.solarize_p, 0.0);
  EXPECT_EQ(BYOLOptions::augment().view2.solarize_p, 0.2);
  EXPECT_EQ(SimCLROptions::augment().view1.brightness, 0.8);
  EXPECT_EQ(SimCLROptions::augment().view2.hue, 0.2);
  EXPECT_EQ(SwAVOptions::augment().view2.solarize_p, 0.0);
}
