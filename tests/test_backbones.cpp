// Backbones: output shapes, and the channels-last memory format computing the same function as NCHW.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "baselines/backbones.h"

namespace semharness {
namespace {

struct BackboneCase {
  std::string name;
  int64_t channels, size, output_dim;
};

class BackboneTest : public ::testing::TestWithParam<BackboneCase> {};

std::shared_ptr<BackboneImpl> seeded_backbone(const BackboneCase& c, bool channels_last) {
  torch::manual_seed(0);
  auto backbone = make_backbone(BackboneOptions(c.name, c.channels).width(0.25).channels_last(channels_last));
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
    EXPECT_TRUE(torch::allclose(got[i].grad(), expected[i].grad(), 1e-9, 1e-11)) << "parameter " << i;
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
                         ::testing::Values(BackboneCase{"convnet", 1, 28, 32}, BackboneCase{"resnet18", 3, 16, 128}),
                         [](const auto& info) { return info.param.name; });

TEST(BackboneFactoryTest, UnknownNameIsRejected) {
  EXPECT_THROW(make_backbone(BackboneOptions("vgg", 3)), std::invalid_argument);
}

}  // namespace
}  // namespace semharness
