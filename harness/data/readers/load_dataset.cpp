// Dataset lookup by name: file locations and the fixed metadata of each dataset.
#include <filesystem>
#include <string>
#include <vector>

#include "harness/config/errors.h"
#include "harness/data/image_set.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;

const char* const kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
const char* const kFashionMnistHint = "(install Debian package dataset-fashion-mnist)";
constexpr int64_t kFashionMnistSide = 28;
constexpr int64_t kSyntheticTrain = 2000;
constexpr int64_t kSyntheticTest = 500;
constexpr uint64_t kSyntheticSeed = 0;

bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

// The gzipped file, or the uncompressed one when only that is present.
std::string fashion_mnist_file(const fs::path& dir, const std::string& stem) {
  const fs::path gzipped = dir / (stem + ".gz");
  if (is_file(gzipped)) return gzipped.string();
  const fs::path raw = dir / stem;
  if (is_file(raw)) return raw.string();
  throw InputError(gzipped.string() + ": file not found " + kFashionMnistHint);
}

void check_fashion_mnist(const ImageSet& set, const std::string& images_path, const std::string& labels_path) {
  if (set.height != kFashionMnistSide || set.width != kFashionMnistSide) {
    throw InputError(images_path + ": images are " + std::to_string(set.height) + "x" + std::to_string(set.width) +
                     " (expected 28x28 for Fashion-MNIST)");
  }
  for (int64_t i = 0; i < set.n; ++i) {
    if (set.labels[i] >= 10) {
      throw InputError(labels_path + ": label " + std::to_string(i) + " is " + std::to_string(set.labels[i]) +
                       " (expected < 10 for Fashion-MNIST)");
    }
  }
}

Dataset load_fashion_mnist(const std::string& data_dir) {
  const fs::path dir = data_dir.empty() ? fs::path(kFashionMnistDefaultDir) : fs::path(data_dir);
  Dataset dataset;
  DatasetInfo& info = dataset.info;
  info.name = "fashion_mnist";
  info.num_classes = 10;
  info.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  info.mean = {0.2860};
  info.std = {0.3530};

  const std::string train_images = fashion_mnist_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = fashion_mnist_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = fashion_mnist_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = fashion_mnist_file(dir, "t10k-labels-idx1-ubyte");
  dataset.train = read_idx(train_images, train_labels);
  check_fashion_mnist(dataset.train, train_images, train_labels);
  dataset.test = read_idx(test_images, test_labels);
  check_fashion_mnist(dataset.test, test_images, test_labels);
  return dataset;
}

// data_dir itself, or its standard subfolder from the CIFAR archive, whichever holds first_file.
fs::path find_cifar_dir(const std::string& name, const std::string& data_dir, const std::string& subfolder,
                        const std::string& first_file) {
  if (data_dir.empty()) {
    throw InputError("dataset '" + name + "' needs data_dir (the folder holding " +
                     (name == "cifar10" ? std::string("data_batch_1.bin .. data_batch_5.bin and test_batch.bin")
                                        : std::string("train.bin and test.bin")) +
                     ")");
  }
  const fs::path dir(data_dir);
  if (is_file(dir / first_file)) return dir;
  if (is_file(dir / subfolder / first_file)) return dir / subfolder;
  throw InputError((dir / first_file).string() + ": file not found (nor in " + (dir / subfolder).string() + ")");
}

Dataset load_cifar10(const std::string& data_dir) {
  const fs::path dir = find_cifar_dir("cifar10", data_dir, "cifar-10-batches-bin", "data_batch_1.bin");
  Dataset dataset;
  DatasetInfo& info = dataset.info;
  info.name = "cifar10";
  info.num_classes = 10;
  info.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  info.mean = {0.4914, 0.4822, 0.4465};
  info.std = {0.2470, 0.2435, 0.2616};

  std::vector<std::string> train_files;
  for (int batch = 1; batch <= 5; ++batch) {
    train_files.push_back((dir / ("data_batch_" + std::to_string(batch) + ".bin")).string());
  }
  dataset.train = read_cifar_binary(train_files, 10);
  dataset.test = read_cifar_binary({(dir / "test_batch.bin").string()}, 10);
  return dataset;
}

Dataset load_cifar100(const std::string& data_dir) {
  const fs::path dir = find_cifar_dir("cifar100", data_dir, "cifar-100-binary", "train.bin");
  Dataset dataset;
  DatasetInfo& info = dataset.info;
  info.name = "cifar100";
  info.num_classes = 100;
  info.class_names = cifar100_fine_names();
  info.mean = {0.5071, 0.4865, 0.4409};
  info.std = {0.2673, 0.2564, 0.2762};

  dataset.train = read_cifar_binary({(dir / "train.bin").string()}, 100);
  dataset.test = read_cifar_binary({(dir / "test.bin").string()}, 100);
  return dataset;
}

}  // namespace

Dataset load_dataset(const std::string& name, const std::string& data_dir) {
  if (name == "fashion_mnist") return load_fashion_mnist(data_dir);
  if (name == "cifar10") return load_cifar10(data_dir);
  if (name == "cifar100") return load_cifar100(data_dir);
  if (name == "synthetic") return make_synthetic(kSyntheticTrain, kSyntheticTest, kSyntheticSeed);
  throw InputError("unknown dataset '" + name + "' (expected fashion_mnist, cifar10, cifar100 or synthetic)");
}

}  // namespace semharness
