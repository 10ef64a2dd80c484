#include "harness/data/augment.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "harness/data/augment_ops.h"
#include "harness/data/folder_images.h"

namespace semharness {
namespace {

torch::Tensor uniform(int64_t b, double lo, double hi, const at::Generator& g, const torch::TensorOptions& options) {
  return torch::rand({b}, g, options) * (hi - lo) + lo;
}

// x where the per-sample coin (probability p) is heads is replaced by f(x).
template <typename Fn>
torch::Tensor with_probability(const torch::Tensor& x, double p, const at::Generator& g, Fn f) {
  if (p <= 0) return x;
  const auto coin = (torch::rand({x.size(0)}, g, x.options()) < p).view({-1, 1, 1, 1});
  return torch::where(coin, f(x), x);
}

// ColorJitter's factors per image: U(max(0, 1 - s), 1 + s) for brightness, contrast and saturation, U(-h, h)
// for hue; undefined where the strength is 0 (torchvision's None: the op is skipped).
torch::Tensor jitter_factor(int64_t b, double strength, const at::Generator& g, const torch::TensorOptions& options) {
  if (strength <= 0) return {};
  return uniform(b, std::max(0.0, 1.0 - strength), 1.0 + strength, g, options);
}

torch::Tensor random_color_jitter(const torch::Tensor& x, const ViewAugmentOptions& o, const at::Generator& g) {
  const int64_t b = x.size(0);
  const auto options = x.options();
  const auto order = torch::rand({b, 4}, g, options).argsort(/*stable=*/false, /*dim=*/1);  // uniform per image
  const auto brightness = jitter_factor(b, o.brightness, g, options);
  const auto contrast = jitter_factor(b, o.contrast, g, options);
  const auto saturation = jitter_factor(b, o.saturation, g, options);
  const auto hue = o.hue > 0 ? uniform(b, -o.hue, o.hue, g, options) : torch::Tensor();
  return color_jitter(x, order, brightness, contrast, saturation, hue);
}

}  // namespace

AugmentGenerators AugmentGenerators::seeded(c10::Device device, uint64_t seed) {
  AugmentGenerators g;
  g.device = at::globalContext().defaultGenerator(device).clone();
  g.device.set_current_seed(seed);
  return g;
}

AugmentGenerators AugmentGenerators::defaults(c10::Device device) {
  return {at::globalContext().defaultGenerator(device)};
}

Augmenter::Augmenter(const std::vector<double>& mean, const std::vector<double>& std, c10::Device device) {
  const int64_t c = static_cast<int64_t>(mean.size());
  TORCH_CHECK(c > 0 && mean.size() == std.size(), "Augmenter: mean and std per channel");
  mean_ = torch::tensor(mean, torch::kFloat).view({1, c, 1, 1}).to(device);
  std_ = torch::tensor(std, torch::kFloat).view({1, c, 1, 1}).to(device);
}

at::Tensor Augmenter::normalize(const at::Tensor& unit) const { return (unit - mean_) / std_; }

at::Tensor Augmenter::view(const at::Tensor& unit, const ViewAugmentOptions& o,
                           const AugmentGenerators& generators) const {
  const auto& g = generators.device;
  const int64_t b = unit.size(0), height = unit.size(2), width = unit.size(3);
  const CropBoxes boxes = sample_crop_boxes(b, height, width, o.crop_min_scale, 1.0, g);
  const auto flip = torch::rand({b}, g, unit.options()) < o.flip_p;
  // Clamped: bicubic overshoots [0, 1], which the authors' pipeline (8-bit PIL images) cannot hold.
  return view_of_crops(resized_crop(unit, boxes, height, width, flip).clamp_(0.0, 1.0), o, generators);
}

at::Tensor Augmenter::view_of_crops(const at::Tensor& unit, const ViewAugmentOptions& o,
                                    const AugmentGenerators& generators) const {
  const auto& g = generators.device;
  auto x = with_probability(unit, o.jitter_p, g, [&](const torch::Tensor& t) { return random_color_jitter(t, o, g); });
  if (x.size(1) == 3) {
    x = with_probability(x, o.gray_p, g, [](const torch::Tensor& t) { return rgb_to_grayscale(t).expand_as(t); });
  }
  x = with_probability(x, o.solarize_p, g, [](const torch::Tensor& t) { return solarize(t); });
  return normalize(x);
}

at::Tensor Augmenter::view(const at::Tensor& unit, const ViewAugmentOptions& o) const {
  return view(unit, o, AugmentGenerators::defaults(unit.device()));
}

at::Tensor augmented_rows(const TensorSplit& split, const at::Tensor& index, const Augmenter& augmenter,
                          const ViewAugmentOptions& options, const AugmentGenerators& generators,
                          const FolderViewKey& key) {
  if (!split.folder) return augmenter.view(to_unit_float(split.images.index_select(0, index)), options, generators);
  const auto crops =
      split.folder->train_views(index, key.seed, key.epoch, key.view, options.crop_min_scale, options.flip_p);
  return augmenter.view_of_crops(to_unit_float(crops), options, generators);
}

}  // namespace semharness
