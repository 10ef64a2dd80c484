#pragma once
// From a run's typed spec to the options of its SSL method: the one place that maps a RunSpec onto
// baselines/ (which knows nothing of grids).
#include "baselines/method_options.h"
#include "harness/config/run_spec.h"

namespace semharness {

// The method's own options, its projector shaped by its recipe (widths from proj.*), its embedder.
MethodOptions method_options(const RunSpec& spec, int64_t in_channels);

}  // namespace semharness
