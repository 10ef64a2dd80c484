// Backbones: output shapes, and the channels-last memory format computing the same function as NCHW.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/backbones.h"

namespace semharness {
namespace {

struct BackboneCase {
  std::string name;
  int64_t channels, size, output_dim;
  std::string stem = "cifar";
};

class BackboneTest : public ::testing::TestWithParam<BackboneCase> {};

std::shared_ptr<BackboneImpl> seeded_backbone(const BackboneCase& c, bool channels_last) {
  torch::manual_seed(0);
  auto backbone =
      make_backbone(BackboneOptions(c.name, c.channels).width(0.25).stem(c.stem).channels_last(channels_last));
  backbone->to(torch::kDouble);
  return backbone;
}

// The float64 NCHW path is the reference: the same weights in NHWC give the same features and gradients
// (to rounding: oneDNN sums in another order).
TEST_P(BackboneTest, ChannelsLastMatchesContiguousInFloat64) {
  const auto& c = GetParam();
  auto nchw = seeded_backbone(c, false);
  auto nhwc = seeded_backbone(c, true);
  ASSERT_TRUE(nhwc->channels_last());
  for (const auto& p : nhwc->parameters()) {
    if (p.dim() == 4) EXPECT_EQ(p.suggest_memory_format(), at::MemoryFormat::ChannelsLast) << p.sizes();
  }
  const auto images = torch::randn({4, c.channels, c.size, c.size}, torch::kDouble);
  const auto reference = nchw->forward(images);
  const auto out = nhwc->forward(images);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{4, c.output_dim}));
  EXPECT_TRUE(torch::allclose(out, reference, 1e-9, 1e-11));

  const auto weights = torch::randn_like(reference);
  (reference * weights).sum().backward();
  (out * weights).sum().backward();
  const auto expected = nchw->parameters(), got = nhwc->parameters();
  ASSERT_EQ(expected.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    // The absolute tolerance follows the gradient's scale: ResNet-50's stem gradients reach ~1e4 in float64,
    // where a different summation order moves entries near 0 by ~1e-9 (rounding at 1e-13 of the largest).
    const double scale = std::max(1.0, expected[i].grad().abs().max().item<double>());
    EXPECT_TRUE(torch::allclose(got[i].grad(), expected[i].grad(), 1e-9, 1e-11 * scale))
        << "parameter " << i << " max |diff| " << (got[i].grad() - expected[i].grad()).abs().max().item<double>()
        << " max |grad| " << scale;
  }
}

TEST_P(BackboneTest, SwitchingBackToContiguousRestoresNchwWeights) {
  const auto& c = GetParam();
  auto backbone = seeded_backbone(c, true);
  const auto before = backbone->forward(torch::ones({2, c.channels, c.size, c.size}, torch::kDouble));
  backbone->set_channels_last(false);
  for (const auto& p : backbone->parameters()) {
    if (p.dim() == 4) EXPECT_EQ(p.suggest_memory_format(), at::MemoryFormat::Contiguous) << p.sizes();
  }
  const auto after = backbone->forward(torch::ones({2, c.channels, c.size, c.size}, torch::kDouble));
  EXPECT_TRUE(torch::allclose(after, before, 1e-9, 1e-11));
}

INSTANTIATE_TEST_SUITE_P(Backbones, BackboneTest,
                         ::testing::Values(BackboneCase{"convnet", 1, 28, 32}, BackboneCase{"resnet18", 3, 16, 128},
                                           BackboneCase{"resnet18", 3, 32, 128, "imagenet"},
                                           BackboneCase{"resnet50", 3, 32, 512, "imagenet"}),
                         [](const auto& info) { return info.param.name + "_" + info.param.stem; });

int64_t parameter_count(const std::shared_ptr<BackboneImpl>& backbone) {
  int64_t n = 0;
  for (const auto& p : backbone->parameters()) n += p.numel();
  return n;
}

// torchvision's resnet18() and resnet50() with fc replaced by Identity: 11,176,512 and 23,508,032 parameters
// (counted with torchvision 0.29); with the ImageNet stem this is the same network, its feature 512 / 2048 wide.
TEST(BackboneFactoryTest, ImagenetResNetsHaveTorchvisionsParameterCounts) {
  for (auto [name, parameters, dim] : {std::tuple{"resnet18", 11176512, 512}, std::tuple{"resnet50", 23508032, 2048}}) {
    auto backbone = make_backbone(BackboneOptions(name, 3).stem("imagenet"));
    EXPECT_EQ(parameter_count(backbone), parameters) << name;
    EXPECT_EQ(backbone->output_dim(), dim) << name;
    torch::NoGradGuard no_grad;
    backbone->eval();
    EXPECT_EQ(backbone->forward(torch::randn({1, 3, 64, 64})).sizes(), (std::vector<int64_t>{1, dim})) << name;
  }
  // The CIFAR stem's 3x3 conv has 3 * 64 * 9 weights where the ImageNet stem's 7x7 has 3 * 64 * 49.
  EXPECT_EQ(parameter_count(make_backbone(BackboneOptions("resnet18", 3))), 11176512 - 3 * 64 * (49 - 9));
}

TEST(BackboneFactoryTest, UnknownNameIsRejected) {
  EXPECT_THROW(make_backbone(BackboneOptions("vgg", 3)), std::invalid_argument);
  EXPECT_THROW(make_backbone(BackboneOptions("resnet18", 3).stem("tiny")), std::invalid_argument);
}

}  // namespace
}  // namespace semharness
