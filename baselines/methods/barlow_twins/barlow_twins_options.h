#pragma once
// Barlow Twins' options and recipe; its heads and loss are in barlow_twins.h.
#include <cstdint>
#include <memory>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct BarlowTwinsOptions {
  static constexpr const char* kName = "barlow";
  static constexpr const char* kKeyPrefix = "barlow";
  static constexpr const char* kHeads = "3-layer projector with BN; cross-correlation loss (lambda, scale)";
  static constexpr const char* kSemTemperatures = "view 1 `tau_online`, view 2 `tau_target`";
  static ProjectorRecipe projector() {
    ProjectorRecipe recipe;
    recipe.layers = 3;
    return recipe;
  }
  static AugmentRecipe augment() { return solarized_second_view(); }
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(double, lambda) = 0.0051;  // weight of the off-diagonal terms
  SEMHARNESS_ARG(double, scale) = 0.1;      // the whole loss is multiplied by this

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(lambda_, "lambda", nonnegative(), "Barlow Twins off-diagonal weight");
    v(scale_, "scale", positive(), "Barlow Twins loss scale");
  }
};

}  // namespace semharness
