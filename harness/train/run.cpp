#include "harness/train/run.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "baselines/ssl_method.h"
#include "harness/data/augment.h"
#include "harness/probe/lbfgs_probe.h"
#include "harness/probe/linear_probe.h"
#include "harness/results/probe_protocols.h"
#include "harness/results/vocabulary.h"
#include "harness/train/artifacts.h"
#include "harness/train/method_factory.h"
#include "harness/train/phase_timer.h"

namespace semharness {
namespace {

using Clock = std::chrono::steady_clock;

// The augmented probe's generators are seeded with the run's seed plus this (pretraining's augmentation uses
// another offset).
constexpr uint64_t kProbeAugmentSeed = 2000003;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct FrozenFeatures {
  torch::Tensor h, e;  // backbone feature; pre-softmax SEM embedding (undefined without SEM)
};

FrozenFeatures extract(EncoderImpl& encoder, const TensorSplit& split, const Augmenter& augmenter) {
  torch::NoGradGuard no_grad;
  encoder.eval();
  std::vector<torch::Tensor> hs, es;
  for (int64_t start = 0; start < split.size(); start += 1024) {
    const auto x = augmenter.normalize(to_unit_float(split.eval_images(start, std::min(split.size(), start + 1024))));
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

// The probes' split of the training set: 90/10 by a fixed seed (SPEC §2), the same for every run; the probe
// trains on the first probe.train_subset images of the 90 (all when 0).
struct ProbeSplit {
  torch::Tensor train_index, val_index, train_labels, val_labels;
};

ProbeSplit probe_split(const TensorSplit& train, const ProbeSuiteSpec& probe, c10::Device device) {
  const int64_t n = train.size();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(probe.split_seed));
  const auto permutation = torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kLong)).to(device);
  const int64_t n_val = static_cast<int64_t>(std::llround(n * probe.val_fraction));
  int64_t n_train = n - n_val;
  if (probe.train_subset > 0) n_train = std::min(n_train, probe.train_subset);
  ProbeSplit split;
  split.val_index = permutation.slice(0, 0, n_val);
  split.train_index = permutation.slice(0, n_val, n_val + n_train);
  split.train_labels = train.labels.index_select(0, split.train_index);
  split.val_labels = train.labels.index_select(0, split.val_index);
  return split;
}

// A feature the probes train on.
struct ProbedFeature {
  Feature feature;
  std::optional<double> tau_d;
  std::string tau_d_text;  // as the key wrote it, for file names
};

// Every feature of the run: backbone h, the embedder output e, and the SEM feature at each tau_d. The linear
// control has no softmax, so there is no downstream temperature to sweep: e is its feature.
std::vector<ProbedFeature> probed_features(const EncoderImpl& encoder, const ProbeSuiteSpec& probe) {
  std::vector<ProbedFeature> features{{Feature::Backbone, std::nullopt, ""}};
  if (!encoder.has_sem()) return features;
  features.push_back({Feature::Embedding, std::nullopt, ""});
  if (encoder.sem->options.activation() != SEMActivation::None) {
    for (size_t t = 0; t < probe.tau_d.size(); ++t)
      features.push_back({Feature::Sem, probe.tau_d[t], probe.tau_d_texts.at(t)});
  }
  return features;
}

// The SEM feature is made when probed: at L*V = 65,000 a copy per tau_d would not fit.
torch::Tensor feature_matrix(const ProbedFeature& f, const FrozenFeatures& frozen, const EmbedderSpec& embedder) {
  switch (f.feature) {
    case Feature::Backbone: return frozen.h;
    case Feature::Embedding: return frozen.e;
    case Feature::Sem: break;
  }
  return downstream_feature(frozen.e, embedder.L, embedder.V, *f.tau_d);
}

// What every probe of a run reads: the frozen encoder, its features of the whole dataset, the split.
struct ProbeInputs {
  const RunSpec& spec;
  EncoderImpl& encoder;
  const DeviceDataset& data;
  const Augmenter& augmenter;
  const FrozenFeatures& train_features;
  const FrozenFeatures& test_features;
  const ProbeSplit& split;
};

// A probed feature's three splits of fixed (un-augmented) features.
struct FeatureSplits {
  LabeledFeatures train, val, test;
};

FeatureSplits feature_splits(const ProbedFeature& f, const ProbeInputs& in) {
  const auto train_x = feature_matrix(f, in.train_features, in.spec.embedder);
  return {{train_x.index_select(0, in.split.train_index), in.split.train_labels},
          {train_x.index_select(0, in.split.val_index), in.split.val_labels},
          {feature_matrix(f, in.test_features, in.spec.embedder), in.data.test.labels}};
}

// The probes on fixed features (protocols sgd, lbfgs) of every feature; their rows go into `rows`, the
// selected probes (by file stem) into `probes`, each protocol's time into `protocol_ms`. Features outer,
// protocols inner: each feature (a softmax over L*V columns for SEM) and its split copies are made once for all
// protocols. The SGD probe's batches come from the default generator, which the L-BFGS probe does not draw
// from, so its numbers do not depend on the order.
void run_fixed_feature_probes(const ProbeInputs& in, const std::vector<std::string>& protocols,
                              std::vector<ResultRow>& rows, std::vector<std::pair<std::string, ProbeResult>>& probes,
                              std::map<std::string, double>& protocol_ms) {
  const ProbeSuiteSpec& probe = in.spec.probe;
  const int64_t classes = in.data.info.num_classes;
  for (const auto& f : probed_features(in.encoder, probe)) {
    const std::string feature(text(f.feature));
    const FeatureSplits splits = feature_splits(f, in);
    for (const auto& protocol : protocols) {
      const auto protocol_started = Clock::now();
      ProbeResult result = protocol == kSgdProbe
                               ? train_linear_probes(splits.train, splits.val, splits.test, classes, probe.sgd)
                               : train_lbfgs_probes(splits.train, splits.val, splits.test, classes, probe.lbfgs);
      protocol_ms[protocol] += seconds_since(protocol_started) * 1000.0;
      add_probe_rows(rows, protocol, feature, f.tau_d, result);
      probes.emplace_back(probe_file_stem(protocol, feature, f.tau_d_text), std::move(result));
    }
  }
}

// The SGD probe as the authors' code runs it (SPEC §7): every feature's probes trained side by side, each
// batch's rows recomputed by the frozen encoder (eval mode: BatchNorm uses its running statistics) from a
// random resized crop (scale 0.08-1, bicubic) with a flip of the batch's training images, drawn from
// generators of the probe's own; selection and scores on un-augmented images.
void run_augmented_sgd_probe(const ProbeInputs& in, std::vector<ResultRow>& rows,
                             std::vector<std::pair<std::string, ProbeResult>>& probes) {
  const ProbeSuiteSpec& probe = in.spec.probe;
  const auto features = probed_features(in.encoder, probe);
  ViewAugmentOptions crop_and_flip;
  crop_and_flip.jitter_p = crop_and_flip.gray_p = crop_and_flip.solarize_p = 0;
  const auto device = in.data.train.device();
  const auto generators = AugmentGenerators::seeded(device, static_cast<uint64_t>(in.spec.seed) + kProbeAugmentSeed);
  in.encoder.eval();
  // A folder's crops are keyed by the batch's number (the batches come one after another).
  int64_t batch_number = 0;
  const uint64_t seed = static_cast<uint64_t>(in.spec.seed) + kProbeAugmentSeed;
  const TrainBatches batches = [&](const at::Tensor& index) {
    torch::NoGradGuard no_grad;
    const auto rows = in.split.train_index.index_select(0, index);
    FrozenFeatures batch;
    batch.h = in.encoder.backbone->forward(
        augmented_rows(in.data.train, rows, in.augmenter, crop_and_flip, generators, {seed, batch_number++, 0}));
    if (in.encoder.has_sem()) batch.e = in.encoder.sem->embed(batch.h);
    std::vector<at::Tensor> xs;
    for (const auto& f : features) xs.push_back(feature_matrix(f, batch, in.spec.embedder));
    return xs;
  };
  std::vector<int64_t> dims;
  for (const auto& f : features)
    dims.push_back(f.feature == Feature::Backbone ? in.train_features.h.size(1) : in.train_features.e.size(1));
  const auto weights = train_sgd_probes(batches, in.split.train_labels, dims, in.data.info.num_classes, probe.sgd,
                                        in.train_features.h.options());
  const std::string protocol(kSgdAugmentedProbe);
  const SgdProbeGrid grid(probe.sgd);
  for (size_t k = 0; k < features.size(); ++k) {
    const std::string feature(text(features[k].feature));
    const FeatureSplits splits = feature_splits(features[k], in);
    ProbeResult result = select_sgd_probe(weights[k], grid, splits.train, splits.val, splits.test);
    add_probe_rows(rows, protocol, feature, features[k].tau_d, result);
    probes.emplace_back(probe_file_stem(protocol, feature, features[k].tau_d_text), std::move(result));
  }
}

// Every protocol of probe.protocols on every feature, each protocol's time into the timer as probe:<protocol>.
// The augmented probe runs last, so that the fixed-feature SGD probe's draws from the default generator are
// the same with it or without it.
void run_probe_suite(const ProbeInputs& in, std::vector<ResultRow>& rows,
                     std::vector<std::pair<std::string, ProbeResult>>& probes, PhaseTimer& timer) {
  const ProbeSuiteSpec& probe = in.spec.probe;
  std::vector<std::string> fixed;
  bool augmented = false;
  for (const std::string& item : probe.protocols) {
    const std::string protocol = stored_probe_protocol(item, probe.lbfgs.standardize);
    if (protocol == kSgdAugmentedProbe) {
      augmented = true;
    } else {
      fixed.push_back(protocol);
    }
  }
  std::map<std::string, double> protocol_ms;
  run_fixed_feature_probes(in, fixed, rows, probes, protocol_ms);
  for (const auto& protocol : fixed) timer.add_ms("probe:" + protocol, protocol_ms[protocol]);
  if (augmented) {
    const auto started = Clock::now();
    run_augmented_sgd_probe(in, rows, probes);
    timer.add_ms("probe:" + std::string(kSgdAugmentedProbe), seconds_since(started) * 1000.0);
  }
}

}  // namespace

RunOutcome execute_run(const RunSpec& spec, const DeviceDataset& data, c10::Device device, const ProgressFn& progress,
                       const CheckpointPolicy& checkpoint) {
  const auto started = Clock::now();
  torch::manual_seed(static_cast<uint64_t>(spec.seed));
  RunOutcome outcome;
  outcome.run_id = spec.run_id;
  PhaseTimer timer(device);

  auto method = make_method(method_options(spec, data.train.channels()));
  method->to(device);
  const Augmenter augmenter(data.info.mean, data.info.std, device);

  auto pretrained = pretrain(*method, data, augmenter, spec, timer, progress, checkpoint);
  outcome.resumed_from_epoch = pretrained.resumed_from_epoch;
  outcome.metrics = std::move(pretrained.curve);
  outcome.results = std::move(pretrained.results);
  outcome.profile = std::move(pretrained.profile);
  if (!pretrained.divergence.empty()) {
    outcome.artifacts.trace_json = std::move(pretrained.trace_json);
    outcome.status = text(RunStatus::Diverged);
    outcome.error = pretrained.divergence;
    outcome.timings = timer.rows();
    return outcome;
  }

  const auto probe_started = Clock::now();
  auto& encoder = *method->online;
  const auto train_features = extract(encoder, data.train, augmenter);
  const auto test_features = extract(encoder, data.test, augmenter);
  const ProbeSplit split = probe_split(data.train, spec.probe, device);
  const int64_t classes = data.info.num_classes;
  std::vector<std::pair<std::string, ProbeResult>> probes;  // file stem -> selected probe, for the artifacts
  run_probe_suite({spec, encoder, data, augmenter, train_features, test_features, split}, outcome.results, probes,
                  timer);
  const double knn =
      knn_top1({train_features.h.index_select(0, split.train_index), split.train_labels},
               {test_features.h, data.test.labels}, classes, spec.probe.knn_k, spec.probe.knn_temperature);
  outcome.results.push_back({"", std::string(kKnnProtocol), std::string(text(Feature::Backbone)), std::nullopt,
                             std::string(text(Split::Test)), std::string(kTop1Metric), knn});
  if (spec.probe.analysis_samples > 0) {
    outcome.artifacts = make_artifacts(spec, data, train_features, test_features, split.train_index, probes);
  }
  outcome.artifacts.trace_json = std::move(pretrained.trace_json);
  timer.add_ms("probe", seconds_since(probe_started) * 1000.0);
  timer.add_ms("run", seconds_since(started) * 1000.0);
  outcome.timings = timer.rows();
  outcome.status = text(RunStatus::Finished);
  return outcome;
}

}  // namespace semharness
