#pragma once
// The augmentation ops as torchvision defines them for float tensors in [0, 1] (transforms/_functional_tensor.py
// and RandomResizedCrop.get_params; SPEC §3 and §7), batched: every op takes per-image parameters as [B]
// tensors on the images' device, so that a batch is augmented without a host synchronisation. Augmenter
// (augment.h) draws the parameters and chains the ops; tests check each op against torchvision's numbers.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace semharness {

// Crop boxes in pixels, int64 [B] each: top row, left column, height, width.
struct CropBoxes {
  at::Tensor top, left, height, width;
};

// RandomResizedCrop.get_params for each of b images of height x width: up to 10 tries of an area fraction
// U(min_scale, max_scale) and a log-uniform aspect ratio in [3/4, 4/3], the box's sides rounded (half to even)
// and kept when they fit, its corner then uniform over the positions; after 10 misses the centre crop with
// the ratio clamped. Draws from `generator` on its device.
CropBoxes sample_crop_boxes(int64_t b, int64_t height, int64_t width, double min_scale, double max_scale,
                            const at::Generator& generator);

// Resampling weights [B, size, in] of torchvision's resize (bicubic, antialias, align_corners = false) of the
// pixels [start, start + length) of an axis of `in` pixels to `size` pixels: each output pixel a normalised
// Keys cubic (a = -0.5) over the crop's pixels, scaled by the crop / output ratio when shrinking.
at::Tensor resize_weights(const at::Tensor& start, const at::Tensor& length, int64_t in, int64_t size);

// F.resized_crop(x, box, [out_height, out_width], BICUBIC, antialias=True) per image, then a horizontal flip
// where `flip` (bool [B]) is set. x: float [B, C, H, W]; not clamped (torchvision does not clamp floats;
// Augmenter::view does, as the authors' 8-bit PIL pipeline must).
at::Tensor resized_crop(const at::Tensor& x, const CropBoxes& boxes, int64_t out_height, int64_t out_width,
                        const at::Tensor& flip);

// F.rgb_to_grayscale: 0.2989 R + 0.587 G + 0.114 B, [B, 1, H, W]; a one-channel image is returned as it is.
at::Tensor rgb_to_grayscale(const at::Tensor& x);
// F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue with a factor per image (float
// [B]); saturation and hue leave one-channel images unchanged, as torchvision does.
at::Tensor adjust_brightness(const at::Tensor& x, const at::Tensor& factor);
at::Tensor adjust_contrast(const at::Tensor& x, const at::Tensor& factor);
at::Tensor adjust_saturation(const at::Tensor& x, const at::Tensor& factor);
at::Tensor adjust_hue(const at::Tensor& x, const at::Tensor& shift);
// F.solarize(x, 0.5): pixels >= 0.5 become 1 - x.
at::Tensor solarize(const at::Tensor& x);

// ColorJitter with per-image factors and order: order [B, 4] int64 holds a permutation of 0..3 per image
// (0 brightness, 1 contrast, 2 saturation, 3 hue), applied left to right; a factor tensor left undefined
// skips its op (ColorJitter's None).
at::Tensor color_jitter(const at::Tensor& x, const at::Tensor& order, const at::Tensor& brightness,
                        const at::Tensor& contrast, const at::Tensor& saturation, const at::Tensor& hue);

}  // namespace semharness
