// libpng reports errors through a longjmp; everything that must be released
// on that path (the FILE and the png structs) is owned outside the setjmp
// frame, and no C++ object with a destructor is live across the setjmp.
#include "frontend/png_writer.h"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace popek {
namespace {

struct ErrorSink {
  char message[256] = "";
};

void on_png_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  if (sink) std::snprintf(sink->message, sizeof sink->message, "%s", msg);
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

// The libpng part, kept free of C++ objects so the longjmp is safe.
bool encode(FILE* file, int width, int height, const uint8_t* rgb, ErrorSink* sink) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, on_png_error, on_png_warning);
  if (!png) {
    std::snprintf(sink->message, sizeof sink->message, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(sink->message, sizeof sink->message, "out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(width) * 3;
  for (int y = 0; y < height; ++y) {
    png_write_row(png, const_cast<png_bytep>(rgb + stride * static_cast<size_t>(y)));
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

bool write_png(const std::string& path, int width, int height, const uint32_t* xrgb,
               std::string& error) {
  // PNG allows up to 2^31-1; keep far below so width*height*3 cannot overflow.
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535 || !xrgb) {
    error = "invalid image size " + std::to_string(width) + "x" + std::to_string(height);
    return false;
  }
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  for (size_t i = 0, n = static_cast<size_t>(width) * static_cast<size_t>(height); i < n; ++i) {
    rgb[3 * i + 0] = static_cast<uint8_t>(xrgb[i] >> 16);
    rgb[3 * i + 1] = static_cast<uint8_t>(xrgb[i] >> 8);
    rgb[3 * i + 2] = static_cast<uint8_t>(xrgb[i]);
  }
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  ErrorSink sink;
  const bool ok = encode(file, width, height, rgb.data(), &sink);
  const bool closed = std::fclose(file) == 0;
  if (!ok) {
    error = "cannot write PNG " + path + ": " + sink.message;
    return false;
  }
  if (!closed) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace popek
