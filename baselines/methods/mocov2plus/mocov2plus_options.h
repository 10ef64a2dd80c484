#pragma once
// MoCo v2+'s options and recipe; its heads and loss are in mocov2plus.h.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct MoCoV2PlusOptions {
  static constexpr const char* kName = "mocov2plus";
  static constexpr const char* kKeyPrefix = "moco";
  static constexpr const char* kHeads =
      "projector Linear-ReLU-Linear; EMA key encoder (cosine momentum); queue of negatives per view; symmetric "
      "InfoNCE";
  static constexpr const char* kSemTemperatures = "online `tau_online`, EMA `tau_target`";
  static ProjectorRecipe projector() {
    ProjectorRecipe recipe;
    recipe.batch_norm = false;
    return recipe;
  }
  // The authors' MoCo v2+ script: saturation 0.4 (SPEC §7).
  static AugmentRecipe augment() {
    AugmentRecipe recipe;
    recipe.view1.saturation = recipe.view2.saturation = 0.4;
    return recipe;
  }
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(int64_t, queue_size) = 32768;
  SEMHARNESS_ARG(double, temperature) = 0.2;
  SEMHARNESS_ARG(double, ema_base) = 0.99;
  SEMHARNESS_ARG(double, ema_final) = 0.999;
  // "copy": the target's SEM embedder starts as a copy of the online one; "own": from its own random
  // initialisation, as the authors' file does (it copies only backbone and projector; SPEC §7).
  SEMHARNESS_ARG(std::string, target_embedder) = "copy";

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(queue_size_, "queue_size", at_least(1), "MoCo queue of negatives");
    v(temperature_, "temperature", positive(), "MoCo InfoNCE temperature");
    v(ema_base_, "ema_base", unit_interval(), "MoCo key encoder EMA momentum at the start");
    v(ema_final_, "ema_final", unit_interval(), "MoCo key encoder EMA momentum at the end");
    v.ordered("ema_base", "ema_final");
    v(target_embedder_, "target_embedder", std::vector<std::string>{"copy", "own"},
      "MoCo target's SEM embedder at the start: a copy of the online one, or its own random init (the authors')");
    v.added_later("target_embedder");
  }
};

}  // namespace semharness
