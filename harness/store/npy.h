#pragma once
// NumPy .npy files (format version 1.0, C order, little endian) of float32 and int64 arrays, so that stored
// features and probe weights load in Python with np.load. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace semharness {

// Write atomically: to path + ".tmp", then renamed over path. Throw std::runtime_error naming the path when
// the shape does not hold a valid size or the file cannot be written.
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const int64_t* data, const std::vector<int64_t>& shape);

struct NpyArray {
  std::vector<int64_t> shape;
  std::string dtype;         // "<f4" or "<i8"
  std::vector<float> f32;    // the elements in C order when dtype is "<f4"
  std::vector<int64_t> i64;  // the elements in C order when dtype is "<i8"

  int64_t size() const;  // product of the shape (1 for a scalar)
};

// Reads a version 1.0 (or 2.0) file of dtype <f4 or <i8 in C order. Throws std::runtime_error naming the path
// on a missing file, a bad magic string or header, another dtype, Fortran order, or a short file.
NpyArray read_npy(const std::string& path);

}  // namespace semharness
