#include "harness/probe/lbfgs_probe.h"

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <limits>

namespace semharness {
namespace {

// L-BFGS memory: 10 pairs, as scikit-learn's lbfgs solver; at D = 65,000 and 100 classes that is 0.5 GB.
constexpr int64_t kHistory = 10;

torch::Tensor objective(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& weight,
                        const torch::Tensor& bias, double l2) {
  return torch::nn::functional::cross_entropy(torch::addmm(bias, x, weight), y) + l2 * weight.pow(2).sum();
}

// The largest |entry| of the objective's gradient at (weight, bias), and the objective there.
std::pair<double, double> gradient_max(const torch::Tensor& x, const torch::Tensor& y, torch::Tensor& weight,
                                       torch::Tensor& bias, double l2) {
  weight.mutable_grad() = torch::Tensor();
  bias.mutable_grad() = torch::Tensor();
  const auto loss = objective(x, y, weight, bias, l2);
  loss.backward();
  const auto stats = torch::stack({torch::max(weight.grad().abs().max(), bias.grad().abs().max()), loss.detach()})
                         .to(torch::kCPU, torch::kDouble);
  return {stats[0].item<double>(), stats[1].item<double>()};
}

struct Solve {
  double l2 = 0;
  SplitScore val;
  ProbeConvergence convergence;
  torch::Tensor weight, bias;  // [D, C], [C], on standardised features when standardising
};

// weight [D, C], bias [C].
SplitScore score(const torch::Tensor& weight, const torch::Tensor& bias, const LabeledFeatures& data) {
  const auto [top1, loss] = score_probes(weight.unsqueeze(0), bias.unsqueeze(0), data);
  const auto both = torch::stack({top1[0], loss[0]}).to(torch::kCPU, torch::kDouble);
  return {both[0].item<double>(), both[1].item<double>()};
}

}  // namespace

FeatureStandardizer FeatureStandardizer::fit(const at::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto wide = x.to(torch::kDouble);
  const auto mean = wide.mean(0);
  const auto variance = (wide - mean).pow(2).mean(0);
  // A variance within the rounding error of its own computation is zero: such a dimension is constant and
  // keeps scale 1 (the bound of scikit-learn's StandardScaler, n eps var + (n eps mean)^2).
  const double n_eps = static_cast<double>(x.size(0)) * std::numeric_limits<double>::epsilon();
  const auto constant = variance <= n_eps * variance + (n_eps * mean).pow(2);
  const auto scale = torch::where(constant, torch::ones_like(variance), variance.sqrt());
  return {mean.to(x.scalar_type()), scale.to(x.scalar_type())};
}

at::Tensor FeatureStandardizer::apply(const at::Tensor& x) const { return (x - mean) / scale; }

std::pair<at::Tensor, at::Tensor> FeatureStandardizer::fold(const at::Tensor& weight, const at::Tensor& bias) const {
  torch::NoGradGuard no_grad;
  // w.(x - m)/s + b = (w/s).x + (b - (w/s).m)
  const auto raw_weight = weight / scale;
  return {raw_weight, bias - torch::mv(raw_weight, mean)};
}

ProbeResult train_lbfgs_probes(const LabeledFeatures& train, const LabeledFeatures& val, const LabeledFeatures& test,
                               int64_t num_classes, const LbfgsProbeSpec& spec) {
  std::optional<FeatureStandardizer> standardizer;
  LabeledFeatures train_s = train, val_s = val, test_s = test;
  if (spec.standardize) {
    standardizer = FeatureStandardizer::fit(train.x);
    train_s.x = standardizer->apply(train.x);
    val_s.x = standardizer->apply(val.x);
    test_s.x = standardizer->apply(test.x);
  }
  const auto options = train.x.options();
  auto weight = torch::zeros({train.x.size(1), num_classes}, options).requires_grad_(true);
  auto bias = torch::zeros({num_classes}, options).requires_grad_(true);

  // Strongest penalty first: each solve starts from the previous optimum, which is close to the next one.
  std::vector<double> l2s = spec.l2s;
  std::sort(l2s.begin(), l2s.end(), std::greater<>());
  std::optional<Solve> best;
  for (const double l2 : l2s) {
    torch::optim::LBFGS lbfgs({weight, bias}, torch::optim::LBFGSOptions(1.0)
                                                  .max_iter(spec.max_iterations)
                                                  .max_eval(spec.max_iterations * 5 / 4)
                                                  .tolerance_grad(spec.tolerance)
                                                  .tolerance_change(1e-12)
                                                  .history_size(kHistory)
                                                  .line_search_fn("strong_wolfe"));
    lbfgs.step([&] {
      lbfgs.zero_grad();
      auto loss = objective(train_s.x, train_s.y, weight, bias, l2);
      loss.backward();
      return loss;
    });
    Solve solve;
    solve.l2 = l2;
    const auto state = lbfgs.state().find(weight.unsafeGetTensorImpl());
    if (state != lbfgs.state().end()) {
      solve.convergence.iterations = static_cast<torch::optim::LBFGSParamState&>(*state->second).n_iter();
    }
    solve.convergence.grad_norm = gradient_max(train_s.x, train_s.y, weight, bias, l2).first;
    solve.convergence.converged = solve.convergence.grad_norm <= spec.tolerance;
    solve.weight = weight.detach().clone();
    solve.bias = bias.detach().clone();
    solve.val = score(solve.weight, solve.bias, val_s);
    const bool improved = !best || solve.val.top1 > best->val.top1 ||
                          (solve.val.top1 == best->val.top1 && solve.val.loss < best->val.loss);
    // The weaker the penalty, the longer the solve: the path stops at the first penalty that does not
    // improve on validation instead of solving every weaker one.
    if (!improved) break;
    best = std::move(solve);
  }

  ProbeResult result;
  if (!best) return result;
  result.train = score(best->weight, best->bias, train_s);
  result.val = best->val;
  result.test = score(best->weight, best->bias, test_s);
  const auto selected_weight = best->weight.t().contiguous();  // [C, D], as torch.nn.Linear
  result.l2 = best->l2;
  result.convergence = best->convergence;
  if (standardizer) {
    std::tie(result.weight, result.bias) = standardizer->fold(selected_weight, best->bias);
  } else {
    result.weight = selected_weight;
    result.bias = best->bias;
  }
  result.weight = result.weight.contiguous();
  result.weight_l1 = result.weight.abs().sum().item<double>();
  return result;
}

}  // namespace semharness
