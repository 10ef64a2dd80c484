#pragma once
// DINO's options and recipe; its heads and loss are in dino.h. The bottleneck is the projector's output
// width (proj.out).
#include <cstdint>
#include <memory>

#include "baselines/methods/method_recipe.h"
#include "baselines/methods/option_fields.h"

namespace semharness {

class SSLMethodImpl;
struct MethodOptions;

struct DINOOptions {
  static constexpr const char* kName = "dino";
  static constexpr const char* kKeyPrefix = "dino";
  static constexpr const char* kHeads =
      "3-layer GELU head (truncated-normal init) and weight-normalised prototypes; EMA teacher; centring; "
      "teacher temperature warmup; last layer frozen for the first epochs";
  static constexpr const char* kSemTemperatures = "student `tau_online`, teacher `tau_target`";
  ProjectorRecipe projector() const {
    ProjectorRecipe recipe;
    recipe.layers = 3;
    recipe.batch_norm = head_batch_norm_;
    recipe.gelu = true;
    recipe.init_std = 0.02;
    return recipe;
  }
  static AugmentRecipe augment() { return solarized_second_view(); }
  static std::shared_ptr<SSLMethodImpl> make(const MethodOptions& options);

  SEMHARNESS_ARG(int64_t, prototypes) = 4096;
  SEMHARNESS_ARG(double, student_temperature) = 0.1;
  SEMHARNESS_ARG(double, warmup_teacher_temperature) = 0.04;  // teacher temperature at epoch 0 ...
  SEMHARNESS_ARG(double, teacher_temperature) = 0.07;         // ... reached linearly after the warmup epochs
  SEMHARNESS_ARG(int64_t, warmup_teacher_temperature_epochs) = 50;
  SEMHARNESS_ARG(double, center_momentum) = 0.9;
  SEMHARNESS_ARG(int64_t, freeze_last_layer_epochs) = 1;
  SEMHARNESS_ARG(double, ema_base) = 0.9995;
  SEMHARNESS_ARG(double, ema_final) = 1.0;
  SEMHARNESS_ARG(bool, head_batch_norm) = false;

 public:
  template <typename Visitor>
  void fields(Visitor& v) {
    v(prototypes_, "prototypes", at_least(1), "DINO prototypes");
    v(student_temperature_, "student_temperature", positive(), "DINO student temperature");
    v(warmup_teacher_temperature_, "warmup_teacher_temperature", positive(), "DINO teacher temperature at epoch 0");
    v(teacher_temperature_, "teacher_temperature", positive(), "DINO teacher temperature after warmup");
    v(warmup_teacher_temperature_epochs_, "warmup_teacher_temperature_epochs", at_least(0),
      "DINO teacher temperature warmup epochs");
    v(center_momentum_, "center_momentum", unit_interval(), "DINO centre EMA momentum");
    v(freeze_last_layer_epochs_, "freeze_last_layer_epochs", at_least(0),
      "epochs during which DINO's last layer stays fixed");
    v(ema_base_, "ema_base", unit_interval(), "DINO teacher EMA momentum at the start");
    v(ema_final_, "ema_final", unit_interval(), "DINO teacher EMA momentum at the end");
    v.ordered("ema_base", "ema_final");
    v(head_batch_norm_, "head_batch_norm",
      "BatchNorm after each hidden Linear of DINO's head (solo-learn's use_bn_in_head, off there by default)");
    v.added_later("head_batch_norm");
  }
};

}  // namespace semharness
