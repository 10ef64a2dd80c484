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

ProbeResult train_linear_probes(const LabeledFeatures& train, const LabeledFeatures& val, const LabeledFeatures& test,
                                int64_t num_classes, const SgdProbeSpec& spec) {
  std::vector<double> lrs, wd1s;
  for (double lr : spec.lrs) {
    for (double wd1 : spec.wd1s) {
      lrs.push_back(lr);
      wd1s.push_back(wd1);
    }
  }
  const int64_t g = static_cast<int64_t>(lrs.size()), d = train.x.size(1), n = train.x.size(0);
  const auto options = train.x.options();
  auto weight = torch::zeros({g, d, num_classes}, options).requires_grad_(true);
  auto bias = torch::zeros({g, 1, num_classes}, options).requires_grad_(true);
  const auto lr = torch::tensor(lrs, torch::kDouble).to(options);
  const auto wd1 = torch::tensor(wd1s, torch::kDouble).to(options);
  // The per-probe learning rate multiplies its loss, so one SGD with lr 1 trains all of them.
  torch::optim::SGD sgd({weight, bias}, torch::optim::SGDOptions(1.0).momentum(0.9));
  const int64_t batch = std::min(spec.batch_size, n);
  const int64_t steps = std::max<int64_t>(1, n / batch);
  for (int64_t epoch = 0; epoch < spec.epochs; ++epoch) {
    const double decay = epoch >= spec.epochs * 0.8 ? 0.01 : epoch >= spec.epochs * 0.6 ? 0.1 : 1.0;
    for (auto& group : sgd.param_groups()) group.options().set_lr(decay);
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong).device(options.device()));
    for (int64_t step = 0; step < steps; ++step) {
      const auto index = order.slice(0, step * batch, (step + 1) * batch);
      const auto x = train.x.index_select(0, index);
      const auto y = train.y.index_select(0, index);
      const auto logits = torch::baddbmm(bias, x.unsqueeze(0).expand({g, -1, -1}), weight);  // [G, B, C]
      const auto ce =
          torch::nn::functional::cross_entropy(logits.reshape({-1, num_classes}), y.repeat({g}),
                                               torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
              .view({g, -1})
              .mean(1);
      auto penalty = wd1 * weight.abs().sum({1, 2});
      if (spec.wd2 > 0) penalty = penalty + spec.wd2 * weight.pow(2).sum({1, 2});
      const auto loss = (lr * (ce + penalty)).sum();
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
  }
  const auto [train_top1, train_loss] = score_probes(weight.detach(), bias.detach().squeeze(1), train);
  const auto [val_top1, val_loss] = score_probes(weight.detach(), bias.detach().squeeze(1), val);
  const auto [test_top1, test_loss] = score_probes(weight.detach(), bias.detach().squeeze(1), test);
  // Selection on validation: best top-1, ties broken by lower loss. One host read for everything.
  const auto table =
      torch::stack(
          {train_top1, train_loss, val_top1, val_loss, test_top1, test_loss, weight.detach().abs().sum({1, 2})}, 1)
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
  result.lr = lrs[best];
  result.wd1 = wd1s[best];
  result.weight_l1 = t[best][6];
  result.weight = weight.detach()[best].t().contiguous();
  result.bias = bias.detach()[best].squeeze(0).contiguous();
  return result;
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
