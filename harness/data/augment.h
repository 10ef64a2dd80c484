#pragma once
// Two-view SSL augmentations as batched tensor ops on the run's device (SPEC §3), each op as torchvision
// defines it (augment_ops.h): random resized crop (10 tries, then the centre crop; bicubic with antialias) with
// horizontal flip, colour jitter in an order drawn per image, grayscale, solarize, normalisation. Random draws
// come from AugmentGenerators, a stream of their own seeded by the run: a run is reproducible, and the next
// batch can be augmented on another thread (pretrain's prefetch) without changing any number.
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "baselines/methods/method_recipe.h"  // ViewAugmentOptions: each method names its own
#include "harness/data/tensors.h"

namespace semharness {

// Augmentation's random stream: every draw is per image, on the images' device, so no value is read back.
struct AugmentGenerators {
  at::Generator device;
  // A fresh generator for device, seeded with seed (independent of the default generators).
  static AugmentGenerators seeded(c10::Device device, uint64_t seed);
  // The default generator of device.
  static AugmentGenerators defaults(c10::Device device);
};

class Augmenter {
 public:
  Augmenter(const std::vector<double>& mean, const std::vector<double>& std, c10::Device device);
  // float [B, C, H, W] in [0, 1] -> normalised.
  at::Tensor normalize(const at::Tensor& unit) const;
  // One augmented, normalised view of a float [B, C, H, W] batch in [0, 1]. Colour steps that need three
  // channels (saturation, hue, grayscale) are skipped on one-channel images.
  at::Tensor view(const at::Tensor& unit, const ViewAugmentOptions& options, const AugmentGenerators& generators) const;
  // The same with the default generators.
  at::Tensor view(const at::Tensor& unit, const ViewAugmentOptions& options) const;
  // The view's steps after the crop and flip (colour, grayscale, solarize, normalisation), for images an
  // image folder's decoder has already cropped and flipped.
  at::Tensor view_of_crops(const at::Tensor& unit, const ViewAugmentOptions& options,
                           const AugmentGenerators& generators) const;

 private:
  at::Tensor mean_, std_;  // [1, C, 1, 1] on the device
};

// Which crop an image folder's decoder draws for a view of a row: (seed, epoch, row, view) alone.
struct FolderViewKey {
  uint64_t seed = 0;
  int64_t epoch = 0;
  int view = 0;
};

// One augmented, normalised view of rows `index` of a split: in-memory images cropped and augmented on the
// device; a folder's files cropped and flipped as they are decoded (keyed by `key`), the rest on the device.
at::Tensor augmented_rows(const TensorSplit& split, const at::Tensor& index, const Augmenter& augmenter,
                          const ViewAugmentOptions& options, const AugmentGenerators& generators,
                          const FolderViewKey& key);

}  // namespace semharness
