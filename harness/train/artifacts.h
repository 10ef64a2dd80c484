#pragma once
// Stored features and probe weights of finished runs (SPEC §4.2, README "Stored features"): for the analyses
// that need more than the results table (bound check, semantic coherence) and for Python users (np.load).
//
// <database>.artifacts/<run_id>/
//   train_index.npy, test_index.npy    int64 [n]: which images of the probe-train split and of the test set
//                                      (indices into the dataset's training / test set)
//   train_labels.npy, test_labels.npy  int64 [n]
//   train_h.npy, test_h.npy            float32 [n, D_h]: backbone feature h
//   train_e.npy, test_e.npy            float32 [n, L*V]: frozen pre-softmax embedding e (with an embedder),
//                                      vertex-major: column v*L + l is vertex v of simplex l
//                                      (numpy: e.reshape(n, V, L).transpose(0, 2, 1) is [n, L, V])
//   probe_<feature>_weight.npy         float32 [C, D]: the SGD probe (linear_probe) selected on validation,
//   probe_<feature>_bias.npy           float32 [C]      as torch.nn.Linear (logits = x @ W.T + b)
//     <feature>: backbone, embedding, sem_tau<tau_d as written in probe.tau_d> (sem_tau0.1)
//   lbfgs_probe_<feature>_weight.npy   the L-BFGS probe (lbfgs_probe; lbfgs_probe_raw_<feature> without
//   lbfgs_probe_<feature>_bias.npy     standardisation), its standardisation folded in: it applies to raw
//                                      features. Stems: probe_file_stem (harness/store/artifact_paths.h)
//   meta.json                          run_id, sem, L, V, layout, tau_d list, sample sizes, file list
//   trace.json                         the profiler's Chrome trace of the profiled steps (profile.steps > 0;
//                                      Perfetto, chrome://tracing); alone in the folder when analysis.samples
//                                      is 0, and then without meta.json
// n = analysis.samples (or fewer when a split is smaller), drawn with a fixed seed (the same images for
// every run of a dataset). The SEM feature at tau_d is softmax over each simplex of e / tau_d (SPEC §2).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "harness/store/artifact_paths.h"
#include "harness/store/records.h"

namespace semharness {

// The seed of the sample of stored images (fixed: every run stores the same images).
inline constexpr uint64_t kArtifactSampleSeed = 20230501;

// What meta.json records about a set. `layout` (how e's columns map to simplices and vertices) is fixed.
struct ArtifactMeta {
  std::string run_id, sem;
  std::optional<int64_t> L, V;  // null without an embedder (sem = off)
  std::vector<double> tau_d;    // probe.tau_d
  int64_t num_classes = 0, train_samples = 0, test_samples = 0;
  uint64_t sample_seed = kArtifactSampleSeed;
  std::vector<std::string> files;  // the .npy files of the set, in the order written
};
// meta.json's text: a JSON object with run_id, sem, L, V, layout, tau_d, num_classes, samples {train, test},
// sample_seed and files, in that order (nlohmann/json: every string escaped).
std::string artifact_meta_json(const ArtifactMeta& meta);

// A host float32 / int64 copy of a tensor (any device, float or integer dtype) for write_npy.
NpyArray npy_from_tensor(const at::Tensor& tensor);

// Writes outcome.artifacts into run_artifacts_dir(database, outcome.run_id), replacing an older set: files
// go to a temporary sibling folder that is renamed into place once complete. Nothing when it is empty.
void save_run_artifacts(const std::string& database, const RunOutcome& outcome);

}  // namespace semharness
