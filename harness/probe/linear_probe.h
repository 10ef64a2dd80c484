#pragma once
// Linear probes on frozen features (SPEC §2): SGD momentum 0.9, step decay x0.1 at 60% and 80% of the
// epochs, loss = lr * (cross-entropy + wd1 * sum|W| + wd2 * sum W^2). Every (lr, wd1) of the grid is a
// separate probe; all of them train at once on the same batches as one batched matrix product. The probe
// with the best validation top-1 is selected; the test split is never used for selection.
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

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

// The (lr, wd1) pairs of the SGD probe grid, in the order the probes are stacked: lr outer, wd1 inner.
struct SgdProbeGrid {
  explicit SgdProbeGrid(const SgdProbeSpec& spec);
  std::vector<double> lrs, wd1s;
};

// The G = |lr| x |wd1| probes of one feature: weight [G, D, C], bias [G, 1, C].
struct ProbeWeights {
  at::Tensor weight, bias;
};

// A batch's training rows of each probed feature, [B, D_k] each, given the batch's indices into the training
// split: rows of fixed features, or features recomputed from augmented images.
using TrainBatches = std::function<std::vector<at::Tensor>(const at::Tensor& index)>;

// The SGD probes of several features trained side by side on the same batches (all of them at once, SPEC §2):
// `labels` [N] are the training split's, dims[k] is feature k's width. The batch order is drawn from the
// device's default generator (seeded by the run).
std::vector<ProbeWeights> train_sgd_probes(const TrainBatches& batches, const at::Tensor& labels,
                                           const std::vector<int64_t>& dims, int64_t num_classes,
                                           const SgdProbeSpec& spec, const at::TensorOptions& options);

// The probe of the grid with the best validation top-1 (ties: the lower validation loss), scored on each split.
ProbeResult select_sgd_probe(const ProbeWeights& probes, const SgdProbeGrid& grid, const LabeledFeatures& train,
                             const LabeledFeatures& val, const LabeledFeatures& test);

// The SGD probe on fixed features: train_sgd_probes on rows of train, then select_sgd_probe.
ProbeResult train_linear_probes(const LabeledFeatures& train, const LabeledFeatures& val, const LabeledFeatures& test,
                                int64_t num_classes, const SgdProbeSpec& spec);

// Weighted k-nearest-neighbour top-1 (percent) with cosine similarity, votes weighted by exp(sim / T)
// (the protocol lightly reports, SPEC §2).
double knn_top1(const LabeledFeatures& bank, const LabeledFeatures& queries, int64_t num_classes, int64_t k,
                double temperature);

}  // namespace semharness
