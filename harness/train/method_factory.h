#pragma once
// From a run's configuration to the options of its SSL method and optimizer: the one place that maps grid
// keys onto baselines/ (which knows nothing of grids).
#include "baselines/method_options.h"
#include "baselines/optimizers.h"
#include "harness/config/run_config.h"

namespace semharness {

// The method's own options from its keys, its projector shaped by its recipe (widths from proj.*).
MethodOptions method_options(const RunConfig& config, int64_t in_channels);
OptimizerOptions optimizer_options(const RunConfig& config);

}  // namespace semharness
