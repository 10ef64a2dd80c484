#include "harness/data/folder_images.h"

#include <torch/torch.h>

namespace semharness {
namespace {

std::vector<int64_t> host_rows(const at::Tensor& index) {
  const auto cpu = index.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int64_t>(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel());
}

}  // namespace

FolderImages::FolderImages(ImageFolderSplit split, int64_t image_size, std::shared_ptr<DecodePool> pool,
                           c10::Device device)
    : split_(std::move(split)), image_size_(image_size), pool_(std::move(pool)), device_(device) {
  labels_ = torch::tensor(split_.labels, torch::kLong).to(device_);
}

at::Tensor FolderImages::host_batch(int64_t rows) const {
  return torch::empty({rows, 3, image_size_, image_size_},
                      torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(device_.is_cuda()));
}

at::Tensor FolderImages::train_views(const at::Tensor& index, uint64_t seed, int64_t epoch, int view, double min_scale,
                                     double flip_p) const {
  const std::vector<int64_t> rows = host_rows(index);
  auto batch = host_batch(static_cast<int64_t>(rows.size()));
  TrainCrop crop;
  crop.size = image_size_;
  crop.min_scale = min_scale;
  crop.flip_p = flip_p;
  decode_train_views(split_, rows, seed, epoch, view, crop, *pool_, batch.data_ptr<uint8_t>());
  return batch.to(device_, /*non_blocking=*/true);
}

at::Tensor FolderImages::eval_images(const at::Tensor& index) const {
  const std::vector<int64_t> rows = host_rows(index);
  auto batch = host_batch(static_cast<int64_t>(rows.size()));
  decode_eval_images(split_, rows, image_size_, image_size_ * 256 / 224, *pool_, batch.data_ptr<uint8_t>());
  return batch.to(device_, /*non_blocking=*/true);
}

}  // namespace semharness
