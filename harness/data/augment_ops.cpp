#include "harness/data/augment_ops.h"

#include <array>
#include <cmath>

#include <torch/torch.h>

namespace semharness {
namespace {

torch::Tensor per_sample(const torch::Tensor& v) { return v.reshape({-1, 1, 1, 1}); }

// torchvision's _blend for floats: (ratio * a + (1 - ratio) * b) clamped to [0, 1].
torch::Tensor blend(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& ratio) {
  const auto r = per_sample(ratio).to(a.scalar_type());
  return (r * a + (1.0 - r) * b).clamp(0.0, 1.0);
}

// The antialiased bicubic filter of PyTorch's interpolate: Keys' cubic convolution with a = -0.5.
torch::Tensor keys_cubic(const torch::Tensor& t) {
  constexpr double a = -0.5;
  const auto x = t.abs();
  const auto near = ((a + 2) * x - (a + 3)) * x * x + 1;
  const auto far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return torch::where(x < 1, near, torch::where(x < 2, far, torch::zeros_like(x)));
}

// x with `op(images, factors)` applied to the images where `selected` (bool [B]) is set. On the CPU the op runs
// on those images alone, gathered and put back; on an accelerator on the whole batch, the result selected per
// image: four times the work of ColorJitter's ops, but no host read of how many images were selected.
template <typename Op>
torch::Tensor apply_to_selected(const torch::Tensor& x, const torch::Tensor& selected, const torch::Tensor& factor,
                                Op op) {
  if (!x.device().is_cpu()) return torch::where(per_sample(selected), op(x, factor), x);
  const auto index = selected.nonzero().squeeze(1);
  if (index.numel() == 0) return x;
  return x.index_copy(0, index, op(x.index_select(0, index), factor.index_select(0, index)));
}

// The three planes of an image batch in HSV (or RGB): [B, H, W] each.
using Planes = std::array<torch::Tensor, 3>;

Planes rgb_to_hsv(const torch::Tensor& x) {
  const auto r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
  const auto maxc = std::get<0>(x.max(1)), minc = std::get<0>(x.min(1));
  const auto eqc = maxc == minc;
  const auto cr = maxc - minc;
  const auto ones = torch::ones_like(maxc);
  const auto s = cr / torch::where(eqc, ones, maxc);
  const auto divisor = torch::where(eqc, ones, cr);
  const auto rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
  const auto hr = (maxc == r).to(x.scalar_type()) * (bc - gc);
  const auto hg = ((maxc == g) & (maxc != r)).to(x.scalar_type()) * (2.0 + rc - bc);
  const auto hb = ((maxc != g) & (maxc != r)).to(x.scalar_type()) * (4.0 + gc - rc);
  return {torch::fmod((hr + hg + hb) / 6.0 + 1.0, 1.0), s, maxc};
}

// torchvision's _hsv2rgb picks p = v(1 - s), q = v(1 - s f), t = v(1 - s(1 - f)) or v per channel by the
// sector of h; the same values in closed form (each channel v - v s clamp(min(k, 4 - k), 0, 1) with
// k = (n + 6h) mod 6, n = 5, 3, 1 for r, g, b), a third of the ops.
torch::Tensor hsv_to_rgb(const Planes& hsv) {
  const auto h6 = hsv[0] * 6.0;
  const auto& v = hsv[2];
  const auto vs = v * hsv[1];
  const auto channel = [&](double n) {
    const auto k = torch::fmod(h6 + n, 6.0);
    return v - vs * torch::minimum(k, 4.0 - k).clamp(0.0, 1.0);
  };
  return torch::stack({channel(5), channel(3), channel(1)}, 1);
}

}  // namespace

CropBoxes sample_crop_boxes(int64_t b, int64_t height, int64_t width, double min_scale, double max_scale,
                            const at::Generator& generator) {
  constexpr int64_t kTries = 10;
  const double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;
  const auto options = torch::TensorOptions().dtype(torch::kDouble).device(generator.device());
  const double area = static_cast<double>(height * width);
  const auto target = area * (torch::rand({b, kTries}, generator, options) * (max_scale - min_scale) + min_scale);
  const auto log_ratio =
      torch::rand({b, kTries}, generator, options) * (std::log(max_ratio) - std::log(min_ratio)) + std::log(min_ratio);
  const auto ratio = torch::exp(log_ratio);
  const auto w = torch::round(torch::sqrt(target * ratio));
  const auto h = torch::round(torch::sqrt(target / ratio));
  const auto fits = (w > 0) & (w <= width) & (h > 0) & (h <= height);
  // The first try that fits (argmax of the first maximum), and whether any did.
  const auto first = fits.to(torch::kInt).argmax(1, /*keepdim=*/true);
  const auto any = fits.any(1);
  // The centre crop after ten misses, as get_params computes it.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  double fallback_w = static_cast<double>(width), fallback_h = static_cast<double>(height);
  if (in_ratio < min_ratio) fallback_h = std::nearbyint(fallback_w / min_ratio);
  if (in_ratio > max_ratio) fallback_w = std::nearbyint(fallback_h * max_ratio);
  const auto box_w = torch::where(any, w.gather(1, first).squeeze(1), torch::full({b}, fallback_w, options));
  const auto box_h = torch::where(any, h.gather(1, first).squeeze(1), torch::full({b}, fallback_h, options));
  // A uniform integer in [0, n) as floor(U * n), kept below n.
  const auto position = [&](const torch::Tensor& room) {
    return torch::minimum(torch::floor(torch::rand({b}, generator, options) * (room + 1)), room);
  };
  const auto top = torch::where(any, position(height - box_h), torch::floor((height - box_h) / 2));
  const auto left = torch::where(any, position(width - box_w), torch::floor((width - box_w) / 2));
  return {top.to(torch::kLong), left.to(torch::kLong), box_h.to(torch::kLong), box_w.to(torch::kLong)};
}

torch::Tensor resize_weights(const torch::Tensor& start, const torch::Tensor& length, int64_t in, int64_t size) {
  const auto options = torch::TensorOptions().dtype(torch::kDouble).device(start.device());
  const auto n = length.to(torch::kDouble).view({-1, 1, 1});  // [B, 1, 1]
  const auto scale = n / static_cast<double>(size);           // crop / output
  const auto support = 2.0 * torch::clamp_min(scale, 1.0);    // bicubic: 2 taps a side
  const auto inv_scale = torch::where(scale >= 1.0, 1.0 / scale, torch::ones_like(scale));
  const auto o = torch::arange(size, options).view({1, -1, 1});  // output pixel
  const auto u = torch::arange(in, options).view({1, 1, -1}) - start.to(torch::kDouble).view({-1, 1, 1});  // crop pixel
  const auto center = scale * (o + 0.5);
  const auto low = torch::clamp_min(torch::floor(center - support + 0.5), 0.0);
  const auto high = torch::minimum(torch::floor(center + support + 0.5), n);
  const auto inside = ((u >= low) & (u < high)).to(torch::kDouble);
  const auto weights = keys_cubic((u - center + 0.5) * inv_scale) * inside;
  const auto total = weights.sum(2, /*keepdim=*/true);
  return weights / torch::where(total != 0, total, torch::ones_like(total));
}

torch::Tensor resized_crop(const torch::Tensor& x, const CropBoxes& boxes, int64_t out_height, int64_t out_width,
                           const torch::Tensor& flip) {
  const auto rows = resize_weights(boxes.top, boxes.height, x.size(2), out_height).to(x.scalar_type());
  auto cols = resize_weights(boxes.left, boxes.width, x.size(3), out_width).to(x.scalar_type());
  cols = torch::where(flip.view({-1, 1, 1}), cols.flip({1}), cols);
  // out[b, c] = rows[b] @ x[b, c] @ cols[b]^T
  return torch::matmul(torch::matmul(rows.unsqueeze(1), x), cols.transpose(1, 2).unsqueeze(1));
}

torch::Tensor rgb_to_grayscale(const torch::Tensor& x) {
  if (x.size(1) != 3) return x;
  return (0.2989 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
}

// torchvision blends with a black image: factor * x + (1 - factor) * 0, which is factor * x exactly.
torch::Tensor adjust_brightness(const torch::Tensor& x, const torch::Tensor& factor) {
  return (per_sample(factor).to(x.scalar_type()) * x).clamp(0.0, 1.0);
}

torch::Tensor adjust_contrast(const torch::Tensor& x, const torch::Tensor& factor) {
  return blend(x, rgb_to_grayscale(x).mean({1, 2, 3}, /*keepdim=*/true), factor);
}

torch::Tensor adjust_saturation(const torch::Tensor& x, const torch::Tensor& factor) {
  if (x.size(1) != 3) return x;
  return blend(x, rgb_to_grayscale(x), factor);
}

torch::Tensor adjust_hue(const torch::Tensor& x, const torch::Tensor& shift) {
  if (x.size(1) != 3) return x;
  Planes hsv = rgb_to_hsv(x);
  hsv[0] = torch::remainder(hsv[0] + shift.view({-1, 1, 1}).to(x.scalar_type()), 1.0);
  return hsv_to_rgb(hsv);
}

torch::Tensor solarize(const torch::Tensor& x) { return torch::where(x >= 0.5, 1.0 - x, x); }

torch::Tensor color_jitter(const torch::Tensor& x, const torch::Tensor& order, const torch::Tensor& brightness,
                           const torch::Tensor& contrast, const torch::Tensor& saturation, const torch::Tensor& hue) {
  const bool rgb = x.size(1) == 3;
  auto out = x;
  for (int64_t k = 0; k < 4; ++k) {
    const auto op = order.select(1, k);
    if (brightness.defined()) out = apply_to_selected(out, op == 0, brightness, adjust_brightness);
    if (contrast.defined()) out = apply_to_selected(out, op == 1, contrast, adjust_contrast);
    if (rgb && saturation.defined()) out = apply_to_selected(out, op == 2, saturation, adjust_saturation);
    if (rgb && hue.defined()) out = apply_to_selected(out, op == 3, hue, adjust_hue);
  }
  return out;
}

}  // namespace semharness
