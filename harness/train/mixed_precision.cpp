#include "harness/train/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

namespace semharness {

AutocastScope::AutocastScope(c10::Device device, const std::string& precision) {
  if (!device.is_cuda() || precision == "fp32") return;
  at::autocast::set_autocast_dtype(at::kCUDA, precision == "fp16" ? at::kHalf : at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  at::autocast::set_autocast_enabled(at::kCUDA, false);
  at::autocast::clear_cache();
}

LossScaler::LossScaler(c10::Device device, const std::string& precision)
    : enabled_(device.is_cuda() && precision == "fp16") {
  if (!enabled_) return;
  const auto options = torch::TensorOptions().device(device);
  scale_ = torch::full({}, 65536.0, options.dtype(torch::kFloat));
  growth_tracker_ = torch::zeros({}, options.dtype(torch::kInt));
  found_inf_ = torch::zeros({}, options.dtype(torch::kFloat));
}

at::Tensor LossScaler::scale(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool LossScaler::unscale(const std::vector<at::Tensor>& parameters) {
  if (!enabled_) return true;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  found_inf_.zero_();
  at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, scale_.reciprocal());
  return found_inf_.item<float>() == 0.0f;
}

void LossScaler::update() {
  if (enabled_) at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, 2.0, 0.5, 2000);
}

}  // namespace semharness
