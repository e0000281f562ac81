// Checks the pictures of the window test (display_test.sh) against what the
// display_test ROM draws, computed here from the ROM's own description
// (roms/display_test.asm) rather than by the emulator's renderer:
//
//   gui_check text SHOT.png ROM.bin ROW:COL:ATTR:TEXT...
//       a 720x400 mode-3 picture: the given strings (attribute in hex) in
//       the ROM's GLYPHS16 glyphs, 9-dot cells, EGA colours; every other
//       cell black
//   gui_check mode13 SHOT.png
//       a 640x400 picture of the ROM's mode 13h pattern and palette
//   gui_check window CAPTURE.xwd SHOT.png
//       an X window capture (xwd) shows SHOT scaled with nearest-neighbour
//       sampling, centred, aspect ratio kept, black bars around it
//
// Prints what it checked; exits 0 if everything matched, 1 on the first
// mismatches (up to 10 are listed), 2 on bad input.
#include <png.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace {

struct Image {
  int width = 0, height = 0;
  std::vector<uint32_t> px;  // 0x00RRGGBB
  uint32_t at(int x, int y) const { return px[static_cast<size_t>(y) * width + x]; }
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "gui_check: %s\n", msg.c_str());
  std::exit(2);
}

Image read_png(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) die(path + ": " + image.message);
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgb.data(), 0, nullptr)) die(path + ": " + image.message);
  Image out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.px.resize(static_cast<size_t>(out.width) * out.height);
  for (size_t i = 0; i < out.px.size(); ++i)
    out.px[i] = (uint32_t{rgb[3 * i]} << 16) | (uint32_t{rgb[3 * i + 1]} << 8) | rgb[3 * i + 2];
  return out;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die(path + ": cannot open");
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// XWD (X Window Dump): a big-endian header of 25 CARD32s, the window name,
// the colormap (12 bytes per entry), then ZPixmap rows. Only the TrueColor
// 24/32-bit layout that an Xvfb at depth 24 produces is accepted.
Image read_xwd(const std::string& path) {
  const std::vector<uint8_t> d = read_all(path);
  if (d.size() < 100) die(path + ": too short for an XWD file");
  auto be32 = [&](size_t i) {
    return (uint32_t{d[4 * i]} << 24) | (uint32_t{d[4 * i + 1]} << 16) | (uint32_t{d[4 * i + 2]} << 8) | d[4 * i + 3];
  };
  const uint32_t header_size = be32(0), version = be32(1), format = be32(2), width = be32(4), height = be32(5),
                 byte_order = be32(7), bpp = be32(11), bytes_per_line = be32(12), red_mask = be32(14),
                 green_mask = be32(15), blue_mask = be32(16), ncolors = be32(19);
  if (version != 7 || format != 2) die(path + ": not a version-7 ZPixmap XWD file");
  if (bpp != 32 || red_mask != 0xFF0000 || green_mask != 0xFF00 || blue_mask != 0xFF)
    die(path + ": unsupported pixel layout (need 32 bits per pixel, 8-bit RGB masks)");
  const size_t data = header_size + static_cast<size_t>(ncolors) * 12;
  if (d.size() < data + static_cast<size_t>(bytes_per_line) * height) die(path + ": truncated");
  Image out;
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.px.resize(static_cast<size_t>(width) * height);
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      const uint8_t* p = &d[data + static_cast<size_t>(y) * bytes_per_line + 4 * x];
      const uint32_t v = byte_order == 0 ? (p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t{p[3]} << 24))
                                         : ((uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
      out.px[static_cast<size_t>(y) * width + x] = v & 0xFFFFFF;
    }
  }
  return out;
}

struct Mismatches {
  int count = 0;
  long checked = 0;
  void check(const char* what, int x, int y, uint32_t got, uint32_t want) {
    ++checked;
    if (got == want) return;
    if (++count <= 10) std::printf("  %s (%d,%d): got %06X, expected %06X\n", what, x, y, got, want);
  }
};

// The EGA colours the ROM loads, as 8-bit RGB.
uint32_t ega(unsigned c) {
  static const uint32_t kColours[16] = {0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA,
                                        0xAA5500, 0xAAAAAA, 0x555555, 0x5555FF, 0x55FF55, 0x55FFFF,
                                        0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF};
  return kColours[c & 15];
}

int check_text(const std::string& shot_path, const std::string& rom_path, int argc, char** argv) {
  const Image shot = read_png(shot_path);
  const std::vector<uint8_t> rom = read_all(rom_path);
  // The glyph table: "GLYPHS16", a count, then (character, 16 rows) each.
  const char kMagic[] = "GLYPHS16";
  size_t at = std::string(rom.begin(), rom.end()).find(kMagic);
  if (at == std::string::npos || at + 9 > rom.size()) die(rom_path + ": no GLYPHS16 table");
  std::map<uint8_t, const uint8_t*> glyphs;
  const unsigned count = rom[at + 8];
  for (unsigned i = 0; i < count; ++i) {
    const size_t g = at + 9 + i * 17;
    if (g + 17 > rom.size()) die(rom_path + ": GLYPHS16 table runs off the image");
    glyphs[rom[g]] = &rom[g + 1];
  }
  // The screen: 80x25 cells of character and attribute, all 0 but the strings.
  uint8_t ch[25][80] = {}, attr[25][80] = {};
  for (int i = 0; i < argc; ++i) {
    int row = 0, col = 0;
    unsigned a = 0;
    int used = 0;
    if (std::sscanf(argv[i], "%d:%d:%x:%n", &row, &col, &a, &used) != 3 || row < 0 || row >= 25 || col < 0)
      die(std::string("bad text spec ") + argv[i] + " (expected ROW:COL:ATTR:TEXT)");
    for (const char* s = argv[i] + used; *s && col < 80; ++s, ++col) {
      ch[row][col] = static_cast<uint8_t>(*s);
      attr[row][col] = static_cast<uint8_t>(a);
    }
  }
  if (shot.width != 720 || shot.height != 400) {
    std::printf("text: picture is %dx%d, expected 720x400\n", shot.width, shot.height);
    return 1;
  }
  Mismatches m;
  int lit = 0;
  for (int y = 0; y < 400; ++y) {
    for (int x = 0; x < 720; ++x) {
      const int row = y / 16, col = x / 9, line = y % 16, dot = x % 9;
      const uint8_t c = ch[row][col], a = attr[row][col];
      bool on = false;
      if (c && c != ' ') {
        auto g = glyphs.find(c);
        if (g == glyphs.end()) die(std::string("the ROM has no glyph for '") + static_cast<char>(c) + "'");
        on = dot < 8 && (g->second[line] & (0x80 >> dot));
      }
      lit += on;
      m.check("text", x, y, shot.at(x, y), ega(on ? a & 15 : a >> 4));
    }
  }
  std::printf("text: %ld pixels checked, %d glyph dots lit, %d mismatches\n", m.checked, lit, m.count);
  return m.count ? 1 : 0;
}

int check_mode13(const std::string& shot_path) {
  const Image shot = read_png(shot_path);
  if (shot.width != 640 || shot.height != 400) {
    std::printf("mode13: picture is %dx%d, expected 640x400\n", shot.width, shot.height);
    return 1;
  }
  auto expand = [](unsigned v) { return (v << 2) | (v >> 4); };
  Mismatches m;
  for (int y = 0; y < 400; ++y) {
    for (int x = 0; x < 640; ++x) {
      const int gx = x / 2, gy = y / 2;  // each mode-13h pixel is 2x2 dots
      unsigned i = static_cast<unsigned>((gx / 20) | ((gy / 25) << 4));
      if ((gx + gy) & 1) i ^= 0x80;
      const uint32_t want = (expand((i & 7) * 9) << 16) | (expand(((i >> 3) & 7) * 9) << 8) | expand((i >> 6) * 21);
      m.check("mode13", x, y, shot.at(x, y), want);
    }
  }
  std::printf("mode13: %ld pixels checked, %d mismatches\n", m.checked, m.count);
  return m.count ? 1 : 0;
}

int check_window(const std::string& xwd_path, const std::string& shot_path) {
  const Image win = read_xwd(xwd_path), shot = read_png(shot_path);
  // The picture fills the window along one axis and is centred along the other.
  const double scale = std::min(static_cast<double>(win.width) / shot.width,
                                static_cast<double>(win.height) / shot.height);
  const double w = shot.width * scale, h = shot.height * scale;
  const double ox = (win.width - w) / 2, oy = (win.height - h) / 2;
  Mismatches m;
  // Each guest pixel at the centre of its scaled area (edges may round
  // either way); with nearest-neighbour sampling it must be exact.
  for (int y = 0; y < shot.height; ++y) {
    for (int x = 0; x < shot.width; ++x) {
      const int wx = static_cast<int>(ox + (x + 0.5) * scale), wy = static_cast<int>(oy + (y + 0.5) * scale);
      m.check("window", wx, wy, win.at(wx, wy), shot.at(x, y));
    }
  }
  // The bars: black beyond the picture, two pixels clear of its edge.
  long bar = 0;
  for (int y = 0; y < win.height; ++y) {
    for (int x = 0; x < win.width; ++x) {
      if (x >= ox - 2 && x < ox + w + 2 && y >= oy - 2 && y < oy + h + 2) continue;
      ++bar;
      m.check("bar", x, y, win.at(x, y), 0);
    }
  }
  std::printf("window: %dx%d showing %dx%d at scale %.3f, offset (%.0f,%.0f): %ld pixels checked (%ld in bars), %d mismatches\n",
              win.width, win.height, shot.width, shot.height, scale, ox, oy, m.checked, bar, m.count);
  return m.count ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "text" && argc >= 4) return check_text(argv[2], argv[3], argc - 4, argv + 4);
  if (cmd == "mode13" && argc == 3) return check_mode13(argv[2]);
  if (cmd == "window" && argc == 4) return check_window(argv[2], argv[3]);
  die("usage: gui_check text SHOT.png ROM.bin ROW:COL:ATTR:TEXT... | mode13 SHOT.png | window CAPTURE.xwd SHOT.png");
}
