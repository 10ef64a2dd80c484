#pragma once
// Images as tensors on the run's device: uint8 [N, C, H, W] (a quarter of float's memory; converted per
// batch) and int64 labels.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "harness/data/image_set.h"

namespace semharness {

struct TensorSplit {
  at::Tensor images;  // uint8 [N, C, H, W]
  at::Tensor labels;  // int64 [N]
  int64_t size() const { return labels.size(0); }
};

struct DeviceDataset {
  DatasetInfo info;
  TensorSplit train, test;
};

TensorSplit to_tensors(const ImageSet& set, c10::Device device);
DeviceDataset to_device(const Dataset& dataset, c10::Device device);
// Rows `index` (int64 on the same device) of a split.
TensorSplit select(const TensorSplit& split, const at::Tensor& index);
// uint8 [B, C, H, W] -> float in [0, 1].
at::Tensor to_unit_float(const at::Tensor& images_u8);

}  // namespace semharness
