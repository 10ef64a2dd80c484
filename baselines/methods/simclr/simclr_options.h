#pragma once
// SimCLR's options and recipe; its heads and loss are in simclr.h.
#include <cstdint>
#include <memory>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct SimCLROptions {
  static constexpr const char* kName = "simclr";  // the grid's `method` value
  static constexpr const char* kKeyPrefix = "simclr";
  static constexpr const char* kHeads = "projector Linear-ReLU-Linear; NT-Xent";
  static constexpr const char* kSemTemperatures = "view 1 `tau_online`, view 2 `tau_target`";
  static ProjectorRecipe projector() {
    ProjectorRecipe recipe;
    recipe.batch_norm = false;
    return recipe;
  }
  // SPEC §3: SimCLR's stronger colour jitter on both views.
  static AugmentRecipe augment() { return strong_jitter(); }
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(double, temperature) = 0.2;

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(temperature_, "temperature", positive(), "NT-Xent temperature");
  }
};

}  // namespace semharness
