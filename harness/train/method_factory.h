#pragma once
// From a run's configuration to the options of its SSL method and optimizer: the one place that maps grid
// keys onto baselines/ (which knows nothing of grids).
#include "baselines/method_options.h"
#include "baselines/optimizers.h"
#include "harness/config/run_config.h"

namespace semharness {

// Projector shapes follow solo-learn per method (SimCLR/MoCo: Linear-ReLU-Linear; BYOL/SwAV: with BN;
// Barlow Twins/VICReg: three layers with BN; DINO: three layers with GELU, no BN).
MethodOptions method_options(const RunConfig& config, int64_t in_channels);
OptimizerOptions optimizer_options(const RunConfig& config);

}  // namespace semharness
