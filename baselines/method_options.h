#pragma once
// Options of every SSL method, one struct per method (named setters, as LibTorch's XOptions), gathered in
// MethodOptions. Defaults are the paper code's CIFAR settings (SPEC §1).
#include <string>

#include <torch/arg.h>

#include "baselines/encoder.h"

namespace semharness {

struct SimCLROptions {
  TORCH_ARG(double, temperature) = 0.2;  // NT-Xent
};

struct BYOLOptions {
  TORCH_ARG(int64_t, pred_hidden) = 4096;
  TORCH_ARG(double, ema_base) = 0.99;  // target momentum at step 0, cosine to ema_final at the last step
  TORCH_ARG(double, ema_final) = 1.0;
};

struct MoCoOptions {
  TORCH_ARG(int64_t, queue_size) = 32768;  // negatives kept from past batches
  TORCH_ARG(double, temperature) = 0.2;
  TORCH_ARG(double, ema_base) = 0.99;
  TORCH_ARG(double, ema_final) = 0.999;
};

struct BarlowOptions {
  TORCH_ARG(double, lambda) = 0.0051;  // weight of the off-diagonal terms
  TORCH_ARG(double, scale) = 0.1;      // the whole loss is multiplied by this
};

struct SwAVOptions {
  TORCH_ARG(int64_t, prototypes) = 3000;
  TORCH_ARG(double, temperature) = 0.1;
  TORCH_ARG(int64_t, queue_size) = 3840;         // 0: no queue
  TORCH_ARG(int64_t, queue_start_epoch) = 50;    // the queue is used from this epoch (0-based) on
  TORCH_ARG(int64_t, freeze_prototypes_epochs) = 2;
  TORCH_ARG(int64_t, sinkhorn_iterations) = 3;
  TORCH_ARG(double, epsilon) = 0.05;
};

struct DINOOptions {
  TORCH_ARG(int64_t, prototypes) = 4096;
  TORCH_ARG(int64_t, bottleneck) = 256;
  TORCH_ARG(double, student_temperature) = 0.1;
  TORCH_ARG(double, warmup_teacher_temperature) = 0.04;  // teacher temperature at epoch 0 ...
  TORCH_ARG(double, teacher_temperature) = 0.07;         // ... reached linearly after the warmup epochs
  TORCH_ARG(int64_t, warmup_teacher_temperature_epochs) = 50;
  TORCH_ARG(double, center_momentum) = 0.9;
  TORCH_ARG(int64_t, freeze_last_layer_epochs) = 1;
  TORCH_ARG(double, ema_base) = 0.9995;
  TORCH_ARG(double, ema_final) = 1.0;
};

struct VICRegOptions {
  TORCH_ARG(double, sim_weight) = 25.0;  // invariance
  TORCH_ARG(double, var_weight) = 25.0;  // variance (hinge at std 1)
  TORCH_ARG(double, cov_weight) = 1.0;   // covariance
};

struct MethodOptions {
  MethodOptions(std::string name, EncoderOptions encoder) : name_(std::move(name)), encoder_(std::move(encoder)) {}
  // "simclr", "mocov2plus", "byol", "barlow", "swav", "dino", "vicreg"
  TORCH_ARG(std::string, name);
  TORCH_ARG(EncoderOptions, encoder);
  TORCH_ARG(SimCLROptions, simclr) = {};
  TORCH_ARG(BYOLOptions, byol) = {};
  TORCH_ARG(MoCoOptions, moco) = {};
  TORCH_ARG(BarlowOptions, barlow) = {};
  TORCH_ARG(SwAVOptions, swav) = {};
  TORCH_ARG(DINOOptions, dino) = {};
  TORCH_ARG(VICRegOptions, vicreg) = {};
};

}  // namespace semharness
