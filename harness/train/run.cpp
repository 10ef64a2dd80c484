#include "harness/train/run.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "baselines/ssl_method.h"
#include "harness/data/augment.h"
#include "harness/train/artifacts.h"
#include "harness/results/probe_protocols.h"
#include "harness/probe/lbfgs_probe.h"
#include "harness/probe/linear_probe.h"
#include "harness/train/method_factory.h"
#include "harness/train/phase_timer.h"

namespace semharness {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct FrozenFeatures {
  torch::Tensor h, e;  // backbone feature; pre-softmax SEM embedding (undefined without SEM)
};

FrozenFeatures extract(EncoderImpl& encoder, const TensorSplit& split, const Augmenter& augmenter) {
  torch::NoGradGuard no_grad;
  encoder.eval();
  std::vector<torch::Tensor> hs, es;
  for (int64_t start = 0; start < split.size(); start += 1024) {
    const auto x =
        augmenter.normalize(to_unit_float(split.images.slice(0, start, std::min(split.size(), start + 1024))));
    auto h = encoder.backbone->forward(x);
    if (encoder.has_sem()) es.push_back(encoder.sem->embed(h));
    hs.push_back(std::move(h));
  }
  return {torch::cat(hs), es.empty() ? torch::Tensor() : torch::cat(es)};
}

void add_probe_rows(std::vector<ResultRow>& rows, const std::string& protocol, const std::string& feature,
                    std::optional<double> tau_d, const ProbeResult& r) {
  const std::pair<const char*, const SplitScore*> splits[] = {{"train", &r.train}, {"val", &r.val}, {"test", &r.test}};
  auto add = [&](const std::string& split, std::string_view metric, double value) {
    rows.push_back({"", protocol, feature, tau_d, split, std::string(metric), value});
  };
  for (const auto& [split, score] : splits) {
    add(split, "top1", score->top1);
    add(split, "loss", score->loss);
  }
  if (r.convergence) {
    add("train", kProbeL2Metric, r.l2);
    add("train", kProbeIterationsMetric, static_cast<double>(r.convergence->iterations));
    add("train", kProbeGradNormMetric, r.convergence->grad_norm);
    add("train", kProbeConvergedMetric, r.convergence->converged ? 1.0 : 0.0);
  } else {
    add("train", "probe_lr", r.lr);
    add("train", "probe_wd1", r.wd1);
  }
  add("train", "weight_l1", r.weight_l1);
}

// analysis.samples positions out of 0..n-1, drawn with a fixed seed, ascending (CPU int64).
torch::Tensor artifact_sample(int64_t n, int64_t samples, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto permutation = torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kLong));
  return std::get<0>(permutation.slice(0, 0, std::min(n, samples)).sort());
}

// The stored features and probes of SPEC §4.2 (layout in harness/train/artifacts.h).
RunArtifacts make_artifacts(const RunSpec& spec, const DeviceDataset& data, const FrozenFeatures& train_features,
                            const FrozenFeatures& test_features, const torch::Tensor& train_index,
                            const std::vector<std::pair<std::string, ProbeResult>>& probes) {
  RunArtifacts artifacts;
  const int64_t samples = spec.probe.analysis_samples;
  const auto device = train_features.h.device();
  const auto train_rows = std::get<0>(
      train_index.index_select(0, artifact_sample(train_index.size(0), samples, kArtifactSampleSeed).to(device))
          .sort());
  const auto test_rows = artifact_sample(data.test.size(), samples, kArtifactSampleSeed + 1).to(device);
  auto add = [&](const std::string& name, const torch::Tensor& tensor) {
    artifacts.arrays.emplace_back(name, npy_from_tensor(tensor));
  };
  add("train_index.npy", train_rows);
  add("test_index.npy", test_rows);
  add("train_labels.npy", data.train.labels.index_select(0, train_rows));
  add("test_labels.npy", data.test.labels.index_select(0, test_rows));
  add("train_h.npy", train_features.h.index_select(0, train_rows));
  add("test_h.npy", test_features.h.index_select(0, test_rows));
  const bool has_embedding = train_features.e.defined();
  if (has_embedding) {
    add("train_e.npy", train_features.e.index_select(0, train_rows));
    add("test_e.npy", test_features.e.index_select(0, test_rows));
  }
  for (const auto& [stem, probe] : probes) {
    add(stem + "_weight.npy", probe.weight);
    add(stem + "_bias.npy", probe.bias);
  }
  ArtifactMeta meta;
  meta.run_id = spec.run_id;
  meta.sem = spec.embedder.mode_text;
  if (has_embedding) {
    meta.L = spec.embedder.L;
    meta.V = spec.embedder.V;
  }
  meta.tau_d = spec.probe.tau_d;
  meta.num_classes = data.info.num_classes;
  meta.train_samples = train_rows.size(0);
  meta.test_samples = test_rows.size(0);
  for (const auto& [name, array] : artifacts.arrays) meta.files.push_back(name);
  artifacts.meta_json = artifact_meta_json(meta);
  return artifacts;
}

}  // namespace

RunOutcome execute_run(const RunSpec& spec, const DeviceDataset& data, c10::Device device, const ProgressFn& progress,
                       const CheckpointPolicy& checkpoint) {
  const auto started = Clock::now();
  torch::manual_seed(static_cast<uint64_t>(spec.seed));
  RunOutcome outcome;
  outcome.run_id = spec.run_id;
  const ProbeSuiteSpec& probe = spec.probe;
  PhaseTimer timer(device);

  auto method = make_method(method_options(spec, data.train.images.size(1)));
  method->to(device);
  const Augmenter augmenter(data.info.mean, data.info.std, device);

  auto pretrained = pretrain(*method, data, augmenter, spec, timer, progress, checkpoint);
  outcome.resumed_from_epoch = pretrained.resumed_from_epoch;
  outcome.metrics = std::move(pretrained.curve);
  outcome.results = std::move(pretrained.results);
  if (!pretrained.divergence.empty()) {
    outcome.status = "diverged";
    outcome.error = pretrained.divergence;
    outcome.timings = timer.rows();
    return outcome;
  }

  // Probe: 90/10 split of the training set by a fixed seed (SPEC §2), the same for every run.
  const auto probe_started = Clock::now();
  auto& encoder = *method->online;
  const auto train_features = extract(encoder, data.train, augmenter);
  const auto test_features = extract(encoder, data.test, augmenter);
  const int64_t n = data.train.size();
  auto split_generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(probe.split_seed));
  const auto permutation = torch::randperm(n, split_generator, torch::TensorOptions().dtype(torch::kLong)).to(device);
  const int64_t n_val = static_cast<int64_t>(std::llround(n * probe.val_fraction));
  const auto val_index = permutation.slice(0, 0, n_val);
  int64_t n_probe_train = n - n_val;
  if (probe.train_subset > 0) n_probe_train = std::min(n_probe_train, probe.train_subset);
  const auto train_index = permutation.slice(0, n_val, n_val + n_probe_train);
  const auto labels_train = data.train.labels.index_select(0, train_index);
  const auto labels_val = data.train.labels.index_select(0, val_index);

  const int64_t classes = data.info.num_classes;

  // Every feature of the run: backbone h, the embedder output e, and the SEM feature at each tau_d (made when
  // probed: at L*V = 65,000 a copy per tau_d would not fit). The linear control has no softmax, so there is no
  // downstream temperature to sweep: e is its feature.
  struct ProbedFeature {
    std::string feature;
    std::optional<double> tau_d;
    std::string tau_d_text;
  };
  std::vector<ProbedFeature> features{{"backbone", std::nullopt, ""}};
  if (encoder.has_sem()) features.push_back({"embedding", std::nullopt, ""});
  if (encoder.has_sem() && encoder.sem->options.activation() != SEMActivation::None) {
    for (size_t t = 0; t < probe.tau_d.size(); ++t) {
      features.push_back({"sem", probe.tau_d[t], probe.tau_d_texts.at(t)});
    }
  }
  const auto feature_of = [&](const ProbedFeature& f, const FrozenFeatures& frozen) {
    if (f.feature == "backbone") return frozen.h;
    if (f.feature == "embedding") return frozen.e;
    return downstream_feature(frozen.e, spec.embedder.L, spec.embedder.V, *f.tau_d);
  };

  auto& rows = outcome.results;
  std::vector<std::pair<std::string, ProbeResult>> probes;  // file stem -> selected probe, for the artifacts
  std::vector<std::string> protocols;
  for (const std::string& item : probe.protocols) {
    protocols.push_back(stored_probe_protocol(item, probe.lbfgs.standardize));
  }
  // Features outer, protocols inner: each feature (a softmax over L*V columns for SEM) and its split copies
  // are made once for all protocols. The SGD probe's batches come from the default generator, which the
  // L-BFGS probe does not draw from, so its numbers do not depend on the order.
  std::vector<double> protocol_ms(protocols.size(), 0.0);
  for (const auto& f : features) {
    const auto train_x = feature_of(f, train_features);
    const LabeledFeatures train_split{train_x.index_select(0, train_index), labels_train};
    const LabeledFeatures val_split{train_x.index_select(0, val_index), labels_val};
    const LabeledFeatures test_split{feature_of(f, test_features), data.test.labels};
    for (size_t p = 0; p < protocols.size(); ++p) {
      const auto protocol_started = Clock::now();
      ProbeResult result = protocols[p] == kSgdProbe
                               ? train_linear_probes(train_split, val_split, test_split, classes, probe.sgd)
                               : train_lbfgs_probes(train_split, val_split, test_split, classes, probe.lbfgs);
      protocol_ms[p] += seconds_since(protocol_started) * 1000.0;
      add_probe_rows(rows, protocols[p], f.feature, f.tau_d, result);
      probes.emplace_back(probe_file_stem(protocols[p], f.feature, f.tau_d_text), std::move(result));
    }
  }
  for (size_t p = 0; p < protocols.size(); ++p) timer.add_ms("probe:" + protocols[p], protocol_ms[p]);
  const double knn = knn_top1({train_features.h.index_select(0, train_index), labels_train},
                              {test_features.h, data.test.labels}, classes, probe.knn_k, probe.knn_temperature);
  rows.push_back({"", "knn", "backbone", std::nullopt, "test", "top1", knn});
  if (probe.analysis_samples > 0) {
    outcome.artifacts = make_artifacts(spec, data, train_features, test_features, train_index, probes);
  }
  timer.add_ms("probe", seconds_since(probe_started) * 1000.0);
  timer.add_ms("run", seconds_since(started) * 1000.0);
  outcome.timings = timer.rows();
  outcome.status = "finished";
  return outcome;
}

}  // namespace semharness
