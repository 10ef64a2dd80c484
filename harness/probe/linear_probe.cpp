#include "harness/probe/linear_probe.h"

#include <torch/torch.h>

namespace semharness {
namespace {

constexpr int64_t kEvalChunk = 4096;

}  // namespace

std::pair<at::Tensor, at::Tensor> score_probes(const at::Tensor& weight, const at::Tensor& bias,
                                               const LabeledFeatures& data) {
  torch::NoGradGuard no_grad;
  const int64_t g = weight.size(0), n = data.x.size(0);
  auto correct = torch::zeros({g}, weight.options());
  auto loss = torch::zeros({g}, weight.options());
  for (int64_t start = 0; start < n; start += kEvalChunk) {
    const auto x = data.x.slice(0, start, std::min(n, start + kEvalChunk));
    const auto y = data.y.slice(0, start, std::min(n, start + kEvalChunk));
    const auto logits = torch::baddbmm(bias.unsqueeze(1), x.unsqueeze(0).expand({g, -1, -1}), weight);  // [G, B, C]
    correct += (logits.argmax(2) == y.unsqueeze(0)).sum(1).to(weight.scalar_type());
    const auto log_probs = torch::log_softmax(logits, 2);
    loss -= log_probs.gather(2, y.view({1, -1, 1}).expand({g, -1, 1})).squeeze(2).sum(1);
  }
  // The count is exact in float32 (below 2^24); the percentage is formed in float64 so that it is the exact ratio.
  return {correct.to(torch::kDouble) * (100.0 / n), loss / n};
}

SgdProbeGrid::SgdProbeGrid(const SgdProbeSpec& spec) {
  for (double lr : spec.lrs) {
    for (double wd1 : spec.wd1s) {
      lrs.push_back(lr);
      wd1s.push_back(wd1);
    }
  }
}

std::vector<ProbeWeights> train_sgd_probes(const TrainBatches& batches, const at::Tensor& labels,
                                           const std::vector<int64_t>& dims, int64_t num_classes,
                                           const SgdProbeSpec& spec, const at::TensorOptions& options) {
  const SgdProbeGrid grid(spec);
  const int64_t g = static_cast<int64_t>(grid.lrs.size()), n = labels.size(0);
  std::vector<ProbeWeights> probes;
  std::vector<at::Tensor> parameters;
  for (const int64_t d : dims) {
    probes.push_back({torch::zeros({g, d, num_classes}, options).requires_grad_(true),
                      torch::zeros({g, 1, num_classes}, options).requires_grad_(true)});
    parameters.push_back(probes.back().weight);
    parameters.push_back(probes.back().bias);
  }
  const auto lr = torch::tensor(grid.lrs, torch::kDouble).to(options);
  const auto wd1 = torch::tensor(grid.wd1s, torch::kDouble).to(options);
  // The per-probe learning rate multiplies its loss, so one SGD with lr 1 trains all of them.
  torch::optim::SGD sgd(parameters, torch::optim::SGDOptions(1.0).momentum(0.9));
  const int64_t batch = std::min(spec.batch_size, n);
  const int64_t steps = std::max<int64_t>(1, n / batch);
  for (int64_t epoch = 0; epoch < spec.epochs; ++epoch) {
    const double decay = epoch >= spec.epochs * 0.8 ? 0.01 : epoch >= spec.epochs * 0.6 ? 0.1 : 1.0;
    for (auto& group : sgd.param_groups()) group.options().set_lr(decay);
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong).device(options.device()));
    for (int64_t step = 0; step < steps; ++step) {
      const auto index = order.slice(0, step * batch, (step + 1) * batch);
      const auto xs = batches(index);
      const auto y = labels.index_select(0, index);
      at::Tensor loss;
      for (size_t k = 0; k < probes.size(); ++k) {
        const auto& [weight, bias] = probes[k];
        const auto logits = torch::baddbmm(bias, xs[k].unsqueeze(0).expand({g, -1, -1}), weight);  // [G, B, C]
        const auto ce = torch::nn::functional::cross_entropy(
                            logits.reshape({-1, num_classes}), y.repeat({g}),
                            torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                            .view({g, -1})
                            .mean(1);
        auto penalty = wd1 * weight.abs().sum({1, 2});
        if (spec.wd2 > 0) penalty = penalty + spec.wd2 * weight.pow(2).sum({1, 2});
        const auto feature_loss = (lr * (ce + penalty)).sum();
        loss = loss.defined() ? loss + feature_loss : feature_loss;
      }
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
  }
  for (auto& probe : probes) {
    probe.weight = probe.weight.detach();
    probe.bias = probe.bias.detach();
  }
  return probes;
}

ProbeResult select_sgd_probe(const ProbeWeights& probes, const SgdProbeGrid& grid, const LabeledFeatures& train,
                             const LabeledFeatures& val, const LabeledFeatures& test) {
  const int64_t g = probes.weight.size(0);
  const auto bias = probes.bias.squeeze(1);
  const auto [train_top1, train_loss] = score_probes(probes.weight, bias, train);
  const auto [val_top1, val_loss] = score_probes(probes.weight, bias, val);
  const auto [test_top1, test_loss] = score_probes(probes.weight, bias, test);
  // Selection on validation: best top-1, ties broken by lower loss. One host read for everything.
  const auto table =
      torch::stack({train_top1, train_loss, val_top1, val_loss, test_top1, test_loss, probes.weight.abs().sum({1, 2})},
                   1)
          .to(torch::kCPU, torch::kDouble);
  const auto t = table.accessor<double, 2>();
  int64_t best = 0;
  for (int64_t i = 1; i < g; ++i) {
    if (t[i][2] > t[best][2] || (t[i][2] == t[best][2] && t[i][3] < t[best][3])) best = i;
  }
  ProbeResult result;
  result.train = {t[best][0], t[best][1]};
  result.val = {t[best][2], t[best][3]};
  result.test = {t[best][4], t[best][5]};
  result.lr = grid.lrs[best];
  result.wd1 = grid.wd1s[best];
  result.weight_l1 = t[best][6];
  result.weight = probes.weight[best].t().contiguous();
  result.bias = probes.bias[best].squeeze(0).contiguous();
  return result;
}

ProbeResult train_linear_probes(const LabeledFeatures& train, const LabeledFeatures& val, const LabeledFeatures& test,
                                int64_t num_classes, const SgdProbeSpec& spec) {
  const TrainBatches rows = [&](const at::Tensor& index) {
    return std::vector<at::Tensor>{train.x.index_select(0, index)};
  };
  const auto probes = train_sgd_probes(rows, train.y, {train.x.size(1)}, num_classes, spec, train.x.options());
  return select_sgd_probe(probes.front(), SgdProbeGrid(spec), train, val, test);
}

double knn_top1(const LabeledFeatures& bank, const LabeledFeatures& queries, int64_t num_classes, int64_t k,
                double temperature) {
  torch::NoGradGuard no_grad;
  namespace F = torch::nn::functional;
  const auto norm = F::NormalizeFuncOptions().dim(1);
  const auto keys = F::normalize(bank.x, norm);
  const int64_t n = queries.x.size(0), kk = std::min<int64_t>(k, bank.x.size(0));
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(queries.x.device()));
  for (int64_t start = 0; start < n; start += 512) {
    const auto q = F::normalize(queries.x.slice(0, start, std::min(n, start + 512)), norm);
    const auto [sim, index] = torch::mm(q, keys.t()).topk(kk, 1);
    const auto neighbour_labels = bank.y.index_select(0, index.reshape(-1)).view(index.sizes());
    auto votes = torch::zeros({q.size(0), num_classes}, q.options());
    votes.scatter_add_(1, neighbour_labels, (sim / temperature).exp());
    correct += (votes.argmax(1) == queries.y.slice(0, start, std::min(n, start + 512))).sum();
  }
  return correct.item<int64_t>() * 100.0 / n;
}

}  // namespace semharness
