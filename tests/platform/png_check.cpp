// png_check: decodes a PNG with libpng and checks its size and pixels, for
// the screenshot tests (tests/platform/vga_screenshot.sh, seabios_screen.sh).
//   png_check FILE.png WIDTH HEIGHT [--not-blank] [--contains RRGGBB] [X,Y=RRGGBB ...]
// --not-blank requires at least two different colours, --contains one pixel
// of the given colour somewhere. Prints every
// mismatch and exits 1 if there is one, 2 on bad usage or an unreadable file.
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint32_t> rgb;  // 0xRRGGBB
};

// Kept free of C++ objects with destructors across libpng's longjmp.
bool decode(std::FILE* f, Image* img, std::vector<png_byte>* rows_storage) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_gray_to_rgb(png);
  png_read_update_info(png, info);
  img->width = static_cast<int>(png_get_image_width(png, info));
  img->height = static_cast<int>(png_get_image_height(png, info));
  const size_t stride = png_get_rowbytes(png, info);
  rows_storage->resize(stride * img->height);
  std::vector<png_bytep> rows(img->height);
  for (int y = 0; y < img->height; ++y) rows[y] = rows_storage->data() + stride * y;
  png_read_image(png, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  img->rgb.resize(static_cast<size_t>(img->width) * img->height);
  for (int y = 0; y < img->height; ++y)
    for (int x = 0; x < img->width; ++x) {
      const png_byte* p = rows[y] + 3 * x;
      img->rgb[static_cast<size_t>(y) * img->width + x] = (uint32_t{p[0]} << 16) | (p[1] << 8) | p[2];
    }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: png_check FILE.png WIDTH HEIGHT [--not-blank] [--contains RRGGBB] [X,Y=RRGGBB ...]\n");
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::fprintf(stderr, "png_check: %s: cannot open\n", argv[1]);
    return 2;
  }
  Image img;
  std::vector<png_byte> storage;
  const bool ok = decode(f, &img, &storage);
  std::fclose(f);
  if (!ok) {
    std::fprintf(stderr, "png_check: %s: not a readable PNG\n", argv[1]);
    return 2;
  }
  int failures = 0;
  const int want_w = std::atoi(argv[2]), want_h = std::atoi(argv[3]);
  if (img.width != want_w || img.height != want_h) {
    std::printf("FAIL size %dx%d, expected %dx%d\n", img.width, img.height, want_w, want_h);
    return 1;
  }
  int checked = 0;
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--not-blank") {
      std::set<uint32_t> colours(img.rgb.begin(), img.rgb.end());
      if (colours.size() < 2) {
        std::printf("FAIL the picture is one colour (%06X)\n", img.rgb.empty() ? 0 : img.rgb[0]);
        ++failures;
      }
      continue;
    }
    if (arg == "--contains" && i + 1 < argc) {
      const uint32_t want = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 16));
      bool found = false;
      for (uint32_t c : img.rgb) found = found || c == want;
      if (!found) {
        std::printf("FAIL no pixel has colour %06X\n", want);
        ++failures;
      }
      continue;
    }
    int x = 0, y = 0;
    unsigned want = 0;
    if (std::sscanf(arg.c_str(), "%d,%d=%x", &x, &y, &want) != 3 || x < 0 || y < 0 || x >= img.width ||
        y >= img.height) {
      std::fprintf(stderr, "png_check: bad pixel spec '%s' (X,Y=RRGGBB inside the picture)\n", arg.c_str());
      return 2;
    }
    const uint32_t got = img.rgb[static_cast<size_t>(y) * img.width + x];
    ++checked;
    if (got != want) {
      std::printf("FAIL pixel (%d,%d) is %06X, expected %06X\n", x, y, got, want);
      ++failures;
    }
  }
  if (failures) return 1;
  std::printf("OK %dx%d, %d pixels match\n", img.width, img.height, checked);
  return 0;
}
