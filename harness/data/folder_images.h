#pragma once
// An image-folder split on the run's device (harness/data/images/ decodes it): the labels resident, the images
// decoded per batch on a pool of threads into a pinned host batch (on CUDA) and copied without a sync.
#include <memory>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "harness/data/images/image_folder.h"

namespace semharness {

class FolderImages {
 public:
  FolderImages(ImageFolderSplit split, int64_t image_size, std::shared_ptr<DecodePool> pool, c10::Device device);
  int64_t size() const { return split_.size(); }
  int64_t image_size() const { return image_size_; }
  const at::Tensor& labels() const { return labels_; }
  // uint8 [B, 3, S, S] on the device: RandomResizedCrop(S, scale=(min_scale, 1)) and a flip with probability
  // flip_p of rows `index`, each drawn from (seed, epoch, row, view) alone.
  at::Tensor train_views(const at::Tensor& index, uint64_t seed, int64_t epoch, int view, double min_scale,
                         double flip_p) const;
  // uint8 [B, 3, S, S] on the device: Resize(S * 256 / 224) + CenterCrop(S) of rows `index`.
  at::Tensor eval_images(const at::Tensor& index) const;

 private:
  at::Tensor host_batch(int64_t rows) const;
  ImageFolderSplit split_;
  int64_t image_size_;
  std::shared_ptr<DecodePool> pool_;
  c10::Device device_;
  at::Tensor labels_;
};

}  // namespace semharness
