#pragma once
// Where each decoded view's pixels come from: torchvision's RandomResizedCrop box and flip for training, the
// Resize + CenterCrop box for evaluation, and the random stream of one sample's view, keyed by
// (seed, epoch, index, view) so that a batch decoded on any number of threads, in any order, is the same.
#include <cstdint>

#include "harness/data/images/image_decode.h"
#include "harness/data/images/resample.h"

namespace semharness {

// SplitMix64 over a key mixed from the four numbers: independent streams per sample and view, no state shared
// between threads.
class SampleRandom {
 public:
  SampleRandom(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t view);
  uint64_t next();
  double uniform();                      // [0, 1), 53 bits
  double uniform(double lo, double hi);  // [lo, hi)
  int64_t below(int64_t n);              // [0, n), n > 0, without modulo bias

 private:
  uint64_t state_;
};

// RandomResizedCrop.get_params(img, scale=(min_scale, max_scale), ratio=(3/4, 4/3)): up to 10 tries of an
// area fraction and a log-uniform aspect ratio, the sides rounded half to even and kept when they fit, the
// corner uniform; after 10 misses the centre crop with the ratio clamped.
PixelBox random_resized_crop_box(int64_t height, int64_t width, double min_scale, double max_scale,
                                 SampleRandom& random);

// Resize(resize_size) then CenterCrop(crop_size), as one box of the original image: the centred
// crop_size / resize_size share of the shorter side, square (torchvision's evaluation transform of ImageNet,
// 224 of 256, in one resampling instead of two).
SourceBox centre_crop_box(int64_t height, int64_t width, int64_t crop_size, int64_t resize_size);

// The JPEG decode scale (1, 2, 4 or 8) for a box that becomes out x out pixels: the largest whose scaled box
// still has at least out pixels on each side, so that DCT scaling never costs resolution the output keeps.
int decode_scale_for(const SourceBox& box, int64_t out);

// One view: the box of the file's image resampled to out x out with `filter` (a JPEG first decoded at
// decode_scale_for's scale, only the rows and iMCU columns the filter reaches), mirrored when `flip`; written
// planar (3 x out x out bytes, the tensor layout) to `out_chw`.
void decode_view(const std::vector<uint8_t>& bytes, const std::string& path, const SourceBox& box, int64_t out,
                 ResampleFilter filter, bool flip, uint8_t* out_chw);

}  // namespace semharness
