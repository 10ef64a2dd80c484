#include "harness/train/run.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "baselines/ssl_method.h"
#include "harness/data/augment.h"
#include "harness/train/linear_probe.h"
#include "harness/train/method_factory.h"
#include "harness/train/phase_timer.h"

namespace semharness {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct FrozenFeatures {
  torch::Tensor h, e;  // backbone feature; pre-softmax SEM embedding (undefined without SEM)
};

FrozenFeatures extract(EncoderImpl& encoder, const TensorSplit& split, const Augmenter& augmenter) {
  torch::NoGradGuard no_grad;
  encoder.eval();
  std::vector<torch::Tensor> hs, es;
  for (int64_t start = 0; start < split.size(); start += 1024) {
    const auto x = augmenter.normalize(to_unit_float(split.images.slice(0, start, std::min(split.size(), start + 1024))));
    auto h = encoder.backbone->forward(x);
    if (encoder.has_sem()) es.push_back(encoder.sem->embed(h));
    hs.push_back(std::move(h));
  }
  return {torch::cat(hs), es.empty() ? torch::Tensor() : torch::cat(es)};
}

void add_probe_rows(std::vector<ResultRow>& rows, const std::string& feature, std::optional<double> tau_d,
                    const ProbeResult& r) {
  const std::pair<const char*, const SplitScore*> splits[] = {{"train", &r.train}, {"val", &r.val}, {"test", &r.test}};
  for (const auto& [split, score] : splits) {
    rows.push_back({"", "linear_probe", feature, tau_d, split, "top1", score->top1});
    rows.push_back({"", "linear_probe", feature, tau_d, split, "loss", score->loss});
  }
  rows.push_back({"", "linear_probe", feature, tau_d, "train", "probe_lr", r.lr});
  rows.push_back({"", "linear_probe", feature, tau_d, "train", "probe_wd1", r.wd1});
  rows.push_back({"", "linear_probe", feature, tau_d, "train", "weight_l1", r.weight_l1});
}

}  // namespace

RunOutcome execute_run(const RunConfig& c, const DeviceDataset& data, c10::Device device, const ProgressFn& progress,
                       const CheckpointPolicy& checkpoint) {
  const auto started = Clock::now();
  torch::manual_seed(static_cast<uint64_t>(c.seed));
  RunOutcome outcome;
  outcome.run_id = c.run_id();
  PhaseTimer timer(device);

  auto method = make_method(method_options(c, data.train.images.size(1)));
  method->to(device);
  const Augmenter augmenter(data.info.mean, data.info.std, device);

  auto pretrained = pretrain(*method, data, augmenter, c, timer, progress, checkpoint);
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
  auto split_generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(c.i("probe.split_seed")));
  const auto permutation = torch::randperm(n, split_generator, torch::TensorOptions().dtype(torch::kLong)).to(device);
  const int64_t n_val = static_cast<int64_t>(std::llround(n * c.f("probe.val_fraction")));
  const auto val_index = permutation.slice(0, 0, n_val);
  int64_t n_probe_train = n - n_val;
  if (c.i("probe.train_subset") > 0) n_probe_train = std::min(n_probe_train, c.i("probe.train_subset"));
  const auto train_index = permutation.slice(0, n_val, n_val + n_probe_train);
  const auto labels_train = data.train.labels.index_select(0, train_index);
  const auto labels_val = data.train.labels.index_select(0, val_index);

  ProbeSpec spec;
  spec.lrs = c.floats("probe.lr");
  spec.wd1s = c.floats("probe.wd1");
  spec.wd2 = c.f("probe.wd2");
  spec.epochs = c.i("probe.epochs");
  spec.batch_size = c.i("probe.batch_size");
  const int64_t classes = data.info.num_classes;
  const auto probe = [&](const torch::Tensor& train_x, const torch::Tensor& test_x) {
    return train_linear_probes({train_x.index_select(0, train_index), labels_train},
                               {train_x.index_select(0, val_index), labels_val}, {test_x, data.test.labels}, classes, spec);
  };

  auto& rows = outcome.results;
  add_probe_rows(rows, "backbone", std::nullopt, probe(train_features.h, test_features.h));
  if (encoder.has_sem()) {
    add_probe_rows(rows, "embedding", std::nullopt, probe(train_features.e, test_features.e));
  }
  // The linear control has no softmax, so there is no downstream temperature to sweep: e is its feature.
  if (encoder.has_sem() && encoder.sem->options.activation() != SEMActivation::None) {
    const auto L = c.i("sem.L"), V = c.i("sem.V");
    for (double tau_d : c.floats("probe.tau_d")) {
      add_probe_rows(rows, "sem", tau_d,
                     probe(downstream_feature(train_features.e, L, V, tau_d), downstream_feature(test_features.e, L, V, tau_d)));
    }
  }
  const double knn = knn_top1({train_features.h.index_select(0, train_index), labels_train},
                              {test_features.h, data.test.labels}, classes, c.i("knn.k"), c.f("knn.T"));
  rows.push_back({"", "knn", "backbone", std::nullopt, "test", "top1", knn});
  timer.add_ms("probe", seconds_since(probe_started) * 1000.0);
  timer.add_ms("run", seconds_since(started) * 1000.0);
  outcome.timings = timer.rows();
  outcome.status = "finished";
  return outcome;
}

}  // namespace semharness
