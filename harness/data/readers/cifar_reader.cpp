// CIFAR-10/100 binary reader and CIFAR-100 label metadata.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "harness/config/errors.h"
#include "harness/data/image_set.h"

namespace semharness {
namespace {

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixelBytes = 3 * kCifarSide * kCifarSide;  // already CHW: 1024 R, 1024 G, 1024 B
constexpr int kCifar100Superclasses = 20;

struct RecordLayout {
  int64_t label_bytes;  // CIFAR-10: the label; CIFAR-100: coarse, then fine
  int num_classes;
  std::string format;  // "CIFAR-10" / "CIFAR-100", for messages

  int64_t record_bytes() const { return label_bytes + kCifarPixelBytes; }
};

uint64_t file_size_or_throw(const std::string& path, const RecordLayout& layout) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) {
    throw InputError(path + ": file not found (expected " + layout.format + " binary records)");
  }
  if (!std::filesystem::is_regular_file(status)) throw InputError(path + ": not a regular file");
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) throw InputError(path + ": cannot read size (" + error.message() + ")");
  return size;
}

}  // namespace

ImageSet read_cifar_binary(const std::vector<std::string>& files, int num_classes) {
  if (num_classes != 10 && num_classes != 100) {
    throw std::invalid_argument("read_cifar_binary: num_classes must be 10 or 100, got " + std::to_string(num_classes));
  }
  const RecordLayout layout = num_classes == 10 ? RecordLayout{1, 10, "CIFAR-10"} : RecordLayout{2, 100, "CIFAR-100"};
  const auto record_bytes = static_cast<uint64_t>(layout.record_bytes());

  // Check every file's size before reading any, so a bad file is reported before minutes of reading.
  std::vector<uint64_t> records_per_file;
  uint64_t total_records = 0;
  for (const std::string& path : files) {
    const uint64_t size = file_size_or_throw(path, layout);
    if (size == 0 || size % record_bytes != 0) {
      throw InputError(path + ": size " + std::to_string(size) + " is not a whole number of " +
                       std::to_string(record_bytes) + "-byte " + layout.format + " records");
    }
    records_per_file.push_back(size / record_bytes);
    total_records += size / record_bytes;
  }

  ImageSet set;
  set.n = static_cast<int64_t>(total_records);
  set.channels = 3;
  set.height = kCifarSide;
  set.width = kCifarSide;
  set.pixels.resize(total_records * kCifarPixelBytes);
  set.labels.resize(total_records);

  int64_t next_record = 0;
  std::vector<uint8_t> buffer;
  for (size_t file_index = 0; file_index < files.size(); ++file_index) {
    const std::string& path = files[file_index];
    const uint64_t records = records_per_file[file_index];
    buffer.resize(records * record_bytes);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    if (static_cast<uint64_t>(in.gcount()) != buffer.size()) {
      throw InputError(path + ": read " + std::to_string(in.gcount()) + " of " + std::to_string(buffer.size()) +
                       " bytes");
    }

    for (uint64_t record = 0; record < records; ++record) {
      const uint8_t* bytes = buffer.data() + record * record_bytes;
      if (layout.label_bytes == 2 && bytes[0] >= kCifar100Superclasses) {
        throw InputError(path + ": record " + std::to_string(record) + " has coarse label " + std::to_string(bytes[0]) +
                         " (expected < " + std::to_string(kCifar100Superclasses) + " for CIFAR-100)");
      }
      const uint8_t label = bytes[layout.label_bytes - 1];
      if (label >= layout.num_classes) {
        throw InputError(path + ": record " + std::to_string(record) + " has label " + std::to_string(label) +
                         " (expected < " + std::to_string(layout.num_classes) + " for " + layout.format + ")");
      }
      set.labels[next_record] = label;
      std::memcpy(set.pixels.data() + next_record * kCifarPixelBytes, bytes + layout.label_bytes, kCifarPixelBytes);
      ++next_record;
    }
  }
  return set;
}

const std::vector<std::string>& cifar100_fine_names() {
  static const std::vector<std::string> names = {
      "apple",      "aquarium_fish", "baby",         "bear",       "beaver",      "bed",         "bee",
      "beetle",     "bicycle",       "bottle",       "bowl",       "boy",         "bridge",      "bus",
      "butterfly",  "camel",         "can",          "castle",     "caterpillar", "cattle",      "chair",
      "chimpanzee", "clock",         "cloud",        "cockroach",  "couch",       "crab",        "crocodile",
      "cup",        "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",      "fox",
      "girl",       "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",        "lawn_mower",
      "leopard",    "lion",          "lizard",       "lobster",    "man",         "maple_tree",  "motorcycle",
      "mountain",   "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",      "otter",
      "palm_tree",  "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",       "poppy",
      "porcupine",  "possum",        "rabbit",       "raccoon",    "ray",         "road",        "rocket",
      "rose",       "sea",           "seal",         "shark",      "shrew",       "skunk",       "skyscraper",
      "snail",      "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",   "sweet_pepper",
      "table",      "tank",          "telephone",    "television", "tiger",       "tractor",     "train",
      "trout",      "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
      "woman",      "worm",
  };
  return names;
}

const std::vector<std::string>& cifar100_superclass_names() {
  static const std::vector<std::string> names = {
      "aquatic_mammals",
      "fish",
      "flowers",
      "food_containers",
      "fruit_and_vegetables",
      "household_electrical_devices",
      "household_furniture",
      "insects",
      "large_carnivores",
      "large_man-made_outdoor_things",
      "large_natural_outdoor_scenes",
      "large_omnivores_and_herbivores",
      "medium_mammals",
      "non-insect_invertebrates",
      "people",
      "reptiles",
      "small_mammals",
      "trees",
      "vehicles_1",
      "vehicles_2",
  };
  return names;
}

std::vector<int64_t> cifar100_coarse_of_fine() {
  // Indexed by fine label; the coarse labels stored alongside each fine label in the CIFAR-100 files.
  return {4,  1,  14, 8,  0,  6,  7,  7, 18, 3,  3,  14, 9, 18, 7,  11, 3,  9, 7,  11, 6,  11, 5,  10, 7,
          6,  13, 15, 3,  15, 0,  11, 1, 10, 12, 14, 16, 9, 11, 5,  5,  19, 8, 8,  15, 13, 14, 17, 18, 10,
          16, 4,  17, 4,  2,  0,  17, 4, 18, 17, 10, 3,  2, 12, 12, 16, 12, 1, 9,  19, 2,  10, 0,  1,  16,
          12, 9,  13, 15, 13, 16, 19, 2, 4,  6,  19, 5,  5, 8,  19, 18, 1,  2, 15, 6,  0,  17, 8,  14, 13};
}

}  // namespace semharness
