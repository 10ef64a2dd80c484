#pragma once
// VICReg's options and recipe; its heads and loss are in vicreg.h.
#include <cstdint>
#include <memory>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct VICRegOptions {
  static constexpr const char* kName = "vicreg";
  static constexpr const char* kKeyPrefix = "vicreg";
  static constexpr const char* kHeads = "3-layer projector with BN; invariance / variance / covariance with weights";
  static constexpr const char* kSemTemperatures = "`tau_online` for both views";
  static ProjectorRecipe projector() {
    ProjectorRecipe recipe;
    recipe.layers = 3;
    return recipe;
  }
  // The authors' VICReg script: crops of at least 20% of the image, solarize with probability 0.1 on both
  // views (SPEC §7).
  static AugmentRecipe augment() {
    AugmentRecipe recipe;
    for (ViewAugmentOptions* view : {&recipe.view1, &recipe.view2}) {
      view->crop_min_scale = 0.2;
      view->solarize_p = 0.1;
    }
    return recipe;
  }
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(double, sim_weight) = 25.0;  // invariance
  SEMHARNESS_ARG(double, var_weight) = 25.0;  // variance (hinge at std 1)
  SEMHARNESS_ARG(double, cov_weight) = 1.0;   // covariance

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(sim_weight_, "sim_weight", nonnegative(), "VICReg invariance weight");
    v(var_weight_, "var_weight", nonnegative(), "VICReg variance weight");
    v(cov_weight_, "cov_weight", nonnegative(), "VICReg covariance weight");
  }
};

}  // namespace semharness
