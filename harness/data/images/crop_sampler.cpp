#include "harness/data/images/crop_sampler.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace semharness {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Python's round(): half to even (the default floating-point rounding mode).
int64_t round_half_even(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

}  // namespace

SampleRandom::SampleRandom(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t view) : state_(seed) {
  for (uint64_t part : {epoch, index, view}) {
    uint64_t mixed = state_ ^ (part * 0xd6e8feb86659fd93ULL);
    state_ = splitmix64(mixed);
  }
}

uint64_t SampleRandom::next() { return splitmix64(state_); }

double SampleRandom::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double SampleRandom::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int64_t SampleRandom::below(int64_t n) {
  const uint64_t bound = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t draw;
  do draw = next();
  while (draw >= limit);
  return static_cast<int64_t>(draw % bound);
}

PixelBox random_resized_crop_box(int64_t height, int64_t width, double min_scale, double max_scale,
                                 SampleRandom& random) {
  const double area = static_cast<double>(height * width);
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * random.uniform(min_scale, max_scale);
    const double aspect = std::exp(random.uniform(log_lo, log_hi));
    const int64_t w = round_half_even(std::sqrt(target_area * aspect));
    const int64_t h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int64_t top = random.below(height - h + 1);
      const int64_t left = random.below(width - w + 1);
      return {top, left, h, w};
    }
  }
  const double ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (ratio < 3.0 / 4.0) {
    h = round_half_even(static_cast<double>(w) / (3.0 / 4.0));
  } else if (ratio > 4.0 / 3.0) {
    w = round_half_even(static_cast<double>(h) * (4.0 / 3.0));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

SourceBox centre_crop_box(int64_t height, int64_t width, int64_t crop_size, int64_t resize_size) {
  const double side =
      static_cast<double>(std::min(height, width)) * static_cast<double>(crop_size) / static_cast<double>(resize_size);
  const double top = (static_cast<double>(height) - side) / 2, left = (static_cast<double>(width) - side) / 2;
  return {left, top, left + side, top + side};
}

int decode_scale_for(const SourceBox& box, int64_t out) {
  const double shorter = std::min(box.right - box.left, box.bottom - box.top);
  for (int scale : {8, 4, 2}) {
    if (shorter >= static_cast<double>(out * scale)) return scale;
  }
  return 1;
}

void decode_view(const std::vector<uint8_t>& bytes, const std::string& path, const SourceBox& box, int64_t out,
                 ResampleFilter filter, bool flip, uint8_t* out_chw) {
  const ImageSize size = read_image_size(bytes, path);
  const int scale = sniff_image_format(bytes, path) == ImageFormat::jpeg ? decode_scale_for(box, out) : 1;
  // Pillow's draft(): the scaled image is ceil(size / scale) and its box the original's divided by scale.
  const int64_t scaled_height = (size.height + scale - 1) / scale, scaled_width = (size.width + scale - 1) / scale;
  const SourceBox scaled{box.left / scale, box.top / scale, box.right / scale, box.bottom / scale};
  const AxisSpan rows = resample_span(scaled.top, scaled.bottom, out, scaled_height, filter);
  const AxisSpan columns = resample_span(scaled.left, scaled.right, out, scaled_width, filter);
  const DecodedRegion decoded = decode_region(
      bytes, path, scale, {rows.first, columns.first, rows.last - rows.first, columns.last - columns.first});
  std::vector<uint8_t> interleaved(static_cast<size_t>(out * out * 3));
  resample_rgb(decoded.pixels, decoded.region, decoded.scaled_height, decoded.scaled_width, scaled, out, out, filter,
               interleaved.data());
  const int64_t plane = out * out;
  for (int64_t y = 0; y < out; ++y) {
    for (int64_t x = 0; x < out; ++x) {
      const uint8_t* pixel = interleaved.data() + (y * out + (flip ? out - 1 - x : x)) * 3;
      for (int64_t c = 0; c < 3; ++c) out_chw[c * plane + y * out + x] = pixel[c];
    }
  }
}

}  // namespace semharness
