// libjpeg's errors longjmp back into decode_jpeg (a C library cannot unwind C++ frames): every C++ object the
// jump could skip is declared before setjmp, and the error becomes an InputError after the jump.
#include "harness/data/images/image_decode.h"

#include <csetjmp>
#include <cstdio>
// clang-format off
#include <jpeglib.h>  // after <cstdio>: it needs FILE
// clang-format on
#include <png.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "harness/config/errors.h"

namespace semharness {
namespace {

struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_error_exit(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (a truncated file's "premature end", extraneous bytes) are not printed: libjpeg decodes what is
// there, as Pillow does with LOAD_TRUNCATED_IMAGES.
void jpeg_quiet(j_common_ptr, int) {}

// Pillow's cmyk2rgb after its "CMYK;I" unpacking (it assumes Adobe's inverted values in every CMYK JPEG): with
// the stored (inverted) c and k, R = k - round(k (255 - c) / 255) by MULDIV255.
uint8_t cmyk_channel(int stored_c, int stored_k) {
  const int product = (255 - stored_c) * stored_k + 128;
  return static_cast<uint8_t>(std::clamp(stored_k - (((product >> 8) + product) >> 8), 0, 255));
}

PixelBox clip(const PixelBox& box, int64_t height, int64_t width) {
  PixelBox out;
  out.top = std::clamp<int64_t>(box.top, 0, height);
  out.left = std::clamp<int64_t>(box.left, 0, width);
  out.height = std::clamp<int64_t>(box.top + box.height, out.top, height) - out.top;
  out.width = std::clamp<int64_t>(box.left + box.width, out.left, width) - out.left;
  return out;
}

// Decodes the JPEG's header only (header_only) or the wanted box at 1/scale.
DecodedRegion decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& path, int scale, const PixelBox& wanted,
                          bool header_only) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_error_exit;
  errors.manager.emit_message = jpeg_quiet;
  DecodedRegion out;
  std::vector<uint8_t> scanline;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw InputError(path + ": not a readable JPEG (" + errors.message + ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (header_only) {
    out.scaled_height = cinfo.image_height;
    out.scaled_width = cinfo.image_width;
    jpeg_destroy_decompress(&cinfo);
    return out;
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = static_cast<unsigned>(scale);
  jpeg_start_decompress(&cinfo);
  out.scale = scale;
  out.scaled_height = cinfo.output_height;
  out.scaled_width = cinfo.output_width;
  out.region = clip(wanted, out.scaled_height, out.scaled_width);
  const PixelBox& r = out.region;
  out.pixels.height = r.height;
  out.pixels.width = r.width;
  out.pixels.pixels.resize(static_cast<size_t>(r.height * r.width * 3));
  if (r.height > 0 && r.width > 0) {
    // The decoder starts at the iMCU column at or left of r.left and ends at or right of r's end.
    JDIMENSION first_column = static_cast<JDIMENSION>(r.left), columns = static_cast<JDIMENSION>(r.width);
    jpeg_crop_scanline(&cinfo, &first_column, &columns);
    const int64_t shift = r.left - first_column;
    const int components = cinfo.output_components;
    scanline.resize(static_cast<size_t>(cinfo.output_width) * components);
    if (r.top > 0) jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(r.top));
    for (int64_t y = 0; y < r.height; ++y) {
      JSAMPROW row = scanline.data();
      jpeg_read_scanlines(&cinfo, &row, 1);
      uint8_t* dest = out.pixels.pixels.data() + y * r.width * 3;
      const uint8_t* src = scanline.data() + shift * components;
      if (cmyk) {
        for (int64_t x = 0; x < r.width; ++x, src += 4, dest += 3) {
          for (int c = 0; c < 3; ++c) dest[c] = cmyk_channel(src[c], src[3]);
        }
      } else {
        std::memcpy(dest, src, static_cast<size_t>(r.width) * 3);
      }
    }
  }
  jpeg_abort_decompress(&cinfo);  // the rows below the box are never decoded
  jpeg_destroy_decompress(&cinfo);
  return out;
}

RgbImage decode_png(const std::vector<uint8_t>& bytes, const std::string& path) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    throw InputError(path + ": not a readable PNG (" + image.message + ")");
  }
  // RGBA, then the alpha dropped: libpng would otherwise compose onto a background.
  image.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    throw InputError(path + ": not a readable PNG (" + message + ")");
  }
  RgbImage out;
  out.height = image.height;
  out.width = image.width;
  out.pixels.resize(static_cast<size_t>(out.height * out.width * 3));
  for (size_t i = 0, n = static_cast<size_t>(out.height * out.width); i < n; ++i) {
    std::memcpy(&out.pixels[i * 3], &rgba[i * 4], 3);
  }
  return out;
}

RgbImage cut(const RgbImage& image, const PixelBox& box) {
  RgbImage out;
  out.height = box.height;
  out.width = box.width;
  out.pixels.resize(static_cast<size_t>(box.height * box.width * 3));
  for (int64_t y = 0; y < box.height; ++y) {
    std::memcpy(out.pixels.data() + y * box.width * 3, image.row(box.top + y) + box.left * 3,
                static_cast<size_t>(box.width) * 3);
  }
  return out;
}

}  // namespace

ImageFormat sniff_image_format(const std::vector<uint8_t>& bytes, const std::string& path) {
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) return ImageFormat::jpeg;
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_magic, 8) == 0) return ImageFormat::png;
  throw InputError(path + ": not a JPEG or PNG file (its first bytes are neither format's signature)");
}

ImageSize read_image_size(const std::vector<uint8_t>& bytes, const std::string& path) {
  if (sniff_image_format(bytes, path) == ImageFormat::jpeg) {
    const DecodedRegion header = decode_jpeg(bytes, path, 1, {}, /*header_only=*/true);
    return {header.scaled_height, header.scaled_width};
  }
  // IHDR is the first chunk: width and height big-endian at bytes 16 and 20.
  if (bytes.size() < 24) throw InputError(path + ": a PNG file too short for its header");
  auto u32 = [&](size_t at) {
    return (int64_t{bytes[at]} << 24) | (int64_t{bytes[at + 1]} << 16) | (int64_t{bytes[at + 2]} << 8) |
           int64_t{bytes[at + 3]};
  };
  return {u32(20), u32(16)};
}

DecodedRegion decode_region(const std::vector<uint8_t>& bytes, const std::string& path, int scale,
                            const PixelBox& wanted) {
  if (scale != 1 && scale != 2 && scale != 4 && scale != 8) {
    throw std::invalid_argument("decode_region: scale must be 1, 2, 4 or 8");
  }
  if (sniff_image_format(bytes, path) == ImageFormat::jpeg) return decode_jpeg(bytes, path, scale, wanted, false);
  if (scale != 1) throw std::invalid_argument("decode_region: a PNG is decoded at scale 1");
  const RgbImage whole = decode_png(bytes, path);
  DecodedRegion out;
  out.scaled_height = whole.height;
  out.scaled_width = whole.width;
  out.region = clip(wanted, whole.height, whole.width);
  out.pixels = cut(whole, out.region);
  return out;
}

RgbImage decode_image(const std::vector<uint8_t>& bytes, const std::string& path) {
  if (sniff_image_format(bytes, path) == ImageFormat::png) return decode_png(bytes, path);
  const ImageSize size = read_image_size(bytes, path);
  return decode_jpeg(bytes, path, 1, {0, 0, size.height, size.width}, false).pixels;
}

std::vector<uint8_t> encode_jpeg(const RgbImage& image, int quality) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);  // an encoder error here is a bug: libjpeg's default exits
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.row(cinfo.next_scanline));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return bytes;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path + ": cannot open");
  const std::streamsize size = in.tellg();
  std::vector<uint8_t> bytes(static_cast<size_t>(std::max<std::streamsize>(size, 0)));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) throw InputError(path + ": cannot read");
  return bytes;
}

}  // namespace semharness
