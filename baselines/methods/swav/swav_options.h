#pragma once
// SwAV's options and recipe; its heads and loss are in swav.h.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct SwAVOptions {
  static constexpr const char* kName = "swav";
  static constexpr const char* kKeyPrefix = "swav";
  static constexpr const char* kHeads =
      "projector with BN; prototypes renormalised every step and frozen for the first epochs; Sinkhorn-Knopp "
      "codes; queue from `swav.queue_start_epoch`";
  static constexpr const char* kSemTemperatures = "view 1 `tau_online`, view 2 `tau_target`";
  static ProjectorRecipe projector() { return {}; }
  static AugmentRecipe augment() { return strong_jitter(); }  // the authors' SwAV script (SPEC §7)
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(int64_t, prototypes) = 3000;
  SEMHARNESS_ARG(double, temperature) = 0.1;
  SEMHARNESS_ARG(int64_t, queue_size) = 3840;       // 0: no queue
  SEMHARNESS_ARG(int64_t, queue_start_epoch) = 50;  // the queue is used from this epoch (0-based) on
  SEMHARNESS_ARG(int64_t, freeze_prototypes_epochs) = 2;
  SEMHARNESS_ARG(int64_t, sinkhorn_iterations) = 3;
  SEMHARNESS_ARG(double, epsilon) = 0.05;
  // "renormalise": each prototype is scaled to unit norm before every step (the original SwAV);
  // "weight_norm": prototype = g * v / ||v|| with v and the gain g both trained, never renormalised (the
  // authors' fork; SPEC §7).
  SEMHARNESS_ARG(std::string, prototype_norm) = "renormalise";

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(prototypes_, "prototypes", at_least(1), "SwAV prototypes");
    v(temperature_, "temperature", positive(), "SwAV softmax temperature");
    v(queue_size_, "queue_size", at_least(0), "SwAV queue of past projections; 0: none");
    v(queue_start_epoch_, "queue_start_epoch", at_least(0), "epoch from which SwAV uses its queue");
    v(freeze_prototypes_epochs_, "freeze_prototypes_epochs", at_least(0),
      "epochs during which SwAV's prototypes stay fixed");
    v(sinkhorn_iterations_, "sinkhorn_iterations", at_least(1), "Sinkhorn-Knopp iterations");
    v(epsilon_, "epsilon", positive(), "Sinkhorn-Knopp entropy regularisation");
    v(prototype_norm_, "prototype_norm", std::vector<std::string>{"renormalise", "weight_norm"},
      "SwAV prototypes: renormalised to unit rows every step, or weight_norm with a trained gain (the authors')");
    v.added_later("prototype_norm");
  }
};

}  // namespace semharness
