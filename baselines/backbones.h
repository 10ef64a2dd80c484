#pragma once
// Backbones: ResNet-18 and ResNet-50 with the CIFAR stem of the paper's code (SPEC §3) or torchvision's
// ImageNet stem, and a small ConvNet for CPU work. Each maps
// [B, C, H, W] images to a pooled feature h of output_dim() values (the classifier head is removed).
#include <memory>
#include <string>

#include <torch/nn/module.h>

namespace semharness {

class BackboneImpl : public torch::nn::Module {
 public:
  // [B, C, H, W] -> [B, output_dim()]. The input is converted to the backbone's memory format first.
  torch::Tensor forward(const torch::Tensor& x);
  virtual int64_t output_dim() const = 0;
  // Channels-last (NHWC) convolutions: the conv weights are stored channels-last and every input is
  // converted, so that oneDNN / cuDNN run their NHWC kernels without reordering each call. The same
  // function, computed faster where the library has NHWC kernels (measured in the README).
  void set_channels_last(bool channels_last);
  bool channels_last() const { return channels_last_; }

 protected:
  virtual torch::Tensor features(const torch::Tensor& x) = 0;

 private:
  bool channels_last_ = false;
};

struct BackboneOptions {
  BackboneOptions(std::string name, int64_t in_channels) : name_(std::move(name)), in_channels_(in_channels) {}
  TORCH_ARG(std::string, name);  // "convnet", "resnet18" or "resnet50"
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(double, width) = 1.0;          // channel multiplier
  TORCH_ARG(std::string, stem) = "cifar";  // ResNet stem: "cifar" (3x3, stride 1) or "imagenet" (7x7/2, max-pool)
  TORCH_ARG(int64_t, stem_padding) = 2;    // CIFAR stem: the 3x3 conv's padding (the paper's code: 2)
  TORCH_ARG(bool, channels_last) = true;   // see BackboneImpl::set_channels_last
};

// A fresh, randomly initialised backbone; calling it twice with the same options gives two modules of the
// same structure (an EMA target is built this way).
std::shared_ptr<BackboneImpl> make_backbone(const BackboneOptions& options);

}  // namespace semharness
