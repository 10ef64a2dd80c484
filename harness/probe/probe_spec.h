#pragma once
// What a linear probe is told: the hyper-parameters of the authors' SGD probe (linear_probe.h) and of the
// converged L-BFGS probe (lbfgs_probe.h). Torch-free and without defaults of its own: a run's come from its
// grid keys (harness/config/run_spec.h), whose defaults are the only ones.
#include <cstdint>
#include <vector>

namespace semharness {

// SGD momentum 0.9 with step decay; one probe per (lr, wd1), the best on validation selected.
struct SgdProbeSpec {
  std::vector<double> lrs, wd1s;  // the grid of learning rates and L1 penalties
  double wd2 = 0.0;               // L2 penalty
  int64_t epochs = 0;
  int64_t batch_size = 0;
};

// Full-batch L-BFGS on mean cross-entropy + l2 * sum W^2, one solve per penalty.
struct LbfgsProbeSpec {
  std::vector<double> l2s;     // the penalties to select from on validation
  bool standardize = false;    // training-split mean and std per feature dimension
  int64_t max_iterations = 0;  // per penalty
  double tolerance = 0;        // converged when max |gradient entry| of the objective <= tolerance
};

}  // namespace semharness
