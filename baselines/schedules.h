#pragma once
#include <cstdint>

namespace semharness {

// Learning rate at a step: linear warmup from base/warmup_steps to base over warmup_steps, then cosine decay
// to 0 at total_steps.
double warmup_cosine_lr(double base_lr, int64_t step, int64_t warmup_steps, int64_t total_steps);

}  // namespace semharness
