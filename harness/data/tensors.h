#pragma once
// Images as tensors on the run's device: uint8 [N, C, H, W] (a quarter of float's memory; converted per
// batch) and int64 labels.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>

#include "harness/data/image_set.h"

namespace semharness {

class FolderImages;  // harness/data/folder_images.h
struct DataSpec;     // harness/config/run_spec.h

// A split resident on the device (images set) or of image files decoded per batch (folder set).
struct TensorSplit {
  at::Tensor images;  // uint8 [N, C, H, W]; undefined for a folder split
  at::Tensor labels;  // int64 [N]
  std::shared_ptr<const FolderImages> folder;
  int64_t size() const { return labels.size(0); }
  int64_t channels() const;
  c10::Device device() const { return labels.device(); }
  // uint8 [B, C, H, W] on the device of rows [start, end) or rows `index`, as evaluation sees them: the stored
  // images, or the files' Resize + CenterCrop.
  at::Tensor eval_images(int64_t start, int64_t end) const;
  at::Tensor eval_images(const at::Tensor& index) const;
};

struct DeviceDataset {
  DatasetInfo info;
  TensorSplit train, test;
};

TensorSplit to_tensors(const ImageSet& set, c10::Device device);
DeviceDataset to_device(const Dataset& dataset, c10::Device device);
// The dataset a run names, on `device`: read whole (load_dataset) or, for image_folder, scanned, with its
// files decoded per batch on data.workers threads (0: one per core).
DeviceDataset load_device_dataset(const DataSpec& data, c10::Device device);
// Rows `index` (int64 on the same device) of a split.
TensorSplit select(const TensorSplit& split, const at::Tensor& index);
// uint8 [B, C, H, W] -> float in [0, 1].
at::Tensor to_unit_float(const at::Tensor& images_u8);

}  // namespace semharness
