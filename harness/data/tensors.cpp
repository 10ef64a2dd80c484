#include "harness/data/tensors.h"

#include <torch/torch.h>

namespace semharness {

TensorSplit to_tensors(const ImageSet& set, c10::Device device) {
  TensorSplit out;
  auto pixels = torch::from_blob(const_cast<uint8_t*>(set.pixels.data()), {set.n, set.channels, set.height, set.width},
                                 torch::kUInt8);
  auto labels = torch::from_blob(const_cast<int64_t*>(set.labels.data()), {set.n}, torch::kLong);
  out.images = pixels.to(device, /*non_blocking=*/false, /*copy=*/true);
  out.labels = labels.to(device, false, true);
  return out;
}

DeviceDataset to_device(const Dataset& dataset, c10::Device device) {
  return {dataset.info, to_tensors(dataset.train, device), to_tensors(dataset.test, device)};
}

TensorSplit select(const TensorSplit& split, const at::Tensor& index) {
  return {split.images.index_select(0, index), split.labels.index_select(0, index)};
}

at::Tensor to_unit_float(const at::Tensor& images_u8) { return images_u8.to(torch::kFloat).div_(255.0); }

}  // namespace semharness
