// Synthetic 3x16x16 ten-class images for tests and smoke runs.
//
// Random draws come from std::mt19937_64 through our own uniform/normal transforms, because the standard
// library's distributions are implementation-defined and the data must be the same wherever it is built.
#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/data/image_set.h"

namespace semharness {
namespace {

constexpr int64_t kChannels = 3;
constexpr int64_t kSide = 16;
constexpr int64_t kClasses = 10;
constexpr int64_t kGridSide = 5;       // template control points per side, bilinearly upsampled to kSide
constexpr double kTemplateLow = 30.0;  // template values stay inside [low, high] so noise rarely clips
constexpr double kTemplateHigh = 225.0;
constexpr double kNoiseStd = 25.0;
constexpr int64_t kMaxShift = 2;
constexpr double kPi = 3.14159265358979323846;

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, bound).
  int64_t below(int64_t bound) {
    return std::min(static_cast<int64_t>(uniform() * static_cast<double>(bound)), bound - 1);
  }

  // Standard normal by Box-Muller (one value per pair of uniforms; simplicity over speed).
  double normal() {
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));  // 1 - u is in (0, 1]
    return radius * std::cos(2.0 * kPi * uniform());
  }

 private:
  std::mt19937_64 engine_;
};

using Template = std::vector<double>;  // kChannels * kSide * kSide, CHW

Template make_template(Random& random) {
  std::vector<double> grid(kChannels * kGridSide * kGridSide);
  for (double& value : grid) value = kTemplateLow + (kTemplateHigh - kTemplateLow) * random.uniform();

  Template result(kChannels * kSide * kSide);
  const double scale = static_cast<double>(kGridSide - 1) / static_cast<double>(kSide - 1);
  for (int64_t c = 0; c < kChannels; ++c) {
    const double* g = grid.data() + c * kGridSide * kGridSide;
    for (int64_t y = 0; y < kSide; ++y) {
      const double gy = static_cast<double>(y) * scale;
      const int64_t y0 = std::min(static_cast<int64_t>(gy), kGridSide - 2);
      const double fy = gy - static_cast<double>(y0);
      for (int64_t x = 0; x < kSide; ++x) {
        const double gx = static_cast<double>(x) * scale;
        const int64_t x0 = std::min(static_cast<int64_t>(gx), kGridSide - 2);
        const double fx = gx - static_cast<double>(x0);
        const double top = g[y0 * kGridSide + x0] * (1 - fx) + g[y0 * kGridSide + x0 + 1] * fx;
        const double bottom = g[(y0 + 1) * kGridSide + x0] * (1 - fx) + g[(y0 + 1) * kGridSide + x0 + 1] * fx;
        result[(c * kSide + y) * kSide + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return result;
}

// Labels 0..9 repeated (balanced to within one per class), then Fisher-Yates shuffled.
std::vector<int64_t> balanced_labels(int64_t n, Random& random) {
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = i % kClasses;
  for (int64_t i = n - 1; i > 0; --i) std::swap(labels[i], labels[random.below(i + 1)]);
  return labels;
}

ImageSet make_images(int64_t n, const std::vector<Template>& templates, Random& random) {
  ImageSet set;
  set.n = n;
  set.channels = kChannels;
  set.height = kSide;
  set.width = kSide;
  set.labels = balanced_labels(n, random);
  set.pixels.resize(n * kChannels * kSide * kSide);

  for (int64_t i = 0; i < n; ++i) {
    const Template& source = templates[set.labels[i]];
    const int64_t dy = random.below(2 * kMaxShift + 1) - kMaxShift;
    const int64_t dx = random.below(2 * kMaxShift + 1) - kMaxShift;
    uint8_t* image = set.pixels.data() + i * kChannels * kSide * kSide;
    for (int64_t c = 0; c < kChannels; ++c) {
      for (int64_t y = 0; y < kSide; ++y) {
        const int64_t sy = std::clamp<int64_t>(y - dy, 0, kSide - 1);
        for (int64_t x = 0; x < kSide; ++x) {
          const int64_t sx = std::clamp<int64_t>(x - dx, 0, kSide - 1);
          const double value = source[(c * kSide + sy) * kSide + sx] + kNoiseStd * random.normal();
          image[(c * kSide + y) * kSide + x] = static_cast<uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
        }
      }
    }
  }
  return set;
}

}  // namespace

Dataset make_synthetic(int64_t n_train, int64_t n_test, uint64_t seed) {
  if (n_train < 1 || n_test < 0) {
    throw std::invalid_argument("make_synthetic: needs n_train >= 1 and n_test >= 0, got " + std::to_string(n_train) +
                                " and " + std::to_string(n_test));
  }
  Random random(seed);
  std::vector<Template> templates;
  for (int64_t k = 0; k < kClasses; ++k) templates.push_back(make_template(random));

  Dataset dataset;
  dataset.train = make_images(n_train, templates, random);
  dataset.test = make_images(n_test, templates, random);

  DatasetInfo& info = dataset.info;
  info.name = "synthetic";
  info.num_classes = kClasses;
  for (int64_t k = 0; k < kClasses; ++k) info.class_names.push_back("class" + std::to_string(k));

  // Per-channel mean and std of the train pixels on the 0..1 scale, as for the real datasets.
  const int64_t plane = kSide * kSide;
  for (int64_t c = 0; c < kChannels; ++c) {
    double sum = 0, sum_squares = 0;
    for (int64_t i = 0; i < n_train; ++i) {
      const uint8_t* pixels = dataset.train.pixels.data() + (i * kChannels + c) * plane;
      for (int64_t p = 0; p < plane; ++p) {
        const double value = pixels[p] / 255.0;
        sum += value;
        sum_squares += value * value;
      }
    }
    const double count = static_cast<double>(n_train * plane);
    const double mean = sum / count;
    info.mean.push_back(mean);
    info.std.push_back(std::sqrt(std::max(sum_squares / count - mean * mean, 0.0)));
  }
  return dataset;
}

}  // namespace semharness
