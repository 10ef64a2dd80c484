#include "harness/data/images/resample.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace semharness {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

double filter_support(ResampleFilter filter) { return filter == ResampleFilter::bicubic ? 2.0 : 1.0; }

double filter_weight(ResampleFilter filter, double x) {
  x = std::fabs(x);
  if (filter == ResampleFilter::bilinear) return x < 1.0 ? 1.0 - x : 0.0;
  constexpr double a = -0.5;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc: for each output pixel its first input pixel, its count
// and its fixed-point weights (ksize per output pixel). start and end are floats, as Pillow parses the box.
struct AxisWeights {
  int64_t ksize = 0;
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;
};

AxisWeights axis_weights(float start, float end, int64_t out, int64_t size, ResampleFilter filter) {
  const double scale = static_cast<double>(end - start) / static_cast<double>(out);
  const double filterscale = std::max(scale, 1.0);
  const double support = filter_support(filter) * filterscale;
  AxisWeights w;
  w.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  w.first.resize(static_cast<size_t>(out));
  w.count.resize(static_cast<size_t>(out));
  w.weights.assign(static_cast<size_t>(out * w.ksize), 0);
  std::vector<double> k(static_cast<size_t>(w.ksize));
  for (int64_t xx = 0; xx < out; ++xx) {
    const double center = start + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int64_t xmin = std::max<int64_t>(static_cast<int>(center - support + 0.5), 0);
    const int64_t xmax = std::min<int64_t>(static_cast<int>(center + support + 0.5), size) - xmin;
    double total = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      k[static_cast<size_t>(x)] = filter_weight(filter, (x + xmin - center + 0.5) * ss);
      total += k[static_cast<size_t>(x)];
    }
    for (int64_t x = 0; x < xmax; ++x) {
      const double normalised = total != 0.0 ? k[static_cast<size_t>(x)] / total : k[static_cast<size_t>(x)];
      const double fixed = normalised * (1 << kPrecisionBits);
      w.weights[static_cast<size_t>(xx * w.ksize + x)] = static_cast<int32_t>(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
    }
    w.first[static_cast<size_t>(xx)] = xmin;
    w.count[static_cast<size_t>(xx)] = std::max<int64_t>(xmax, 0);
  }
  return w;
}

uint8_t clip8(int64_t accumulated) {
  return static_cast<uint8_t>(std::clamp<int64_t>(accumulated >> kPrecisionBits, 0, 255));
}

}  // namespace

AxisSpan resample_span(double start, double end, int64_t out, int64_t size, ResampleFilter filter) {
  const AxisWeights w = axis_weights(static_cast<float>(start), static_cast<float>(end), out, size, filter);
  return {w.first.front(), w.first.back() + w.count.back()};
}

void resample_rgb(const RgbImage& source, const PixelBox& region, int64_t full_height, int64_t full_width,
                  const SourceBox& box, int64_t out_height, int64_t out_width, ResampleFilter filter, uint8_t* out) {
  if (out_height <= 0 || out_width <= 0) throw std::invalid_argument("resample_rgb: empty output");
  const AxisWeights horizontal =
      axis_weights(static_cast<float>(box.left), static_cast<float>(box.right), out_width, full_width, filter);
  const AxisWeights vertical =
      axis_weights(static_cast<float>(box.top), static_cast<float>(box.bottom), out_height, full_height, filter);
  const int64_t row_first = vertical.first.front();
  const int64_t row_last = vertical.first.back() + vertical.count.back();
  const int64_t column_first = horizontal.first.front();
  const int64_t column_last = horizontal.first.back() + horizontal.count.back();
  if (row_first < region.top || row_last > region.top + region.height || column_first < region.left ||
      column_last > region.left + region.width) {
    throw std::invalid_argument("resample_rgb: the source region does not hold every pixel the filter reaches");
  }
  // Horizontal pass over the rows the vertical pass reads, into 8-bit pixels as Pillow's imTemp.
  const int64_t rows = row_last - row_first;
  std::vector<uint8_t> temporary(static_cast<size_t>(rows * out_width * 3));
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* in = source.row(row_first + y - region.top);
    uint8_t* dest = temporary.data() + y * out_width * 3;
    for (int64_t xx = 0; xx < out_width; ++xx) {
      const int32_t* k = horizontal.weights.data() + xx * horizontal.ksize;
      const uint8_t* pixel = in + (horizontal.first[static_cast<size_t>(xx)] - region.left) * 3;
      int64_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
      for (int64_t x = 0; x < horizontal.count[static_cast<size_t>(xx)]; ++x, pixel += 3) {
        r += pixel[0] * int64_t{k[x]};
        g += pixel[1] * int64_t{k[x]};
        b += pixel[2] * int64_t{k[x]};
      }
      dest[xx * 3 + 0] = clip8(r);
      dest[xx * 3 + 1] = clip8(g);
      dest[xx * 3 + 2] = clip8(b);
    }
  }
  // Vertical pass.
  for (int64_t yy = 0; yy < out_height; ++yy) {
    const int32_t* k = vertical.weights.data() + yy * vertical.ksize;
    const int64_t first = vertical.first[static_cast<size_t>(yy)] - row_first;
    const int64_t count = vertical.count[static_cast<size_t>(yy)];
    uint8_t* dest = out + yy * out_width * 3;
    for (int64_t i = 0; i < out_width * 3; ++i) {
      int64_t sum = 1 << (kPrecisionBits - 1);
      for (int64_t y = 0; y < count; ++y)
        sum += temporary[static_cast<size_t>((first + y) * out_width * 3 + i)] * int64_t{k[y]};
      dest[i] = clip8(sum);
    }
  }
}

}  // namespace semharness
