#pragma once
// A dataset of image files in torchvision's ImageFolder layout, DATA_DIR/{train,val}/CLASS/FILE, and the
// pool that decodes its batches: every sample of a batch decoded, cropped and resized on a thread of its
// own, into the uint8 [B, 3, S, S] layout of the in-memory datasets.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/data/images/resample.h"

namespace semharness {

struct ImageFolderSplit {
  std::vector<std::string> files;  // sorted by class, then by file name
  std::vector<int64_t> labels;     // index into ImageFolder::classes
  int64_t size() const { return static_cast<int64_t>(files.size()); }
};

struct ImageFolder {
  std::string root;
  std::vector<std::string> classes;  // folder names (e.g. WordNet ids), sorted: label i is classes[i]
  ImageFolderSplit train, val;
};

// The classes of a named list: "imagenet100" is the 100 WordNet ids of the CMC paper (Tian et al. 2020),
// the subset solo-learn and the SEM authors train on (results/imagenet100_classes.txt). Throws InputError
// on another name.
std::vector<std::string> named_class_list(const std::string& name);

// Scans root/train and root/val. `classes` empty: every class folder of train (val must have the same);
// otherwise exactly those, each of which must exist in both. Files ending .jpg, .jpeg or .png (any case) are
// images; other image formats torchvision reads (.bmp, .tif, .webp, ...) are an error, anything else is
// skipped. Throws InputError naming the folder or file on a missing split, an unknown class, a class with no
// images or a file that is not an image this reader decodes.
ImageFolder scan_image_folder(const std::string& root, const std::vector<std::string>& classes);

// A fixed set of threads that run the samples of one batch at a time.
class DecodePool {
 public:
  explicit DecodePool(int threads);  // threads >= 1
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;
  int threads() const { return static_cast<int>(workers_.size()); }
  // Runs task(i) for i in [0, n) and returns when all are done; rethrows the first exception a task threw.
  // Callers on several threads take turns.
  void run(int64_t n, const std::function<void(int64_t)>& task);

 private:
  void work();
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one batch at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t next_ = 0, count_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

// What a training view is cut from each image: RandomResizedCrop(size, scale=(min_scale, 1)) then a horizontal
// flip with probability flip_p, resampled with `filter` (the authors' bicubic).
struct TrainCrop {
  int64_t size = 224;
  double min_scale = 0.08;
  double flip_p = 0.5;
  ResampleFilter filter = ResampleFilter::bicubic;
};

// Training views of split.files[index[i]] into out + i * 3 * size * size, each drawn from
// SampleRandom(seed, epoch, index[i], view).
void decode_train_views(const ImageFolderSplit& split, const std::vector<int64_t>& index, uint64_t seed, int64_t epoch,
                        int view, const TrainCrop& crop, DecodePool& pool, uint8_t* out);

// Evaluation images (Resize(resize_size, bilinear) + CenterCrop(size) as one resampling) of split.files[index[i]].
void decode_eval_images(const ImageFolderSplit& split, const std::vector<int64_t>& index, int64_t size,
                        int64_t resize_size, DecodePool& pool, uint8_t* out);

}  // namespace semharness
