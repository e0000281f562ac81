// PNG writer: a round trip through libpng's reader, and clean failures.
#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "frontend/png_writer.h"

namespace popek {
namespace {

std::string temp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/popek_png_" + std::to_string(getpid()) + "_" + name;
}

// Reads an 8-bit RGB PNG back as XRGB; false on any libpng error.
bool read_png(const std::string& path, int& width, int& height, std::vector<uint32_t>& out) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return false;
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgb.data(), 0, nullptr)) return false;
  width = static_cast<int>(image.width);
  height = static_cast<int>(image.height);
  out.resize(static_cast<size_t>(width) * height);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = (uint32_t{rgb[3 * i]} << 16) | (uint32_t{rgb[3 * i + 1]} << 8) | rgb[3 * i + 2];
  }
  return true;
}

TEST(PngWriter, RoundTrip) {
  const int w = 37, h = 23;  // odd sizes: no row padding assumptions
  std::vector<uint32_t> pixels(w * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      pixels[y * w + x] = (uint32_t(x * 7) << 16) | (uint32_t(y * 11) << 8) | uint32_t((x ^ y) * 5);
    }
  }
  pixels[0] |= 0xFF000000u;  // the X byte is ignored
  const std::string path = temp_path("roundtrip.png");
  std::string error;
  ASSERT_TRUE(write_png(path, w, h, pixels.data(), error)) << error;
  int rw = 0, rh = 0;
  std::vector<uint32_t> back;
  ASSERT_TRUE(read_png(path, rw, rh, back));
  EXPECT_EQ(rw, w);
  EXPECT_EQ(rh, h);
  pixels[0] &= 0x00FFFFFFu;
  EXPECT_EQ(back, pixels);
  std::remove(path.c_str());
}

TEST(PngWriter, RejectsBadSize) {
  uint32_t pixel = 0;
  std::string error;
  EXPECT_FALSE(write_png(temp_path("bad.png"), 0, 1, &pixel, error));
  EXPECT_NE(error.find("invalid image size"), std::string::npos);
  EXPECT_FALSE(write_png(temp_path("bad.png"), 1, -1, &pixel, error));
}

TEST(PngWriter, ReportsUnwritablePath) {
  uint32_t pixel = 0x123456;
  std::string error;
  EXPECT_FALSE(write_png("/nonexistent-dir/x/y.png", 1, 1, &pixel, error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace popek
