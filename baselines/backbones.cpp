#include "baselines/backbones.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace semharness {
namespace {

namespace nn = torch::nn;

int64_t scaled(int64_t channels, double width) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::lround(channels * width)));
}

// x with the strides of format. Tensor::contiguous(format) returns a one-channel tensor unchanged (its
// NCHW strides are also "channels-last contiguous"), but oneDNN picks its kernels by the suggested memory
// format, which reads the strides: a one-channel input or weight must be restrided to run the NHWC path.
torch::Tensor in_format(const torch::Tensor& x, at::MemoryFormat format) {
  return x.to(x.options(), /*non_blocking=*/false, /*copy=*/false, format);
}

nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride, int64_t padding = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(padding).bias(false));
}

// Four conv-BN-ReLU stages (stride 1, 2, 2, 2) and global average pooling: ~96k parameters at width 1.
class ConvNetImpl : public BackboneImpl {
 public:
  ConvNetImpl(int64_t in_channels, double width) {
    const int64_t widths[] = {scaled(32, width), scaled(64, width), scaled(128, width), scaled(128, width)};
    const int64_t strides[] = {1, 2, 2, 2};
    int64_t in = in_channels;
    for (int i = 0; i < 4; ++i) {
      layers->push_back(conv3x3(in, widths[i], strides[i]));
      layers->push_back(nn::BatchNorm2d(widths[i]));
      layers->push_back(nn::ReLU(nn::ReLUOptions(true)));
      in = widths[i];
    }
    dim_ = in;
    register_module("layers", layers);
  }
  int64_t output_dim() const override { return dim_; }

 protected:
  torch::Tensor features(const torch::Tensor& x) override { return layers->forward(x).mean({2, 3}); }

 private:
  nn::Sequential layers;
  int64_t dim_ = 0;
};

class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride)
      : conv1(register_module("conv1", conv3x3(in, out, stride))),
        bn1(register_module("bn1", nn::BatchNorm2d(out))),
        conv2(register_module("conv2", conv3x3(out, out, 1))),
        bn2(register_module("bn2", nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      shortcut = register_module(
          "shortcut",
          nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)), nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = torch::relu(bn1->forward(conv1->forward(x)));
    out = bn2->forward(conv2->forward(out));
    return torch::relu(out + (shortcut.is_empty() ? x : shortcut->forward(x)));
  }

 private:
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(BasicBlock);

// CIFAR ResNet-18: 3x3 stride-1 stem, no max-pool, four stages of two basic blocks, fc removed.
class ResNet18Impl : public BackboneImpl {
 public:
  ResNet18Impl(int64_t in_channels, double width, int64_t stem_padding) {
    const int64_t widths[] = {scaled(64, width), scaled(128, width), scaled(256, width), scaled(512, width)};
    stem = register_module("stem", nn::Sequential(conv3x3(in_channels, widths[0], 1, stem_padding),
                                                  nn::BatchNorm2d(widths[0]), nn::ReLU(nn::ReLUOptions(true))));
    int64_t in = widths[0];
    for (int stage = 0; stage < 4; ++stage) {
      const int64_t stride = stage == 0 ? 1 : 2;
      blocks->push_back(BasicBlock(in, widths[stage], stride));
      blocks->push_back(BasicBlock(widths[stage], widths[stage], 1));
      in = widths[stage];
    }
    register_module("blocks", blocks);
    dim_ = in;
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* conv = module->as<nn::Conv2d>()) {
        nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      }
    }
  }
  int64_t output_dim() const override { return dim_; }

 protected:
  torch::Tensor features(const torch::Tensor& x) override { return blocks->forward(stem->forward(x)).mean({2, 3}); }

 private:
  nn::Sequential stem{nullptr};
  nn::Sequential blocks;
  int64_t dim_ = 0;
};

}  // namespace

torch::Tensor BackboneImpl::forward(const torch::Tensor& x) {
  return features(channels_last_ ? in_format(x, at::MemoryFormat::ChannelsLast) : x);
}

void BackboneImpl::set_channels_last(bool channels_last) {
  torch::NoGradGuard no_grad;
  const auto format = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  for (auto& p : parameters()) {
    if (p.dim() == 4) p.set_data(in_format(p, format));
  }
  channels_last_ = channels_last;
}

std::shared_ptr<BackboneImpl> make_backbone(const BackboneOptions& options) {
  std::shared_ptr<BackboneImpl> backbone;
  if (options.name() == "convnet") {
    backbone = std::make_shared<ConvNetImpl>(options.in_channels(), options.width());
  } else if (options.name() == "resnet18") {
    backbone = std::make_shared<ResNet18Impl>(options.in_channels(), options.width(), options.stem_padding());
  } else {
    throw std::invalid_argument("unknown backbone '" + options.name() + "' (expected convnet or resnet18)");
  }
  backbone->set_channels_last(options.channels_last());
  return backbone;
}

}  // namespace semharness
