#include "harness/data/tensors.h"

#include <thread>

#include <torch/torch.h>

#include "harness/config/errors.h"
#include "harness/config/run_spec.h"
#include "harness/data/folder_images.h"

namespace semharness {
namespace {

// ImageNet's channel statistics (torchvision's), which the authors normalise every image folder with.
const std::vector<double> kImagenetMean = {0.485, 0.456, 0.406}, kImagenetStd = {0.229, 0.224, 0.225};

}  // namespace

int64_t TensorSplit::channels() const { return folder ? 3 : images.size(1); }

at::Tensor TensorSplit::eval_images(int64_t start, int64_t end) const {
  if (!folder) return images.slice(0, start, end);
  return folder->eval_images(torch::arange(start, end, torch::kLong));
}

at::Tensor TensorSplit::eval_images(const at::Tensor& index) const {
  return folder ? folder->eval_images(index) : images.index_select(0, index);
}

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

DeviceDataset load_device_dataset(const DataSpec& data, c10::Device device) {
  if (data.dataset != "image_folder") return to_device(load_dataset(data.dataset, data.data_dir), device);
  if (data.data_dir.empty()) {
    throw InputError("dataset = image_folder needs data_dir (a folder with train/CLASS/* and val/CLASS/*)");
  }
  const ImageFolder folder = scan_image_folder(
      data.data_dir, data.classes == "all" ? std::vector<std::string>() : named_class_list(data.classes));
  const int threads = data.workers > 0 ? static_cast<int>(data.workers)
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto pool = std::make_shared<DecodePool>(threads);
  DeviceDataset out;
  out.info.name = "image_folder";
  out.info.num_classes = static_cast<int64_t>(folder.classes.size());
  out.info.class_names = folder.classes;
  out.info.mean = kImagenetMean;
  out.info.std = kImagenetStd;
  for (auto [split, files] : {std::pair{&out.train, &folder.train}, std::pair{&out.test, &folder.val}}) {
    auto images = std::make_shared<FolderImages>(*files, data.image_size, pool, device);
    split->labels = images->labels();
    split->folder = std::move(images);
  }
  return out;
}

TensorSplit select(const TensorSplit& split, const at::Tensor& index) {
  if (split.folder) throw std::logic_error("select: a folder split is not held in memory");
  return {split.images.index_select(0, index), split.labels.index_select(0, index), nullptr};
}

at::Tensor to_unit_float(const at::Tensor& images_u8) { return images_u8.to(torch::kFloat).div_(255.0); }

}  // namespace semharness
