#pragma once
// BYOL's options and recipe; its heads and loss are in byol.h.
#include <cstdint>
#include <memory>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct BYOLOptions {
  static constexpr const char* kName = "byol";
  static constexpr const char* kKeyPrefix = "byol";
  static constexpr const char* kHeads =
      "projector and predictor Linear-BN-ReLU-Linear; EMA target incl. BatchNorm buffers; 2 - 2 cos";
  static constexpr const char* kSemTemperatures = "online `tau_online`, EMA `tau_target`";
  static ProjectorRecipe projector() { return {}; }
  static AugmentRecipe augment() { return solarized_second_view(); }
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(int64_t, pred_hidden) = 512;
  SEMHARNESS_ARG(double, ema_base) = 0.99;  // target momentum at step 0, cosine to ema_final at the last step
  SEMHARNESS_ARG(double, ema_final) = 1.0;

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(pred_hidden_, "pred_hidden", at_least(1), "BYOL predictor hidden width");
    v(ema_base_, "ema_base", unit_interval(), "BYOL target EMA momentum at the start");
    v(ema_final_, "ema_final", unit_interval(), "BYOL target EMA momentum at the end");
    v.ordered("ema_base", "ema_final");
  }
};

}  // namespace semharness
