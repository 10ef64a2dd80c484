// Decoding an image folder's views on one core (harness/data/images/): items/s is images per second per core,
// the figure that says how many decode threads keep a GPU fed (a pool of T threads decodes about T times as
// many). The files are 16 synthetic 500 x 375 JPEGs (ImageNet's most common size) at quality 90, in memory,
// so that the disk is not measured.
//   image_folder/train_view/N:..   RandomResizedCrop(N, scale 0.08-1) + flip, bicubic: pretraining's view
//   image_folder/eval_view/N:..    Resize(N * 256 / 224) + CenterCrop(N), bilinear: the probes' images
// N:64 is the tiny size `bench --smoke` runs; N:224 is ImageNet's.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "harness/data/images/crop_sampler.h"
#include "harness/data/images/image_decode.h"

namespace semharness {
namespace {

const std::vector<std::vector<uint8_t>>& jpeg_files() {
  static const std::vector<std::vector<uint8_t>> files = [] {
    std::vector<std::vector<uint8_t>> out;
    for (int k = 0; k < 16; ++k) {
      RgbImage image;
      image.height = 375;
      image.width = 500;
      image.pixels.resize(375 * 500 * 3);
      for (int64_t y = 0; y < image.height; ++y) {
        for (int64_t x = 0; x < image.width; ++x) {
          for (int c = 0; c < 3; ++c) {
            const double wave = std::sin(0.013 * (c + 1 + k) * y + 0.021 * x + k) * std::cos(0.05 * x * (c + 1));
            image.pixels[static_cast<size_t>((y * image.width + x) * 3 + c)] =
                static_cast<uint8_t>(128 + 100 * wave + ((x * 7 + y * 13 + c) % 17));
          }
        }
      }
      out.push_back(encode_jpeg(image, 90));
    }
    return out;
  }();
  return files;
}

template <bool Train>
void decode_views(benchmark::State& state) {
  const int64_t out = state.range(0);
  const auto& files = jpeg_files();
  std::vector<uint8_t> pixels(static_cast<size_t>(3 * out * out));
  int64_t i = 0;
  for (auto _ : state) {
    const auto& bytes = files[static_cast<size_t>(i % 16)];
    SampleRandom random(0, 0, static_cast<uint64_t>(i), 0);
    if (Train) {
      const PixelBox box = random_resized_crop_box(375, 500, 0.08, 1.0, random);
      const SourceBox source{double(box.left), double(box.top), double(box.left + box.width),
                             double(box.top + box.height)};
      decode_view(bytes, "bench.JPEG", source, out, ResampleFilter::bicubic, random.uniform() < 0.5, pixels.data());
    } else {
      decode_view(bytes, "bench.JPEG", centre_crop_box(375, 500, out, out * 256 / 224), out, ResampleFilter::bilinear,
                  false, pixels.data());
    }
    benchmark::DoNotOptimize(pixels.data());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

const bool registered = [] {
  for (auto [name, fn] : {std::pair{"image_folder/train_view", &decode_views<true>},
                          std::pair{"image_folder/eval_view", &decode_views<false>}}) {
    benchmark::RegisterBenchmark(name, fn)->ArgName("N")->Arg(64)->Arg(224)->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace semharness
