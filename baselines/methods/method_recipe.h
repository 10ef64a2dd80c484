#pragma once
// What a method prescribes beyond its loss, torch-free: the shape of its projector and the augmentation of
// each of its two views (SPEC §3). Each method's options struct returns its own recipe.
#include <initializer_list>

namespace semharness {

// The projector's shape; widths come from the grid (proj.hidden, proj.out).
// SimCLR/MoCo: 2 layers without BN; BYOL, SwAV: 2 layers with BN; Barlow Twins, VICReg, DINO: 3 layers.
struct ProjectorRecipe {
  int layers = 2;          // Linear layers
  bool batch_norm = true;  // BatchNorm1d after each hidden Linear
  bool gelu = false;       // GELU instead of ReLU (DINO)
  double init_std = 0.0;   // > 0: truncated-normal Linear weights, zero biases (DINO); 0: LibTorch's default
};

// One view's augmentation (SPEC §3): random resized crop and flip, colour jitter in random order, grayscale,
// solarize.
struct ViewAugmentOptions {
  double crop_min_scale = 0.08;
  double flip_p = 0.5;
  double jitter_p = 0.8;
  double brightness = 0.4, contrast = 0.4, saturation = 0.2, hue = 0.1;
  double gray_p = 0.2;
  double solarize_p = 0.0;
};

struct AugmentRecipe {
  ViewAugmentOptions view1, view2;
};

// The asymmetric recipe of BYOL (and of Barlow Twins and DINO, which take it over): solarize with
// probability 0.2 on the second view only.
inline AugmentRecipe solarized_second_view() {
  AugmentRecipe recipe;
  recipe.view2.solarize_p = 0.2;
  return recipe;
}

// SimCLR's strong colour jitter (brightness, contrast, saturation 0.8, hue 0.2) on both views; the authors'
// SwAV script uses it too (SPEC §7).
inline AugmentRecipe strong_jitter() {
  AugmentRecipe recipe;
  for (ViewAugmentOptions* view : {&recipe.view1, &recipe.view2}) {
    view->brightness = view->contrast = view->saturation = 0.8;
    view->hue = 0.2;
  }
  return recipe;
}

}  // namespace semharness
