#include "harness/data/augment.h"

#include <cmath>

#include <torch/torch.h>

namespace semharness {
namespace {

namespace F = torch::nn::functional;

// Per-sample uniform draws in [0, 1) and [lo, hi), shape [B].
torch::Tensor uniform(int64_t b, const at::Generator& g, const torch::TensorOptions& options) {
  return torch::rand({b}, g, options);
}
torch::Tensor uniform(int64_t b, double lo, double hi, const at::Generator& g, const torch::TensorOptions& options) {
  return uniform(b, g, options) * (hi - lo) + lo;
}

torch::Tensor per_sample(const torch::Tensor& v) { return v.view({-1, 1, 1, 1}); }

torch::Tensor grayscale(const torch::Tensor& rgb) {
  return (0.299 * rgb.select(1, 0) + 0.587 * rgb.select(1, 1) + 0.114 * rgb.select(1, 2)).unsqueeze(1);
}

// Random resized crop (area scale U(min_scale, 1), log-aspect U(log 3/4, log 4/3), clamped to the image)
// and horizontal flip, as one affine resampling of the whole batch.
torch::Tensor resized_crop_and_flip(const torch::Tensor& x, double min_scale, double flip_p, const at::Generator& g) {
  const int64_t b = x.size(0);
  const auto options = x.options();
  const auto area = uniform(b, min_scale, 1.0, g, options);
  const auto log_ratio = uniform(b, std::log(3.0 / 4.0), std::log(4.0 / 3.0), g, options);
  const auto ratio = torch::exp(log_ratio);
  const auto w = torch::sqrt(area * ratio).clamp_max(1.0);  // fraction of the width
  const auto h = torch::sqrt(area / ratio).clamp_max(1.0);
  const auto cx = (uniform(b, g, options) * 2 - 1) * (1 - w);  // centre in [-1 + w, 1 - w]
  const auto cy = (uniform(b, g, options) * 2 - 1) * (1 - h);
  const auto flip = torch::where(uniform(b, g, options) < flip_p, -1.0, 1.0).to(options.dtype());
  const auto zeros = torch::zeros({b}, options);
  const auto theta = torch::stack({torch::stack({w * flip, zeros, cx}, 1), torch::stack({zeros, h, cy}, 1)}, 1);
  const auto grid = F::affine_grid(theta, x.sizes().vec(), /*align_corners=*/false);
  return F::grid_sample(
             x, grid,
             F::GridSampleFuncOptions().mode(torch::kBicubic).padding_mode(torch::kBorder).align_corners(false))
      .clamp_(0.0, 1.0);
}

torch::Tensor adjust_hue(const torch::Tensor& rgb, const torch::Tensor& shift) {
  // Rotation of the chroma plane in YIQ space: a linear approximation of an HSV hue shift.
  const auto r = rgb.select(1, 0), g = rgb.select(1, 1), bl = rgb.select(1, 2);
  const auto y = 0.299 * r + 0.587 * g + 0.114 * bl;
  const auto i = 0.596 * r - 0.274 * g - 0.322 * bl;
  const auto q = 0.211 * r - 0.523 * g + 0.312 * bl;
  const auto angle = (shift * 2 * M_PI).view({-1, 1, 1});
  const auto c = torch::cos(angle), s = torch::sin(angle);
  const auto i2 = i * c - q * s, q2 = i * s + q * c;
  return torch::stack({y + 0.956 * i2 + 0.621 * q2, y - 0.272 * i2 - 0.647 * q2, y - 1.106 * i2 + 1.703 * q2}, 1);
}

torch::Tensor color_jitter(const torch::Tensor& x, const ViewAugmentOptions& o, const AugmentGenerators& g) {
  const int64_t b = x.size(0);
  const auto options = x.options();
  const bool rgb = x.size(1) == 3;
  auto out = x;
  // torchvision applies the four adjustments in a random order; here the order is drawn once per batch.
  const auto order = torch::randperm(4, g.host, torch::TensorOptions().dtype(torch::kLong)).contiguous();
  const auto* step = order.data_ptr<int64_t>();
  for (int k = 0; k < 4; ++k) {
    switch (step[k]) {
      case 0:
        if (o.brightness > 0) out = out * per_sample(uniform(b, 1 - o.brightness, 1 + o.brightness, g.device, options));
        break;
      case 1:
        if (o.contrast > 0) {
          const auto mean = (rgb ? grayscale(out) : out).mean({1, 2, 3}, /*keepdim=*/true);
          out = (out - mean) * per_sample(uniform(b, 1 - o.contrast, 1 + o.contrast, g.device, options)) + mean;
        }
        break;
      case 2:
        if (rgb && o.saturation > 0) {
          const auto gray = grayscale(out);
          out = (out - gray) * per_sample(uniform(b, 1 - o.saturation, 1 + o.saturation, g.device, options)) + gray;
        }
        break;
      case 3:
        if (rgb && o.hue > 0) out = adjust_hue(out, uniform(b, -o.hue, o.hue, g.device, options));
        break;
    }
    out = out.clamp(0.0, 1.0);
  }
  return out;
}

// x where the per-sample coin (probability p) is heads is replaced by f(x).
template <typename Fn>
torch::Tensor with_probability(const torch::Tensor& x, double p, const at::Generator& g, Fn f) {
  if (p <= 0) return x;
  const auto coin = per_sample(uniform(x.size(0), g, x.options()) < p);
  return torch::where(coin, f(x), x);
}

}  // namespace

AugmentGenerators AugmentGenerators::seeded(c10::Device device, uint64_t seed) {
  AugmentGenerators g;
  g.host = at::globalContext().defaultGenerator(c10::kCPU).clone();
  g.host.set_current_seed(seed);
  if (device.is_cpu()) {
    g.device = g.host;
  } else {
    g.device = at::globalContext().defaultGenerator(device).clone();
    g.device.set_current_seed(seed);
  }
  return g;
}

AugmentGenerators AugmentGenerators::defaults(c10::Device device) {
  return {at::globalContext().defaultGenerator(device), at::globalContext().defaultGenerator(c10::kCPU)};
}

Augmenter::Augmenter(const std::vector<double>& mean, const std::vector<double>& std, c10::Device device) {
  const int64_t c = static_cast<int64_t>(mean.size());
  TORCH_CHECK(c > 0 && mean.size() == std.size(), "Augmenter: mean and std per channel");
  mean_ = torch::tensor(mean, torch::kFloat).view({1, c, 1, 1}).to(device);
  std_ = torch::tensor(std, torch::kFloat).view({1, c, 1, 1}).to(device);
}

at::Tensor Augmenter::normalize(const at::Tensor& unit) const { return (unit - mean_) / std_; }

at::Tensor Augmenter::view(const at::Tensor& unit, const ViewAugmentOptions& o, const AugmentGenerators& g) const {
  auto x = resized_crop_and_flip(unit, o.crop_min_scale, o.flip_p, g.device);
  x = with_probability(x, o.jitter_p, g.device, [&](const torch::Tensor& t) { return color_jitter(t, o, g); });
  if (x.size(1) == 3) {
    x = with_probability(x, o.gray_p, g.device, [](const torch::Tensor& t) { return grayscale(t).expand_as(t); });
  }
  x = with_probability(x, o.solarize_p, g.device,
                       [](const torch::Tensor& t) { return torch::where(t >= 0.5, 1.0 - t, t); });
  return normalize(x);
}

at::Tensor Augmenter::view(const at::Tensor& unit, const ViewAugmentOptions& o) const {
  return view(unit, o, AugmentGenerators::defaults(unit.device()));
}

}  // namespace semharness
