#include "baselines/ema.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

namespace semharness {
namespace {

struct Pairs {
  std::vector<torch::Tensor> target, online;
};

Pairs matched(const torch::OrderedDict<std::string, torch::Tensor>& target,
              const torch::OrderedDict<std::string, torch::Tensor>& online) {
  TORCH_CHECK(target.size() == online.size(), "EMA: modules differ in structure");
  Pairs pairs;
  for (const auto& item : target) {
    pairs.target.push_back(item.value());
    pairs.online.push_back(online[item.key()]);
  }
  return pairs;
}

}  // namespace

void ema_update(torch::nn::Module& target, const torch::nn::Module& online, double momentum) {
  torch::NoGradGuard no_grad;
  const auto params = matched(target.named_parameters(), online.named_parameters());
  if (!params.target.empty()) {
    // One fused call for all tensors: target += (1 - m) * (online - target).
    at::_foreach_lerp_(params.target, params.online, 1.0 - momentum);
  }
  const auto buffers = matched(target.named_buffers(), online.named_buffers());
  for (size_t i = 0; i < buffers.target.size(); ++i) buffers.target[i].copy_(buffers.online[i]);
}

void copy_weights(torch::nn::Module& target, const torch::nn::Module& online, const std::vector<std::string>& kept) {
  torch::NoGradGuard no_grad;
  const auto is_kept = [&](const std::string& name) {
    return std::any_of(kept.begin(), kept.end(),
                       [&](const std::string& module) { return name.rfind(module + ".", 0) == 0; });
  };
  const auto copy = [&](const torch::OrderedDict<std::string, torch::Tensor>& to,
                        const torch::OrderedDict<std::string, torch::Tensor>& from) {
    TORCH_CHECK(to.size() == from.size(), "copy_weights: modules differ in structure");
    for (const auto& item : to) {
      if (!is_kept(item.key())) item.value().copy_(from[item.key()]);
    }
  };
  copy(target.named_parameters(), online.named_parameters());
  copy(target.named_buffers(), online.named_buffers());
}

double cosine_momentum(double base, double final_value, int64_t step, int64_t total) {
  if (total <= 0) return final_value;
  const double progress = std::min(1.0, static_cast<double>(step) / static_cast<double>(total));
  return final_value - (final_value - base) * (std::cos(M_PI * progress) + 1.0) / 2.0;
}

}  // namespace semharness
