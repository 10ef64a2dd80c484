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

// A residual block's shortcut where its output differs from its input in shape: 1x1 conv (stride) and BN.
nn::Sequential projection_shortcut(int64_t in, int64_t out, int64_t stride) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)), nn::BatchNorm2d(out));
}

class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride)
      : conv1(register_module("conv1", conv3x3(in, out, stride))),
        bn1(register_module("bn1", nn::BatchNorm2d(out))),
        conv2(register_module("conv2", conv3x3(out, out, 1))),
        bn2(register_module("bn2", nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) shortcut = register_module("shortcut", projection_shortcut(in, out, stride));
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

// torchvision's Bottleneck (ResNet v1.5: the stride on the 3x3 conv): 1x1 reduce, 3x3, 1x1 expand by 4.
class BottleneckImpl : public nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in, int64_t planes, int64_t stride)
      : conv1(register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, planes, 1).bias(false)))),
        bn1(register_module("bn1", nn::BatchNorm2d(planes))),
        conv2(register_module("conv2", conv3x3(planes, planes, stride))),
        bn2(register_module("bn2", nn::BatchNorm2d(planes))),
        conv3(register_module("conv3", nn::Conv2d(nn::Conv2dOptions(planes, planes * kExpansion, 1).bias(false)))),
        bn3(register_module("bn3", nn::BatchNorm2d(planes * kExpansion))) {
    if (stride != 1 || in != planes * kExpansion) {
      shortcut = register_module("shortcut", projection_shortcut(in, planes * kExpansion, stride));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = torch::relu(bn1->forward(conv1->forward(x)));
    out = torch::relu(bn2->forward(conv2->forward(out)));
    out = bn3->forward(conv3->forward(out));
    return torch::relu(out + (shortcut.is_empty() ? x : shortcut->forward(x)));
  }

 private:
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::Conv2d conv3;
  nn::BatchNorm2d bn3;
  nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(Bottleneck);

// ResNet-18 (basic blocks, 2-2-2-2) or ResNet-50 (bottlenecks, 3-4-6-3), fc removed. The CIFAR stem of the
// paper's code is one 3x3 stride-1 conv and no max-pool; the ImageNet stem is torchvision's 7x7 stride-2 conv
// (padding 3) and a 3x3 stride-2 max-pool.
class ResNetImpl : public BackboneImpl {
 public:
  ResNetImpl(int64_t in_channels, const BackboneOptions& o) {
    const bool bottleneck = o.name() == "resnet50";
    const int64_t blocks_per_stage[] = {bottleneck ? 3 : 2, bottleneck ? 4 : 2, bottleneck ? 6 : 2, bottleneck ? 3 : 2};
    const int64_t widths[] = {scaled(64, o.width()), scaled(128, o.width()), scaled(256, o.width()),
                              scaled(512, o.width())};
    if (o.stem() == "imagenet") {
      stem = register_module(
          "stem",
          nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in_channels, widths[0], 7).stride(2).padding(3).bias(false)),
                         nn::BatchNorm2d(widths[0]), nn::ReLU(nn::ReLUOptions(true)),
                         nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
    } else {
      stem = register_module("stem", nn::Sequential(conv3x3(in_channels, widths[0], 1, o.stem_padding()),
                                                    nn::BatchNorm2d(widths[0]), nn::ReLU(nn::ReLUOptions(true))));
    }
    int64_t in = widths[0];
    for (int stage = 0; stage < 4; ++stage) {
      for (int64_t block = 0; block < blocks_per_stage[stage]; ++block) {
        const int64_t stride = stage > 0 && block == 0 ? 2 : 1;
        if (bottleneck) {
          blocks->push_back(Bottleneck(in, widths[stage], stride));
          in = widths[stage] * BottleneckImpl::kExpansion;
        } else {
          blocks->push_back(BasicBlock(in, widths[stage], stride));
          in = widths[stage];
        }
      }
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
  } else if (options.name() == "resnet18" || options.name() == "resnet50") {
    if (options.stem() != "cifar" && options.stem() != "imagenet") {
      throw std::invalid_argument("unknown ResNet stem '" + options.stem() + "' (expected cifar or imagenet)");
    }
    backbone = std::make_shared<ResNetImpl>(options.in_channels(), options);
  } else {
    throw std::invalid_argument("unknown backbone '" + options.name() + "' (expected convnet, resnet18 or resnet50)");
  }
  backbone->set_channels_last(options.channels_last());
  return backbone;
}

}  // namespace semharness
