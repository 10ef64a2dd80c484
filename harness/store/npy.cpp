#include "harness/store/npy.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace semharness {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

bool host_is_little_endian() {
  const uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

int64_t element_count(const std::string& path, const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t extent : shape) {
    if (extent < 0) throw std::runtime_error(fmt::format("{}: negative extent {} in the array's shape", path, extent));
    if (extent != 0 && count > std::numeric_limits<int64_t>::max() / extent) {
      throw std::runtime_error(fmt::format("{}: the array's shape overflows", path));
    }
    count *= extent;
  }
  return count;
}

// The header dict of format 1.0, padded with spaces and ended by '\n' so that the data starts on a multiple
// of 64 bytes (what NumPy itself writes).
std::string header_bytes(const std::string& dtype, const std::vector<int64_t>& shape) {
  std::string shape_text = "(";
  for (size_t i = 0; i < shape.size(); ++i) shape_text += fmt::format("{}{}", i ? ", " : "", shape[i]);
  if (shape.size() == 1) shape_text += ",";
  shape_text += ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", dtype, shape_text);
  const size_t unpadded = kMagicSize + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  if (dict.size() > std::numeric_limits<uint16_t>::max()) throw std::runtime_error("npy header too long");
  std::string out(kMagic, kMagicSize);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

void write_array(const std::string& path, const std::string& dtype, const void* data, size_t element_size,
                 const std::vector<int64_t>& shape) {
  if (!host_is_little_endian())
    throw std::runtime_error(fmt::format("{}: writing .npy needs a little-endian host", path));
  const int64_t count = element_count(path, shape);
  if (count > 0 && data == nullptr) throw std::runtime_error(fmt::format("{}: no data for a non-empty array", path));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(fmt::format("{}: cannot open for writing", tmp));
    const std::string header = header_bytes(dtype, shape);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    if (count > 0) out.write(static_cast<const char*>(data), static_cast<std::streamsize>(count * element_size));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      throw std::runtime_error(fmt::format("{}: write failed (disk full?)", tmp));
    }
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) {
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("{}: cannot rename {} into place: {}", path, tmp, error.message()));
  }
}

// A minimal reader of the Python dict literal NumPy writes: {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), }. Keys may come in any order; whitespace is free.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& text) : path_(path), text_(text) {}

  void parse(std::string& descr, bool& fortran_order, std::vector<int64_t>& shape) {
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      if (key == "descr") {
        descr = quoted();
        has_descr = true;
      } else if (key == "fortran_order") {
        skip_space();
        if (text_.compare(pos_, 4, "True") == 0) {
          fortran_order = true;
          pos_ += 4;
        } else if (text_.compare(pos_, 5, "False") == 0) {
          fortran_order = false;
          pos_ += 5;
        } else {
          fail("fortran_order is neither True nor False");
        }
        has_order = true;
      } else if (key == "shape") {
        shape = tuple();
        has_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", key));
      }
      skip_space();
      if (peek() == ',') ++pos_;
    }
    if (!has_descr || !has_order || !has_shape) fail("missing descr, fortran_order or shape");
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(fmt::format("{}: bad .npy header ({}): {}", path_, why, text_));
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string quoted() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string value = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return value;
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> values;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return values;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a non-negative integer in the shape");
      int64_t value = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const int digit = text_[pos_++] - '0';
        if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("extent too large");
        value = value * 10 + digit;
      }
      values.push_back(value);
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
    }
  }

  const std::string& path_;
  const std::string& text_;
  size_t pos_ = 0;
};

}  // namespace

int64_t NpyArray::size() const {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  write_array(path, "<f4", data, sizeof(float), shape);
}

void write_npy(const std::string& path, const int64_t* data, const std::vector<int64_t>& shape) {
  write_array(path, "<i8", data, sizeof(int64_t), shape);
}

NpyArray read_npy(const std::string& path) {
  if (!host_is_little_endian())
    throw std::runtime_error(fmt::format("{}: reading .npy needs a little-endian host", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open .npy file", path));
  char magic[kMagicSize + 2] = {};
  in.read(magic, sizeof magic);
  if (!in || std::memcmp(magic, kMagic, kMagicSize) != 0) {
    throw std::runtime_error(fmt::format("{}: not a .npy file (bad magic string)", path));
  }
  const int major = static_cast<unsigned char>(magic[kMagicSize]);
  size_t header_length = 0;
  if (major == 1) {
    unsigned char length[2];
    in.read(reinterpret_cast<char*>(length), 2);
    header_length = length[0] | (static_cast<size_t>(length[1]) << 8);
  } else if (major == 2) {
    unsigned char length[4];
    in.read(reinterpret_cast<char*>(length), 4);
    header_length = length[0] | (static_cast<size_t>(length[1]) << 8) | (static_cast<size_t>(length[2]) << 16) |
                    (static_cast<size_t>(length[3]) << 24);
  } else {
    throw std::runtime_error(fmt::format("{}: unsupported .npy format version {}", path, major));
  }
  if (!in) throw std::runtime_error(fmt::format("{}: truncated .npy header", path));
  std::string header(header_length, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_length));
  if (!in) throw std::runtime_error(fmt::format("{}: truncated .npy header", path));

  NpyArray array;
  bool fortran_order = false;
  HeaderParser(path, header).parse(array.dtype, fortran_order, array.shape);
  if (fortran_order) throw std::runtime_error(fmt::format("{}: Fortran-ordered .npy arrays are not supported", path));
  const int64_t count = element_count(path, array.shape);
  char* target = nullptr;
  size_t bytes = 0;
  if (array.dtype == "<f4") {
    array.f32.resize(static_cast<size_t>(count));
    target = reinterpret_cast<char*>(array.f32.data());
    bytes = static_cast<size_t>(count) * sizeof(float);
  } else if (array.dtype == "<i8") {
    array.i64.resize(static_cast<size_t>(count));
    target = reinterpret_cast<char*>(array.i64.data());
    bytes = static_cast<size_t>(count) * sizeof(int64_t);
  } else {
    throw std::runtime_error(
        fmt::format("{}: .npy dtype '{}' is not supported (expected <f4 or <i8)", path, array.dtype));
  }
  if (bytes > 0) {
    in.read(target, static_cast<std::streamsize>(bytes));
    if (!in || in.gcount() != static_cast<std::streamsize>(bytes)) {
      throw std::runtime_error(fmt::format("{}: .npy data ends early (expected {} bytes)", path, bytes));
    }
  }
  return array;
}

}  // namespace semharness
