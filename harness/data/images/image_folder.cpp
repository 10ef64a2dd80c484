#include "harness/data/images/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "class_lists.h"  // generated from results/imagenet100_classes.txt
#include "harness/config/errors.h"
#include "harness/data/images/crop_sampler.h"

namespace semharness {
namespace fs = std::filesystem;
namespace {

std::string lower_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

// torchvision's IMG_EXTENSIONS, split into what this reader decodes and what it does not.
bool decodable_image(const std::string& extension) {
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}
bool other_image(const std::string& extension) {
  static const std::set<std::string> others = {".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
  return others.count(extension) > 0;
}

std::vector<std::string> class_folders(const fs::path& split) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(split)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ImageFolderSplit scan_split(const fs::path& split, const std::vector<std::string>& classes) {
  ImageFolderSplit out;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path folder = split / classes[label];
    if (!fs::is_directory(folder)) throw InputError(folder.string() + ": no such class folder");
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (!entry.is_regular_file()) continue;
      const std::string extension = lower_extension(entry.path());
      if (other_image(extension)) {
        throw InputError(entry.path().string() + ": " + extension +
                         " images are not read (expected JPEG or PNG files: .jpg, .jpeg, .png)");
      }
      if (decodable_image(extension)) files.push_back(entry.path().string());
    }
    if (files.empty()) throw InputError(folder.string() + ": no .jpg, .jpeg or .png images in this class folder");
    std::sort(files.begin(), files.end());
    for (auto& file : files) {
      out.files.push_back(std::move(file));
      out.labels.push_back(static_cast<int64_t>(label));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> named_class_list(const std::string& name) {
  if (name != "imagenet100") {
    throw InputError("data.classes: unknown class list '" + name + "' (expected imagenet100 or empty)");
  }
  std::vector<std::string> classes;
  std::istringstream lines(kImagenet100Classes);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') classes.push_back(line);
  }
  return classes;
}

ImageFolder scan_image_folder(const std::string& root, const std::vector<std::string>& classes) {
  ImageFolder folder;
  folder.root = root;
  const fs::path train = fs::path(root) / "train", val = fs::path(root) / "val";
  for (const fs::path& split : {train, val}) {
    if (!fs::is_directory(split)) {
      throw InputError(split.string() + ": no such folder (an image folder dataset has train/CLASS/* and val/CLASS/*)");
    }
  }
  if (classes.empty()) {
    folder.classes = class_folders(train);
    if (folder.classes.empty()) throw InputError(train.string() + ": no class folders");
    if (class_folders(val) != folder.classes) {
      throw InputError(val.string() + ": its class folders differ from " + train.string() + "'s");
    }
  } else {
    folder.classes = classes;
    std::sort(folder.classes.begin(), folder.classes.end());
  }
  folder.train = scan_split(train, folder.classes);
  folder.val = scan_split(val, folder.classes);
  return folder;
}

DecodePool::DecodePool(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) workers_.emplace_back([this] { work(); });
}

DecodePool::~DecodePool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void DecodePool::run(int64_t n, const std::function<void(int64_t)>& task) {
  if (n <= 0) return;
  std::lock_guard<std::mutex> one_batch(run_mutex_);
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  next_ = 0;
  count_ = n;
  finished_ = 0;
  error_ = nullptr;
  ++generation_;
  wake_.notify_all();
  done_.wait(lock, [&] { return finished_ == count_; });
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void DecodePool::work() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && next_ < count_); });
    if (stopping_) return;
    while (next_ < count_) {
      const int64_t i = next_++;
      const auto* task = task_;
      lock.unlock();
      try {
        (*task)(i);
      } catch (...) {
        std::lock_guard<std::mutex> error_lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      lock.lock();
      if (++finished_ == count_) done_.notify_all();
    }
    seen = generation_;
  }
}

void decode_train_views(const ImageFolderSplit& split, const std::vector<int64_t>& index, uint64_t seed, int64_t epoch,
                        int view, const TrainCrop& crop, DecodePool& pool, uint8_t* out) {
  const int64_t bytes_per_image = 3 * crop.size * crop.size;
  pool.run(static_cast<int64_t>(index.size()), [&](int64_t i) {
    const int64_t sample = index[static_cast<size_t>(i)];
    const std::string& path = split.files[static_cast<size_t>(sample)];
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    const ImageSize size = read_image_size(bytes, path);
    SampleRandom random(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(sample), static_cast<uint64_t>(view));
    const PixelBox box = random_resized_crop_box(size.height, size.width, crop.min_scale, 1.0, random);
    const bool flip = random.uniform() < crop.flip_p;
    const SourceBox source{static_cast<double>(box.left), static_cast<double>(box.top),
                           static_cast<double>(box.left + box.width), static_cast<double>(box.top + box.height)};
    decode_view(bytes, path, source, crop.size, crop.filter, flip, out + i * bytes_per_image);
  });
}

void decode_eval_images(const ImageFolderSplit& split, const std::vector<int64_t>& index, int64_t size,
                        int64_t resize_size, DecodePool& pool, uint8_t* out) {
  const int64_t bytes_per_image = 3 * size * size;
  pool.run(static_cast<int64_t>(index.size()), [&](int64_t i) {
    const std::string& path = split.files[static_cast<size_t>(index[static_cast<size_t>(i)])];
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    const ImageSize image = read_image_size(bytes, path);
    decode_view(bytes, path, centre_crop_box(image.height, image.width, size, resize_size), size,
                ResampleFilter::bilinear, false, out + i * bytes_per_image);
  });
}

}  // namespace semharness
