#pragma once
// Image files decoded to 8-bit RGB without LibTorch: JPEG with libjpeg-turbo (DCT scaling, so that a crop
// that ends up small is decoded small, and only the rows and iMCU columns around it), PNG with libpng. The
// format is told by the file's first bytes, not its name (ImageNet has PNGs and CMYK JPEGs named .JPEG).
#include <cstdint>
#include <string>
#include <vector>

namespace semharness {

enum class ImageFormat { jpeg, png };

// Pixels, row-major, RGB interleaved (height * width * 3 bytes).
struct RgbImage {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;
  const uint8_t* row(int64_t y) const { return pixels.data() + y * width * 3; }
};

// A box in pixels of some image: rows [top, top + height), columns [left, left + width).
struct PixelBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// The rectangle `region` of an image decoded at 1/scale of its size (scale 1, 2, 4 or 8): `pixels` holds the
// decoded image's rows [region.top, region.top + region.height) and columns [region.left, ...) at that scale.
// `scaled_height` x `scaled_width` is the whole decoded image's size, ceil(size / scale), as libjpeg and
// Pillow's draft() make it.
struct DecodedRegion {
  int scale = 1;
  int64_t scaled_height = 0, scaled_width = 0;
  PixelBox region;  // in the scaled image
  RgbImage pixels;
};

// Throws InputError naming `path` when the bytes are neither JPEG nor PNG.
ImageFormat sniff_image_format(const std::vector<uint8_t>& bytes, const std::string& path);

// Width and height from the file's header, without decoding the pixels.
struct ImageSize {
  int64_t height = 0, width = 0;
};
ImageSize read_image_size(const std::vector<uint8_t>& bytes, const std::string& path);

// Decodes the part of the image that `wanted` (a box of the scaled image, clipped to it) needs, at 1/scale.
// JPEG: libjpeg-turbo's scaled IDCT (1/2, 1/4, 1/8 use its SIMD kernels), jpeg_skip_scanlines above the box,
// jpeg_crop_scanline to the iMCU columns around it; the result is then cut to `wanted`. Grey, RGB, YCbCr, CMYK
// and YCCK inputs; CMYK as Pillow converts it (R = (255 - C) (255 - K) / 255, Adobe's inverted values
// undone). PNG: decoded whole by libpng's simplified API (any bit depth, palette or grey; alpha dropped, as
// Pillow's convert("RGB") does), `scale` must be 1. Throws InputError naming `path` on a corrupt file.
DecodedRegion decode_region(const std::vector<uint8_t>& bytes, const std::string& path, int scale,
                            const PixelBox& wanted);

// The whole image at full size.
RgbImage decode_image(const std::vector<uint8_t>& bytes, const std::string& path);

// A baseline JPEG of `image` at `quality` (1-100), 4:2:0: for benchmarks and tests that need files.
std::vector<uint8_t> encode_jpeg(const RgbImage& image, int quality);

// The file's bytes; throws InputError naming the file when it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace semharness
