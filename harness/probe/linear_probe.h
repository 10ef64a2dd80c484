#pragma once
// Linear probes on frozen features (SPEC §2): SGD momentum 0.9, step decay x0.1 at 60% and 80% of the
// epochs, loss = lr * (cross-entropy + wd1 * sum|W| + wd2 * sum W^2). Every (lr, wd1) of the grid is a
// separate probe; all of them train at once on the same batches as one batched matrix product. The probe
// with the best validation top-1 is selected; the test split is never used for selection.
#include <optional>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "harness/probe/probe_spec.h"

namespace semharness {

struct LabeledFeatures {
  at::Tensor x;  // float [N, D]
  at::Tensor y;  // int64 [N]
};

struct SplitScore {
  double top1 = 0;  // percent
  double loss = 0;  // mean cross-entropy
};

// How an iterative full-batch solve ended (the L-BFGS probe).
struct ProbeConvergence {
  int64_t iterations = 0;
  double grad_norm = 0;  // the largest |entry| of the objective's gradient at the end
  bool converged = false;
};

struct ProbeResult {
  SplitScore train, val, test;                  // of the selected probe
  double lr = 0, wd1 = 0;                       // its hyper-parameters (SGD)
  double l2 = 0;                                // its hyper-parameter (L-BFGS)
  std::optional<ProbeConvergence> convergence;  // L-BFGS only
  double weight_l1 = 0;                         // sum |W| of the selected probe
  at::Tensor weight;  // the selected probe's weight, [C, D] (as torch.nn.Linear), on the features' device
  at::Tensor bias;    // its bias, [C]
};

// Top-1 (percent) and mean cross-entropy on a split of each of G probes (weight [G, D, C], bias [G, C]):
// two [G] tensors on the weights' device.
std::pair<at::Tensor, at::Tensor> score_probes(const at::Tensor& weight, const at::Tensor& bias,
                                               const LabeledFeatures& data);

// Batches are drawn from the device's default generator (seeded by the run).
ProbeResult train_linear_probes(const LabeledFeatures& train, const LabeledFeatures& val, const LabeledFeatures& test,
                                int64_t num_classes, const SgdProbeSpec& spec);

// Weighted k-nearest-neighbour top-1 (percent) with cosine similarity, votes weighted by exp(sim / T)
// (the protocol lightly reports, SPEC §2).
double knn_top1(const LabeledFeatures& bank, const LabeledFeatures& queries, int64_t num_classes, int64_t k,
                double temperature);

}  // namespace semharness
