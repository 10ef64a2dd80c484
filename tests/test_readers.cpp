// Dataset readers: IDX (raw and gzipped), CIFAR binary, synthetic data, load_dataset and CIFAR-100 metadata.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cifar100_superclasses.h"
#include "harness/config/errors.h"
#include "harness/data/image_set.h"

namespace semharness {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

void append_u32_be(Bytes& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(value >> shift));
}

Bytes idx_images(uint32_t n, uint32_t rows, uint32_t cols, const Bytes& pixels) {
  Bytes bytes;
  append_u32_be(bytes, 0x00000803);
  append_u32_be(bytes, n);
  append_u32_be(bytes, rows);
  append_u32_be(bytes, cols);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

Bytes idx_labels(uint32_t n, const Bytes& labels) {
  Bytes bytes;
  append_u32_be(bytes, 0x00000801);
  append_u32_be(bytes, n);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// One CIFAR record: label byte(s), then 3072 pixel bytes filled from `seed`.
Bytes cifar_record(const Bytes& label_bytes, uint8_t seed) {
  Bytes bytes = label_bytes;
  for (int i = 0; i < 3072; ++i) bytes.push_back(static_cast<uint8_t>(seed + i * 7));
  return bytes;
}

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes bytes;
  for (const Bytes& part : parts) bytes.insert(bytes.end(), part.begin(), part.end());
  return bytes;
}

void write_raw(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void write_gz(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

Bytes read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The message of the InputError that `action` throws ("" and a test failure when it throws none).
template <typename Action>
std::string input_error_of(Action action) {
  try {
    action();
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ReadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "semharness_readers_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Three 2x4 images with distinct pixels and labels 0, 7, 255.
  static Bytes small_pixels() {
    Bytes pixels(3 * 2 * 4);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(10 * i + 1);
    return pixels;
  }
  static Bytes small_labels() { return {0, 7, 255}; }

  static void expect_small_set(const ImageSet& set) {
    EXPECT_EQ(set.n, 3);
    EXPECT_EQ(set.channels, 1);
    EXPECT_EQ(set.height, 2);
    EXPECT_EQ(set.width, 4);
    EXPECT_EQ(set.pixels, small_pixels());
    EXPECT_EQ(set.labels, (std::vector<int64_t>{0, 7, 255}));
  }

  fs::path dir_;
};

TEST_F(ReadersTest, ReadsRawIdx) {
  write_raw(dir_ / "images", idx_images(3, 2, 4, small_pixels()));
  write_raw(dir_ / "labels", idx_labels(3, small_labels()));
  expect_small_set(read_idx((dir_ / "images").string(), (dir_ / "labels").string()));
}

TEST_F(ReadersTest, ReadsGzippedIdx) {
  write_gz(dir_ / "images.gz", idx_images(3, 2, 4, small_pixels()));
  write_gz(dir_ / "labels.gz", idx_labels(3, small_labels()));
  expect_small_set(read_idx((dir_ / "images.gz").string(), (dir_ / "labels.gz").string()));
}

TEST_F(ReadersTest, ReadsGzippedImagesWithRawLabels) {
  write_gz(dir_ / "images.gz", idx_images(3, 2, 4, small_pixels()));
  write_raw(dir_ / "labels", idx_labels(3, small_labels()));
  expect_small_set(read_idx((dir_ / "images.gz").string(), (dir_ / "labels").string()));
}

TEST_F(ReadersTest, ReadsLargeGzippedIdxAcrossChunks) {
  // Large enough to need several 16 MiB chunks.
  const uint32_t n = 50000, side = 28;
  Bytes pixels(size_t{n} * side * side);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 131 % 251);
  Bytes labels(n);
  for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  write_gz(dir_ / "images.gz", idx_images(n, side, side, pixels));
  write_gz(dir_ / "labels.gz", idx_labels(n, labels));
  const ImageSet set = read_idx((dir_ / "images.gz").string(), (dir_ / "labels.gz").string());
  EXPECT_EQ(set.n, n);
  EXPECT_TRUE(set.pixels == pixels);
  EXPECT_EQ(set.labels[12345], 5);
}

TEST_F(ReadersTest, TruncatedIdxBodyNamesFile) {
  Bytes body = small_pixels();
  body.resize(10);
  const fs::path images = dir_ / "images";
  write_raw(images, idx_images(3, 2, 4, body));
  write_raw(dir_ / "labels", idx_labels(3, small_labels()));
  const std::string message = input_error_of([&] { read_idx(images.string(), (dir_ / "labels").string()); });
  EXPECT_EQ(message, images.string() + ": truncated: expected 24 bytes of pixels, got 10");
}

TEST_F(ReadersTest, TruncatedGzippedIdxBodyNamesFile) {
  Bytes body = small_pixels();
  body.resize(5);
  const fs::path images = dir_ / "images.gz";
  write_gz(images, idx_images(3, 2, 4, body));
  write_gz(dir_ / "labels.gz", idx_labels(3, small_labels()));
  const std::string message = input_error_of([&] { read_idx(images.string(), (dir_ / "labels.gz").string()); });
  EXPECT_EQ(message, images.string() + ": truncated: expected 24 bytes of pixels, got 5");
}

TEST_F(ReadersTest, TruncatedLabelsNamesFile) {
  write_raw(dir_ / "images", idx_images(3, 2, 4, small_pixels()));
  const fs::path labels = dir_ / "labels";
  write_raw(labels, idx_labels(3, {1, 2}));
  const std::string message = input_error_of([&] { read_idx((dir_ / "images").string(), labels.string()); });
  EXPECT_EQ(message, labels.string() + ": truncated: expected 3 bytes of labels, got 2");
}

TEST_F(ReadersTest, CutGzipStreamNamesFile) {
  const fs::path images = dir_ / "images.gz";
  write_gz(images, idx_images(3, 2, 4, small_pixels()));
  Bytes compressed = read_raw(images);
  compressed.resize(compressed.size() - 12);  // drops the trailer and the end of the deflate stream
  write_raw(images, compressed);
  write_gz(dir_ / "labels.gz", idx_labels(3, small_labels()));
  const std::string message = input_error_of([&] { read_idx(images.string(), (dir_ / "labels.gz").string()); });
  EXPECT_EQ(message.rfind(images.string() + ": ", 0), 0u) << message;
}

TEST_F(ReadersTest, TrailingIdxDataNamesFile) {
  Bytes body = small_pixels();
  body.push_back(0);
  const fs::path images = dir_ / "images";
  write_raw(images, idx_images(3, 2, 4, body));
  write_raw(dir_ / "labels", idx_labels(3, small_labels()));
  const std::string message = input_error_of([&] { read_idx(images.string(), (dir_ / "labels").string()); });
  EXPECT_EQ(message, images.string() + ": unexpected data after the 24 bytes of pixels");
}

TEST_F(ReadersTest, BadIdxMagicNamesFile) {
  // Swapped arguments: the labels file where the images file belongs.
  write_raw(dir_ / "images", idx_images(3, 2, 4, small_pixels()));
  const fs::path labels = dir_ / "labels";
  write_raw(labels, idx_labels(3, small_labels()));
  const std::string message = input_error_of([&] { read_idx(labels.string(), (dir_ / "images").string()); });
  EXPECT_EQ(message, labels.string() + ": bad IDX magic 0x00000801 (expected 0x00000803 for images)");

  const fs::path zeros = dir_ / "zeros";
  write_raw(zeros, Bytes(64, 0));
  EXPECT_EQ(input_error_of([&] { read_idx(zeros.string(), labels.string()); }),
            zeros.string() + ": bad IDX magic 0x00000000 (expected 0x00000803 for images)");
}

TEST_F(ReadersTest, ShortIdxHeaderNamesFile) {
  const fs::path images = dir_ / "images";
  write_raw(images, {0, 0, 8, 3, 0, 0});
  write_raw(dir_ / "labels", idx_labels(3, small_labels()));
  EXPECT_EQ(input_error_of([&] { read_idx(images.string(), (dir_ / "labels").string()); }),
            images.string() + ": truncated: expected a 16-byte IDX images header, got 6 bytes");
}

TEST_F(ReadersTest, IdxCountMismatchNamesBothFiles) {
  const fs::path images = dir_ / "images", labels = dir_ / "labels";
  write_raw(images, idx_images(3, 2, 4, small_pixels()));
  write_raw(labels, idx_labels(2, {1, 2}));
  EXPECT_EQ(input_error_of([&] { read_idx(images.string(), labels.string()); }),
            labels.string() + ": has 2 labels but " + images.string() + " has 3 images");
}

TEST_F(ReadersTest, MissingIdxFileNamesFile) {
  const fs::path images = dir_ / "no-such-images.gz";
  write_raw(dir_ / "labels", idx_labels(3, small_labels()));
  const std::string message = input_error_of([&] { read_idx(images.string(), (dir_ / "labels").string()); });
  EXPECT_EQ(message.rfind(images.string() + ": cannot open", 0), 0u) << message;
}

TEST_F(ReadersTest, ReadsCifar10AcrossFiles) {
  write_raw(dir_ / "a.bin", concat({cifar_record({3}, 1), cifar_record({9}, 2)}));
  write_raw(dir_ / "b.bin", cifar_record({0}, 3));
  const ImageSet set = read_cifar_binary({(dir_ / "a.bin").string(), (dir_ / "b.bin").string()}, 10);
  EXPECT_EQ(set.n, 3);
  EXPECT_EQ(set.channels, 3);
  EXPECT_EQ(set.height, 32);
  EXPECT_EQ(set.width, 32);
  EXPECT_EQ(set.labels, (std::vector<int64_t>{3, 9, 0}));
  ASSERT_EQ(set.pixels.size(), 3u * 3072);
  for (int image = 0; image < 3; ++image) {
    const Bytes expected = cifar_record({}, static_cast<uint8_t>(image + 1));
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), set.pixels.begin() + image * 3072)) << image;
  }
}

TEST_F(ReadersTest, ReadsCifar100FineLabels) {
  write_raw(dir_ / "train.bin", concat({cifar_record({4, 0}, 5), cifar_record({13, 99}, 6)}));
  const ImageSet set = read_cifar_binary({(dir_ / "train.bin").string()}, 100);
  EXPECT_EQ(set.n, 2);
  EXPECT_EQ(set.labels, (std::vector<int64_t>{0, 99}));
  const Bytes second = cifar_record({}, 6);
  EXPECT_TRUE(std::equal(second.begin(), second.end(), set.pixels.begin() + 3072));
}

TEST_F(ReadersTest, CifarPartialRecordNamesFile) {
  const fs::path file = dir_ / "train.bin";
  Bytes bytes = cifar_record({4, 0}, 5);
  bytes.push_back(1);
  write_raw(file, bytes);
  EXPECT_EQ(input_error_of([&] { read_cifar_binary({file.string()}, 100); }),
            file.string() + ": size 3075 is not a whole number of 3074-byte CIFAR-100 records");
}

TEST_F(ReadersTest, CifarLabelOutOfRangeNamesFile) {
  const fs::path file = dir_ / "data_batch_1.bin";
  write_raw(file, concat({cifar_record({1}, 0), cifar_record({10}, 0)}));
  EXPECT_EQ(input_error_of([&] { read_cifar_binary({file.string()}, 10); }),
            file.string() + ": record 1 has label 10 (expected < 10 for CIFAR-10)");

  const fs::path file100 = dir_ / "train.bin";
  write_raw(file100, cifar_record({1, 100}, 0));
  EXPECT_EQ(input_error_of([&] { read_cifar_binary({file100.string()}, 100); }),
            file100.string() + ": record 0 has label 100 (expected < 100 for CIFAR-100)");
}

TEST_F(ReadersTest, MissingCifarFileNamesFile) {
  write_raw(dir_ / "a.bin", cifar_record({3}, 1));
  const fs::path missing = dir_ / "b.bin";
  const std::string message = input_error_of([&] {
    read_cifar_binary({(dir_ / "a.bin").string(), missing.string()}, 10);
  });
  EXPECT_EQ(message.rfind(missing.string() + ": file not found", 0), 0u) << message;
}

TEST_F(ReadersTest, LoadsCifar10FromArchiveSubfolder) {
  const fs::path sub = dir_ / "cifar-10-batches-bin";
  for (int batch = 1; batch <= 5; ++batch) {
    write_raw(sub / ("data_batch_" + std::to_string(batch) + ".bin"), cifar_record({static_cast<uint8_t>(batch)}, 0));
  }
  write_raw(sub / "test_batch.bin", concat({cifar_record({8}, 0), cifar_record({9}, 0)}));
  const Dataset dataset = load_dataset("cifar10", dir_.string());
  EXPECT_EQ(dataset.info.name, "cifar10");
  EXPECT_EQ(dataset.info.num_classes, 10);
  ASSERT_EQ(dataset.info.class_names.size(), 10u);
  EXPECT_EQ(dataset.info.class_names[0], "airplane");
  EXPECT_EQ(dataset.info.class_names[9], "truck");
  EXPECT_EQ(dataset.info.mean.size(), 3u);
  EXPECT_EQ(dataset.info.std.size(), 3u);
  EXPECT_EQ(dataset.train.labels, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(dataset.test.n, 2);
}

TEST_F(ReadersTest, LoadsCifar100FromDataDir) {
  write_raw(dir_ / "train.bin", concat({cifar_record({4, 0}, 0), cifar_record({13, 99}, 0)}));
  write_raw(dir_ / "test.bin", cifar_record({1, 1}, 0));
  const Dataset dataset = load_dataset("cifar100", dir_.string());
  EXPECT_EQ(dataset.info.num_classes, 100);
  EXPECT_EQ(dataset.info.class_names, cifar100_fine_names());
  EXPECT_EQ(dataset.train.labels, (std::vector<int64_t>{0, 99}));
  EXPECT_EQ(dataset.test.labels, (std::vector<int64_t>{1}));
}

TEST_F(ReadersTest, LoadDatasetErrors) {
  EXPECT_EQ(input_error_of([] { load_dataset("cifar100", ""); }),
            "dataset 'cifar100' needs data_dir (the folder holding train.bin and test.bin)");
  EXPECT_TRUE(contains(input_error_of([] { load_dataset("cifar10", ""); }), "needs data_dir"));
  EXPECT_TRUE(contains(input_error_of([] { load_dataset("mnist", ""); }), "unknown dataset 'mnist'"));

  const std::string cifar = input_error_of([&] { load_dataset("cifar100", dir_.string()); });
  EXPECT_TRUE(contains(cifar, (dir_ / "train.bin").string())) << cifar;

  const std::string fashion = input_error_of([&] { load_dataset("fashion_mnist", dir_.string()); });
  EXPECT_EQ(fashion, (dir_ / "train-images-idx3-ubyte.gz").string() +
                         ": file not found (install Debian package dataset-fashion-mnist)");
}

TEST_F(ReadersTest, LoadsFashionMnistLayoutFromDataDir) {
  // Uncompressed files are accepted when the .gz ones are absent.
  Bytes pixels(2 * 28 * 28, 17);
  write_raw(dir_ / "train-images-idx3-ubyte", idx_images(2, 28, 28, pixels));
  write_raw(dir_ / "train-labels-idx1-ubyte", idx_labels(2, {9, 0}));
  write_gz(dir_ / "t10k-images-idx3-ubyte.gz", idx_images(2, 28, 28, pixels));
  write_gz(dir_ / "t10k-labels-idx1-ubyte.gz", idx_labels(2, {3, 10}));
  const std::string message = input_error_of([&] { load_dataset("fashion_mnist", dir_.string()); });
  EXPECT_EQ(message,
            (dir_ / "t10k-labels-idx1-ubyte.gz").string() + ": label 1 is 10 (expected < 10 for Fashion-MNIST)");

  write_gz(dir_ / "t10k-labels-idx1-ubyte.gz", idx_labels(2, {3, 4}));
  const Dataset dataset = load_dataset("fashion_mnist", dir_.string());
  EXPECT_EQ(dataset.info.name, "fashion_mnist");
  EXPECT_EQ(dataset.info.class_names[0], "T-shirt/top");
  EXPECT_EQ(dataset.info.class_names[9], "Ankle boot");
  EXPECT_EQ(dataset.train.labels, (std::vector<int64_t>{9, 0}));
  EXPECT_EQ(dataset.test.labels, (std::vector<int64_t>{3, 4}));
}

TEST_F(ReadersTest, SyntheticIsDeterministicAndBalanced) {
  const Dataset a = make_synthetic(200, 50, 42);
  const Dataset b = make_synthetic(200, 50, 42);
  const Dataset c = make_synthetic(200, 50, 43);
  EXPECT_EQ(a.train.pixels, b.train.pixels);
  EXPECT_EQ(a.train.labels, b.train.labels);
  EXPECT_EQ(a.test.pixels, b.test.pixels);
  EXPECT_EQ(a.info.mean, b.info.mean);
  EXPECT_NE(a.train.pixels, c.train.pixels);

  EXPECT_EQ(a.train.n, 200);
  EXPECT_EQ(a.train.channels, 3);
  EXPECT_EQ(a.train.height, 16);
  EXPECT_EQ(a.train.width, 16);
  EXPECT_EQ(a.train.pixels.size(), 200u * 3 * 16 * 16);
  EXPECT_EQ(a.test.n, 50);
  EXPECT_EQ(a.info.num_classes, 10);
  EXPECT_EQ(a.info.class_names[3], "class3");
  ASSERT_EQ(a.info.mean.size(), 3u);
  ASSERT_EQ(a.info.std.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(a.info.mean[c], 0.2);
    EXPECT_LT(a.info.mean[c], 0.8);
    EXPECT_GT(a.info.std[c], 0.05);
  }

  std::map<int64_t, int> train_counts, test_counts;
  for (int64_t label : a.train.labels) ++train_counts[label];
  for (int64_t label : a.test.labels) ++test_counts[label];
  ASSERT_EQ(train_counts.size(), 10u);
  for (const auto& [label, count] : train_counts) EXPECT_EQ(count, 20) << label;
  for (const auto& [label, count] : test_counts) EXPECT_EQ(count, 5) << label;
  EXPECT_NE(a.train.labels, c.train.labels);  // shuffled, not the same order for every seed
}

TEST_F(ReadersTest, SyntheticClassesAreSeparableButImagesDiffer) {
  const Dataset data = make_synthetic(2000, 500, 7);
  const size_t image_size = 3 * 16 * 16;
  std::vector<std::vector<double>> class_means(10, std::vector<double>(image_size, 0.0));
  std::vector<int> counts(10, 0);
  for (int64_t i = 0; i < data.train.n; ++i) {
    const int64_t label = data.train.labels[i];
    ++counts[label];
    for (size_t p = 0; p < image_size; ++p) class_means[label][p] += data.train.pixels[i * image_size + p];
  }
  for (int k = 0; k < 10; ++k) {
    for (double& value : class_means[k]) value /= counts[k];
  }

  int correct = 0;
  for (int64_t i = 0; i < data.test.n; ++i) {
    int best = 0;
    double best_distance = 1e300;
    for (int k = 0; k < 10; ++k) {
      double distance = 0;
      for (size_t p = 0; p < image_size; ++p) {
        const double diff = data.test.pixels[i * image_size + p] - class_means[k][p];
        distance += diff * diff;
      }
      if (distance < best_distance) best_distance = distance, best = k;
    }
    correct += best == data.test.labels[i];
  }
  EXPECT_GT(correct, 0.9 * data.test.n);

  std::set<Bytes> distinct;
  for (int64_t i = 0; i < data.train.n; ++i) {
    distinct.emplace(data.train.pixels.begin() + i * image_size, data.train.pixels.begin() + (i + 1) * image_size);
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(data.train.n));
}

TEST_F(ReadersTest, LoadsSyntheticByName) {
  const Dataset dataset = load_dataset("synthetic", "ignored");
  EXPECT_EQ(dataset.info.name, "synthetic");
  EXPECT_EQ(dataset.train.n, 2000);
  EXPECT_EQ(dataset.test.n, 500);
}

TEST_F(ReadersTest, Cifar100CoarseMapping) {
  const std::vector<int64_t> coarse = cifar100_coarse_of_fine();
  const std::vector<std::string>& fine_names = cifar100_fine_names();
  const std::vector<std::string>& coarse_names = cifar100_superclass_names();
  ASSERT_EQ(coarse.size(), 100u);
  ASSERT_EQ(fine_names.size(), 100u);
  ASSERT_EQ(coarse_names.size(), 20u);
  EXPECT_EQ(std::set<std::string>(fine_names.begin(), fine_names.end()).size(), 100u);
  EXPECT_TRUE(std::is_sorted(fine_names.begin(), fine_names.end()));

  EXPECT_EQ(coarse[0], 4);
  EXPECT_EQ(coarse_names[4], "fruit_and_vegetables");
  EXPECT_EQ(coarse[1], 1);
  EXPECT_EQ(coarse_names[1], "fish");
  EXPECT_EQ(fine_names[19], "cattle");
  EXPECT_EQ(coarse[19], 11);
  EXPECT_EQ(coarse_names[11], "large_omnivores_and_herbivores");
  EXPECT_EQ(fine_names[99], "worm");
  EXPECT_EQ(coarse[99], 13);
  EXPECT_EQ(coarse_names[13], "non-insect_invertebrates");

  std::vector<int> members(20, 0);
  for (int64_t superclass : coarse) {
    ASSERT_GE(superclass, 0);
    ASSERT_LT(superclass, 20);
    ++members[superclass];
  }
  for (int k = 0; k < 20; ++k) EXPECT_EQ(members[k], 5) << coarse_names[k];

  const auto& superclasses = cifar100_superclasses();
  for (size_t fine = 0; fine < 100; ++fine) {
    const std::string& superclass = coarse_names[coarse[fine]];
    ASSERT_EQ(superclasses.count(superclass), 1u) << superclass;
    EXPECT_EQ(superclasses.at(superclass).count(fine_names[fine]), 1u) << fine_names[fine] << " in " << superclass;
  }
}

TEST_F(ReadersTest, LoadsInstalledFashionMnist) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Debian package dataset-fashion-mnist is not installed";
  }
  const Dataset dataset = load_dataset("fashion_mnist", "");
  EXPECT_EQ(dataset.info.num_classes, 10);
  EXPECT_EQ(dataset.train.n, 60000);
  EXPECT_EQ(dataset.test.n, 10000);
  for (const ImageSet* set : {&dataset.train, &dataset.test}) {
    EXPECT_EQ(set->channels, 1);
    EXPECT_EQ(set->height, 28);
    EXPECT_EQ(set->width, 28);
    EXPECT_EQ(set->pixels.size(), static_cast<size_t>(set->n) * 28 * 28);
    EXPECT_EQ(set->labels.size(), static_cast<size_t>(set->n));
    EXPECT_TRUE(std::all_of(set->labels.begin(), set->labels.end(), [](int64_t l) { return l >= 0 && l < 10; }));
  }
}

}  // namespace
}  // namespace semharness
