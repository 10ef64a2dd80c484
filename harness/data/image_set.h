#pragma once
// Datasets as plain bytes, read without LibTorch (harness/data/tensors.h turns them into tensors).
#include <cstdint>
#include <string>
#include <vector>

namespace semharness {

struct ImageSet {
  int64_t n = 0, channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // n * channels * height * width, NCHW order
  std::vector<int64_t> labels;  // n
};

struct DatasetInfo {
  std::string name;  // "fashion_mnist", "cifar10", "cifar100", "synthetic"
  int64_t num_classes = 0;
  std::vector<std::string> class_names;
  std::vector<double> mean, std;  // per channel, for normalisation
};

struct Dataset {
  DatasetInfo info;
  ImageSet train, test;
};

// IDX files (the MNIST format), gzipped (.gz, read with zlib) or raw. Throws InputError naming the file on
// a missing file, a bad magic number, a truncated body or images/labels counts that disagree.
ImageSet read_idx(const std::string& images_path, const std::string& labels_path);

// CIFAR binary format: each record is <label byte(s)><3072 pixel bytes>. CIFAR-10: 1 label byte;
// CIFAR-100: coarse then fine label byte (the fine label is used). Throws InputError naming the file when it
// is missing or its size is not a whole number of records.
ImageSet read_cifar_binary(const std::vector<std::string>& files, int num_classes /* 10 or 100 */);

// CIFAR-100 label metadata: the 100 fine class names in label order, the 20 superclass names in coarse-label
// order, and the superclass (0..19) of each fine label.
const std::vector<std::string>& cifar100_fine_names();
const std::vector<std::string>& cifar100_superclass_names();
std::vector<int64_t> cifar100_coarse_of_fine();

// Deterministic synthetic images (3x16x16, 10 classes): each class is a smooth random template; each image
// is its class template, shifted by up to 2 pixels, with per-pixel noise. Linearly separable enough that a
// probe on a random ConvNet beats chance clearly.
Dataset make_synthetic(int64_t n_train, int64_t n_test, uint64_t seed);

// name: "fashion_mnist" (data_dir default /usr/share/datasets/fashion-mnist, files train-images-idx3-ubyte.gz
// etc.), "cifar10" (data_batch_1..5.bin, test_batch.bin), "cifar100" (train.bin, test.bin; files may also be
// inside a cifar-10-batches-bin / cifar-100-binary subfolder), "synthetic" (2000 train, 500 test; data_dir
// ignored). Throws InputError on an unknown name or unreadable files.
Dataset load_dataset(const std::string& name, const std::string& data_dir);

}  // namespace semharness
