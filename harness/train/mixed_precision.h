#pragma once
// Mixed precision on CUDA: autocast to bf16 or fp16 around the forward pass, and for fp16 dynamic loss
// scaling (the same device-side kernels as PyTorch's GradScaler). On the CPU everything stays fp32.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace semharness {

class AutocastScope {
 public:
  // precision: "fp32", "bf16" or "fp16"; a no-op unless the device is CUDA and precision is not fp32.
  AutocastScope(c10::Device device, const std::string& precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
};

class LossScaler {
 public:
  LossScaler(c10::Device device, const std::string& precision);
  bool enabled() const { return enabled_; }
  at::Tensor scale(const at::Tensor& loss) const;  // loss * scale when enabled
  // Unscales the gradients in place; returns false when one is not finite (the step must be skipped). This
  // reads one flag from the device: PyTorch's GradScaler synchronises at the same point.
  bool unscale(const std::vector<at::Tensor>& parameters);
  void update();
  // The scale and its growth tracker (undefined when disabled), for checkpoints: shallow handles to the
  // scaler's own tensors, so copying into them restores the state.
  std::vector<at::Tensor> state() const { return {scale_, growth_tracker_}; }

 private:
  bool enabled_ = false;
  at::Tensor scale_, growth_tracker_, found_inf_;
};

}  // namespace semharness
