#pragma once
// Pillow's Image.resize(size, filter, box) on 8-bit RGB, to the integer (ImagingResample, libImaging/Resample.c):
// separable, horizontal pass first over the rows the vertical pass needs, each output pixel a window of the
// filter stretched by the reduction factor (antialiasing), weights normalised and rounded to 22-bit fixed
// point, each pass rounded and clipped to 8 bits. torchvision's RandomResizedCrop on PIL images (the authors'
// pipeline) is this with the crop box and BICUBIC.
#include <cstdint>

#include "harness/data/images/image_decode.h"

namespace semharness {

enum class ResampleFilter { bilinear, bicubic };

// A box of the source in (fractional) pixels, Pillow's (left, upper, right, lower).
struct SourceBox {
  double left = 0, top = 0, right = 0, bottom = 0;
};

// Resamples `box` of an image whose pixels [region] are in `source` (a window of a larger image of
// full_height x full_width: Pillow clips each filter window to the whole image, so `source` must hold every
// pixel the windows reach inside it: see resample_margin) into out_height x out_width pixels, written
// interleaved RGB to `out` (out_height * out_width * 3 bytes, row stride out_width * 3).
void resample_rgb(const RgbImage& source, const PixelBox& region, int64_t full_height, int64_t full_width,
                  const SourceBox& box, int64_t out_height, int64_t out_width, ResampleFilter filter, uint8_t* out);

// The rows (or columns) [first, last) of an axis of `size` pixels that the windows of resampling
// [start, end) to `out` pixels reach, clipped to the axis.
struct AxisSpan {
  int64_t first = 0, last = 0;
};
AxisSpan resample_span(double start, double end, int64_t out, int64_t size, ResampleFilter filter);

}  // namespace semharness
