#pragma once
// Exponential moving averages of a module (BYOL, MoCo and DINO targets), and the cosine schedule of the
// momentum (SPEC §1: from its base to its final value over training).
#include <string>
#include <vector>

#include <torch/nn/module.h>

namespace semharness {

// target <- momentum * target + (1 - momentum) * online for parameters; buffers (BatchNorm running
// statistics, batch counts) are copied. Modules must have the same structure (matched by name).
void ema_update(torch::nn::Module& target, const torch::nn::Module& online, double momentum);
// target <- online, parameters and buffers, except those under a submodule named in `kept` (e.g. "sem"), which
// keep their own values.
void copy_weights(torch::nn::Module& target, const torch::nn::Module& online,
                  const std::vector<std::string>& kept = {});

// final - (final - base) * (cos(pi * step / total) + 1) / 2: base at step 0, final at step == total.
double cosine_momentum(double base, double final_value, int64_t step, int64_t total);

}  // namespace semharness
