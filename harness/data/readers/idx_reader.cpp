// IDX (MNIST-format) reader. zlib's gz* functions read gzipped and raw files alike.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness/config/errors.h"
#include "harness/data/image_set.h"

namespace semharness {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr size_t kChunkBytes = size_t{16} << 20;

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

uint32_t big_endian_u32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw InputError(path + ": cannot open" + (errno != 0 ? std::string(" (") + std::strerror(errno) + ")" : ""));
    }
    gzbuffer(file_, 1u << 20);
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  const std::string& path() const { return path_; }

  // Reads up to `size` bytes into dest; fewer only when the data ends first.
  size_t read(uint8_t* dest, size_t size) {
    size_t done = 0;
    while (done < size) {
      const auto chunk = static_cast<unsigned>(std::min(size - done, kChunkBytes));
      const int got = gzread(file_, dest + done, chunk);
      if (got < 0) throw_stream_error();
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    int code = Z_OK;
    gzerror(file_, &code);
    // Z_BUF_ERROR is a gzip stream cut short: the caller reports it as a truncated body via the byte count.
    if (code != Z_OK && code != Z_BUF_ERROR) throw_stream_error();
    return done;
  }

  // Reads `size` bytes into a vector, growing it chunk by chunk so that a header claiming a huge body does not
  // allocate it up front.
  std::vector<uint8_t> read_body(uint64_t size, const std::string& what) {
    std::vector<uint8_t> data;
    data.reserve(static_cast<size_t>(std::min<uint64_t>(size, kChunkBytes * 4)));
    while (data.size() < size) {
      const size_t old_size = data.size();
      const size_t want = static_cast<size_t>(std::min<uint64_t>(size - old_size, kChunkBytes));
      data.resize(old_size + want);
      const size_t got = read(data.data() + old_size, want);
      data.resize(old_size + got);
      if (got < want) {
        throw InputError(path_ + ": truncated: expected " + std::to_string(size) + " bytes of " + what + ", got " +
                         std::to_string(data.size()));
      }
    }
    return data;
  }

  // Reading past the expected end also makes zlib verify the gzip trailer (CRC and length).
  void expect_end(uint64_t body_size, const std::string& what) {
    uint8_t extra = 0;
    if (read(&extra, 1) != 0) {
      throw InputError(path_ + ": unexpected data after the " + std::to_string(body_size) + " bytes of " + what);
    }
    int code = Z_OK;
    gzerror(file_, &code);
    if (code == Z_BUF_ERROR) throw InputError(path_ + ": truncated gzip stream");
  }

 private:
  [[noreturn]] void throw_stream_error() {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code == Z_ERRNO) message = std::strerror(errno);
    throw InputError(path_ + ": read error: " + message);
  }

  std::string path_;
  gzFile file_ = nullptr;
};

// Reads a header of `header_bytes` bytes and checks its magic number.
std::vector<uint8_t> read_header(GzReader& reader, size_t header_bytes, uint32_t magic, const std::string& kind) {
  std::vector<uint8_t> header(header_bytes);
  const size_t got = reader.read(header.data(), header.size());
  if (got >= 4 && big_endian_u32(header.data()) != magic) {
    throw InputError(reader.path() + ": bad IDX magic " + hex32(big_endian_u32(header.data())) + " (expected " +
                     hex32(magic) + " for " + kind + ")");
  }
  if (got < header.size()) {
    throw InputError(reader.path() + ": truncated: expected a " + std::to_string(header_bytes) + "-byte IDX " + kind +
                     " header, got " + std::to_string(got) + " bytes");
  }
  return header;
}

}  // namespace

ImageSet read_idx(const std::string& images_path, const std::string& labels_path) {
  GzReader images(images_path);
  const std::vector<uint8_t> images_header = read_header(images, 16, kImagesMagic, "images");
  const uint32_t count = big_endian_u32(&images_header[4]);
  const uint32_t rows = big_endian_u32(&images_header[8]);
  const uint32_t cols = big_endian_u32(&images_header[12]);
  if (rows == 0 || cols == 0) {
    throw InputError(images_path + ": bad IDX header: images are " + std::to_string(rows) + "x" + std::to_string(cols) +
                     " (expected both sides > 0)");
  }
  const uint64_t image_bytes = uint64_t{rows} * cols;
  if (count > std::numeric_limits<uint64_t>::max() / image_bytes) {
    throw InputError(images_path + ": bad IDX header: " + std::to_string(count) + " images of " + std::to_string(rows) +
                     "x" + std::to_string(cols) + " is too large");
  }

  GzReader labels(labels_path);
  const std::vector<uint8_t> labels_header = read_header(labels, 8, kLabelsMagic, "labels");
  const uint32_t label_count = big_endian_u32(&labels_header[4]);
  if (label_count != count) {
    throw InputError(labels_path + ": has " + std::to_string(label_count) + " labels but " + images_path + " has " +
                     std::to_string(count) + " images");
  }

  ImageSet set;
  set.n = count;
  set.channels = 1;
  set.height = rows;
  set.width = cols;
  const uint64_t pixel_bytes = uint64_t{count} * image_bytes;
  set.pixels = images.read_body(pixel_bytes, "pixels");
  images.expect_end(pixel_bytes, "pixels");

  const std::vector<uint8_t> label_bytes = labels.read_body(count, "labels");
  labels.expect_end(count, "labels");
  set.labels.assign(label_bytes.begin(), label_bytes.end());
  return set;
}

}  // namespace semharness
