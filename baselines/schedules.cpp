#include "baselines/schedules.h"

#include <algorithm>
#include <cmath>

namespace semharness {

double warmup_cosine_lr(double base_lr, int64_t step, int64_t warmup_steps, int64_t total_steps) {
  if (step < warmup_steps) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const int64_t decay_steps = std::max<int64_t>(1, total_steps - warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(decay_steps));
  return base_lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace semharness
