// Scan-out of text, planar, CGA-compatible, 256-colour and VBE modes. See
// vga_render.h for the model; addresses are in the compacted plane-offset
// units described in vga.h.
#include "devices/vga_render.h"

#include <algorithm>
#include <cstring>

namespace popek {
namespace vga_render {

namespace {

constexpr int kMaxDimension = 4096;  // guards against absurd CRTC values

uint8_t expand6(uint8_t v) { return static_cast<uint8_t>((v << 2) | (v >> 4)); }

struct Frame {
  const VgaRegisters& regs;
  const uint8_t* vram;
  uint32_t vram_size;
  uint64_t now;
  std::vector<uint32_t>& out;
  int width;
  int height;
};

uint8_t plane(const Frame& f, unsigned p, uint32_t offset) {
  return f.vram[((offset & (Vga::kPlaneSize - 1)) << 2) | (p & 3)];
}

unsigned vertical_display_lines(const VgaRegisters& r) {
  const unsigned vde = r.crtc[0x12] | ((r.crtc[0x07] & 0x02) << 7) | ((r.crtc[0x07] & 0x40) << 3);
  return vde + 1;
}

unsigned start_address(const VgaRegisters& r) {
  return (unsigned{r.crtc[0x0C]} << 8) | r.crtc[0x0D];
}

// Line compare (split screen): after scan line `line_compare` the address
// and row scan counters restart at 0. Returns the start address and the scan
// line relative to it for output line y.
struct ScanStart {
  unsigned address;
  unsigned y;
};
ScanStart scan_start(const VgaRegisters& r, unsigned y) {
  const unsigned line_compare =
      r.crtc[0x18] | ((r.crtc[0x07] & 0x10) << 4) | ((r.crtc[0x09] & 0x40) << 3);
  if (y > line_compare) return {0, y - line_compare - 1};
  return {start_address(r), y};
}
unsigned row_offset(const VgaRegisters& r) { return 2u * r.crtc[0x13]; }
bool dot_clock_halved(const VgaRegisters& r) { return r.seq[1] & 0x08; }

void fill(Frame& f, uint32_t colour) {
  f.out.assign(static_cast<size_t>(f.width) * f.height, colour);
}

// Font base in plane 2 for character map number m (0-7): maps 0-3 at 16 KiB
// steps, 4-7 at the 8 KiB points between them.
uint32_t font_base(unsigned m) { return (m & 3) * 0x4000 + (m >> 2) * 0x2000; }

void render_text(Frame& f) {
  const VgaRegisters& r = f.regs;
  const unsigned char_width = (r.seq[1] & 0x01) ? 8 : 9;
  const unsigned dot_repeat = dot_clock_halved(r) ? 2 : 1;
  const unsigned columns = r.crtc[0x01] + 1u;
  const unsigned char_height = (r.crtc[0x09] & 0x1F) + 1u;
  const unsigned scan_repeat = (r.crtc[0x09] & 0x80) ? 2 : 1;
  f.width = std::min<int>(kMaxDimension, static_cast<int>(columns * char_width * dot_repeat));
  f.height = std::min<int>(kMaxDimension, static_cast<int>(vertical_display_lines(r)));
  fill(f, 0);
  const uint8_t sr3 = r.seq[3];
  const uint32_t font_a =
      font_base((((sr3 >> 5) & 1) << 2) | ((sr3 >> 2) & 3));               // attribute bit 3 = 1
  const uint32_t font_b = font_base((((sr3 >> 4) & 1) << 2) | (sr3 & 3));  // attribute bit 3 = 0
  const bool blink_enabled = r.ac[0x10] & 0x08;
  const bool blink_on = (f.now / (kCharBlinkNs / 2)) % 2 == 0;
  const bool line_graphics = r.ac[0x10] & 0x04;
  const unsigned cursor = (unsigned{r.crtc[0x0E]} << 8) | r.crtc[0x0F];
  const unsigned cursor_start = r.crtc[0x0A] & 0x1F;
  const unsigned cursor_end = r.crtc[0x0B] & 0x1F;
  const bool cursor_visible = !(r.crtc[0x0A] & 0x20) && (f.now / (kCursorBlinkNs / 2)) % 2 == 0;
  uint32_t palette[16];
  for (uint8_t c = 0; c < 16; ++c) palette[c] = dac_colour(r, attribute_colour(r, c));

  const unsigned cell_pixels = char_width * dot_repeat;
  for (int y = 0; y < f.height; ++y) {
    const ScanStart start = scan_start(r, static_cast<unsigned>(y));
    const unsigned line = start.y / scan_repeat;
    const unsigned row = line / char_height;
    const unsigned glyph_line = line % char_height;
    const unsigned row_address = start.address + row * row_offset(r);
    uint32_t* dst = &f.out[static_cast<size_t>(y) * f.width];
    for (unsigned col = 0; col < columns; ++col) {
      const unsigned address = row_address + col;
      const uint8_t ch = plane(f, 0, address);
      const uint8_t attr = plane(f, 1, address);
      uint8_t fg = attr & 0x0F;
      uint8_t bg = attr >> 4;
      if (blink_enabled) {
        bg &= 0x07;
        if ((attr & 0x80) && !blink_on) fg = bg;
      }
      const uint32_t font = (attr & 0x08) ? font_a : font_b;
      // Glyph rows are 32 bytes apart whatever the character height.
      uint16_t bits = glyph_line < 32 ? plane(f, 2, font + ch * 32u + glyph_line) : 0;
      bits = static_cast<uint16_t>(bits << 1);
      if (char_width == 9 && line_graphics && ch >= 0xC0 && ch <= 0xDF) bits |= (bits >> 1) & 1;
      if (cursor_visible && address == cursor && glyph_line >= cursor_start &&
          glyph_line <= cursor_end) {
        bits = 0x1FF;
      }
      const unsigned x0 = col * cell_pixels;
      for (unsigned dot = 0; dot < char_width; ++dot) {
        const bool on = bits & (0x100 >> dot);
        const uint32_t colour = palette[on ? fg : bg];
        for (unsigned k = 0; k < dot_repeat; ++k) {
          const unsigned x = x0 + dot * dot_repeat + k;
          if (x < static_cast<unsigned>(f.width)) dst[x] = colour;
        }
      }
    }
  }
}

// Graphics modes: one character clock covers eight dots of plane data.
void render_graphics(Frame& f) {
  const VgaRegisters& r = f.regs;
  const bool mode256 = r.gc[5] & 0x40;
  const bool interleave = !mode256 && (r.gc[5] & 0x20);
  const unsigned dot_repeat = dot_clock_halved(r) ? 2 : 1;
  const unsigned clocks = r.crtc[0x01] + 1u;
  f.width = std::min<int>(kMaxDimension, static_cast<int>(clocks * 8 * dot_repeat));
  f.height = std::min<int>(kMaxDimension, static_cast<int>(vertical_display_lines(r)));
  fill(f, 0);
  const unsigned line_repeat = (r.crtc[0x09] & 0x1F) + 1u;
  const unsigned scan_repeat = (r.crtc[0x09] & 0x80) ? 2 : 1;
  const bool word_mode = !(r.crtc[0x17] & 0x40);
  // CGA/Hercules compatibility: row scan bits 0/1 replace an address bit
  // (CPU address bit 13/14, i.e. plane offset bit 12/13 under odd/even).
  const unsigned bank_shift = word_mode ? 12 : 13;
  uint32_t attribute_palette[16];
  for (uint8_t c = 0; c < 16; ++c) attribute_palette[c] = dac_colour(r, attribute_colour(r, c));
  uint32_t dac_palette[256];
  if (mode256) {
    for (unsigned c = 0; c < 256; ++c) dac_palette[c] = dac_colour(r, static_cast<uint8_t>(c));
  }

  // Pixel panning (attribute 0x13): 0-7 pixels; in 256-colour mode bits 2:1
  // count whole 8-bit pixels.
  const unsigned pan = r.ac[0x13] & 0x0F;
  const int pan_dots = static_cast<int>(mode256 ? ((pan >> 1) & 3) * 2 * dot_repeat
                                                : (pan < 8 ? pan : 0) * dot_repeat);
  for (int y = 0; y < f.height; ++y) {
    const ScanStart start = scan_start(r, static_cast<unsigned>(y));
    const unsigned line = start.y / scan_repeat;
    const unsigned row = line / line_repeat;
    const unsigned row_scan = line % line_repeat;
    unsigned address = start.address + row * row_offset(r);
    if (!(r.crtc[0x17] & 0x01))
      address = (address & ~(1u << bank_shift)) | ((row_scan & 1) << bank_shift);
    if (!(r.crtc[0x17] & 0x02))
      address = (address & ~(2u << bank_shift)) | ((row_scan & 2) << bank_shift);
    uint32_t* dst = &f.out[static_cast<size_t>(y) * f.width];
    // Horizontal panning shifts the picture left by whole pixels, taking
    // them from one extra character clock.
    int x = -pan_dots;
    auto put = [&](uint32_t colour, unsigned repeat) {
      for (unsigned k = 0; k < repeat; ++k, ++x) {
        if (x >= 0 && x < f.width) dst[x] = colour;
      }
    };
    for (unsigned clock = 0; clock < clocks + (pan_dots ? 1 : 0); ++clock, ++address) {
      const uint8_t p0 = plane(f, 0, address), p1 = plane(f, 1, address);
      const uint8_t p2 = plane(f, 2, address), p3 = plane(f, 3, address);
      if (mode256) {
        // Four pixels, one per plane, each two dots wide.
        for (uint8_t v : {p0, p1, p2, p3}) put(dac_palette[v], 2 * dot_repeat);
      } else if (interleave) {
        // CGA 4-colour: 2-bit pixels, plane 0 then plane 1 (planes 2/3 give bits 3:2).
        for (unsigned i = 0; i < 8; ++i) {
          const uint8_t lo = i < 4 ? p0 : p1;
          const uint8_t hi = i < 4 ? p2 : p3;
          const unsigned shift = 6 - 2 * (i & 3);
          const uint8_t c = static_cast<uint8_t>(((lo >> shift) & 3) | (((hi >> shift) & 3) << 2));
          put(attribute_palette[c], dot_repeat);
        }
      } else {
        for (unsigned bit = 0; bit < 8; ++bit) {
          const unsigned s = 7 - bit;
          const uint8_t c = static_cast<uint8_t>(((p0 >> s) & 1) | (((p1 >> s) & 1) << 1) |
                                                 (((p2 >> s) & 1) << 2) | (((p3 >> s) & 1) << 3));
          put(attribute_palette[c], dot_repeat);
        }
      }
    }
  }
}

void render_vbe(Frame& f) {
  const VgaRegisters& r = f.regs;
  const unsigned bpp = r.vbe[vbe::kIndexBpp];
  const uint64_t bytes_pp = (bpp + 7) / 8;
  f.width = r.vbe[vbe::kIndexXres];
  f.height = r.vbe[vbe::kIndexYres];
  fill(f, 0);
  const uint64_t stride = uint64_t{r.vbe[vbe::kIndexVirtWidth]} * bytes_pp;
  const uint64_t start =
      uint64_t{r.vbe[vbe::kIndexYOffset]} * stride + r.vbe[vbe::kIndexXOffset] * bytes_pp;
  uint32_t dac_palette[256];
  if (bpp == 8) {
    for (unsigned c = 0; c < 256; ++c) dac_palette[c] = dac_colour(r, static_cast<uint8_t>(c));
  }
  // vbe_fixup keeps the visible screen inside VRAM; the clamp below only
  // guards against a register state that bypassed it.
  for (int y = 0; y < f.height; ++y) {
    uint32_t* dst = &f.out[static_cast<size_t>(y) * f.width];
    const uint64_t line = start + y * stride;
    if (line >= f.vram_size) break;
    const int width = static_cast<int>(std::min<uint64_t>(f.width, (f.vram_size - line) / bytes_pp));
    const uint8_t* p = f.vram + line;
    // One loop per depth, so the per-pixel work is a load and a shift or two.
    switch (bpp) {
      case 8:
        for (int x = 0; x < width; ++x) dst[x] = dac_palette[p[x]];
        break;
      case 15:
        for (int x = 0; x < width; ++x) {
          const unsigned v = p[2 * x] | (p[2 * x + 1] << 8);
          const unsigned r5 = (v >> 10) & 31, g5 = (v >> 5) & 31, b5 = v & 31;
          dst[x] = (((r5 << 3) | (r5 >> 2)) << 16) | (((g5 << 3) | (g5 >> 2)) << 8) |
                   ((b5 << 3) | (b5 >> 2));
        }
        break;
      case 16:
        for (int x = 0; x < width; ++x) {
          const unsigned v = p[2 * x] | (p[2 * x + 1] << 8);
          const unsigned r5 = (v >> 11) & 31, g6 = (v >> 5) & 63, b5 = v & 31;
          dst[x] = (((r5 << 3) | (r5 >> 2)) << 16) | (((g6 << 2) | (g6 >> 4)) << 8) |
                   ((b5 << 3) | (b5 >> 2));
        }
        break;
      case 24:  // B, G, R in memory
        for (int x = 0; x < width; ++x)
          dst[x] = (uint32_t{p[3 * x + 2]} << 16) | (uint32_t{p[3 * x + 1]} << 8) | p[3 * x];
        break;
      default:  // 32: B, G, R, X in memory, i.e. little-endian XRGB
        std::memcpy(dst, p, static_cast<size_t>(width) * 4);
        for (int x = 0; x < width; ++x) dst[x] &= 0x00FFFFFFu;
        break;
    }
  }
}

}  // namespace

uint32_t dac_colour(const VgaRegisters& regs, uint8_t index) {
  const unsigned i = 3u * (index & regs.dac_mask);
  uint8_t c[3] = {regs.dac[i], regs.dac[i + 1], regs.dac[i + 2]};
  if (!(regs.vbe[vbe::kIndexEnable] & vbe::kDac8Bit)) {
    for (uint8_t& v : c) v = expand6(v & 0x3F);
  }
  return (uint32_t{c[0]} << 16) | (uint32_t{c[1]} << 8) | c[2];
}

uint8_t attribute_colour(const VgaRegisters& regs, uint8_t colour) {
  const uint8_t masked = colour & regs.ac[0x12] & 0x0F;  // colour plane enable
  uint8_t index = regs.ac[masked] & 0x3F;
  if (regs.ac[0x10] & 0x80)
    index = static_cast<uint8_t>((index & 0x0F) | ((regs.ac[0x14] & 0x03) << 4));
  return static_cast<uint8_t>(index | ((regs.ac[0x14] & 0x0C) << 4));
}

}  // namespace vga_render

namespace {

// Code page 437 as Unicode code points (the VGA ROM font's glyphs), with
// the control codes shown as their glyphs, as on screen.
constexpr char16_t kCp437[256] = {
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, 0x25D8, 0x25CB, 0x25D9, 0x2642,
    0x2640, 0x266A, 0x266B, 0x263C, 0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8,
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC, 0x0020, 0x0021, 0x0022, 0x0023,
    0x0024, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B,
    0x003C, 0x003D, 0x003E, 0x003F, 0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053,
    0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x005B, 0x005C, 0x005D, 0x005E, 0x005F,
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B,
    0x006C, 0x006D, 0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x007B, 0x007C, 0x007D, 0x007E, 0x2302, 0x00C7, 0x00FC, 0x00E9, 0x00E2,
    0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, 0x00FF, 0x00D6, 0x00DC, 0x00A2,
    0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB, 0x2591, 0x2592, 0x2593, 0x2502,
    0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566,
    0x2560, 0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580, 0x03B1, 0x00DF, 0x0393, 0x03C0,
    0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248, 0x00B0, 0x2219, 0x00B7, 0x221A,
    0x207F, 0x00B2, 0x25A0, 0x0020};

void append_utf8(std::string& s, char16_t c) {
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

// Both text dumps walk the screen the same way; `put` appends one character
// code to the line, and trailing spaces are dropped.
template <typename Put>
static std::string walk_text_screen(const VgaRegisters& regs, const std::vector<uint8_t>& vram, Put put) {
  std::string text;
  const unsigned columns = regs.crtc[0x01] + 1u;
  const unsigned char_height = (regs.crtc[0x09] & 0x1F) + 1u;
  const unsigned scan_repeat = (regs.crtc[0x09] & 0x80) ? 2 : 1;
  const unsigned rows = vga_render::vertical_display_lines(regs) / (char_height * scan_repeat);
  const unsigned start = vga_render::start_address(regs);
  for (unsigned row = 0; row < rows; ++row) {
    std::string line;
    for (unsigned col = 0; col < columns; ++col) {
      const unsigned offset =
          (start + row * vga_render::row_offset(regs) + col) & (Vga::kPlaneSize - 1);
      put(line, vram[offset << 2]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    text += line;
    text += '\n';
  }
  return text;
}

std::string Vga::text_screen() const {
  if (!in_text_mode()) return {};
  return walk_text_screen(regs_, vram_, [](std::string& line, uint8_t ch) {
    line += (ch == 0 || ch == ' ') ? ' ' : (ch > 0x20 && ch < 0x7F) ? static_cast<char>(ch) : '.';
  });
}

std::string Vga::text_screen_utf8() const {
  if (!in_text_mode()) return {};
  return walk_text_screen(regs_, vram_, [](std::string& line, uint8_t ch) { append_utf8(line, kCp437[ch]); });
}

void Vga::render(std::vector<uint32_t>& xrgb, int& width, int& height) const {
  vga_render::Frame f{regs_, vram_.data(), vram_size(), clock_.now(), xrgb, 0, 0};
  if (vbe_linear()) {
    vga_render::render_vbe(f);
  } else if (!(regs_.ac_index & 0x20) || (regs_.seq[1] & 0x20)) {
    // Palette address source clear or screen off: the display is blank.
    const bool text = !(regs_.gc[6] & 0x01);
    const unsigned dot = text ? ((regs_.seq[1] & 0x01) ? 8 : 9) : 8;
    f.width = std::clamp<int>(static_cast<int>((regs_.crtc[1] + 1u) * dot *
                                               (vga_render::dot_clock_halved(regs_) ? 2 : 1)),
                              1, vga_render::kMaxDimension);
    f.height = std::clamp<int>(static_cast<int>(vga_render::vertical_display_lines(regs_)), 1,
                               vga_render::kMaxDimension);
    vga_render::fill(f, 0);
  } else if (regs_.gc[6] & 0x01) {
    vga_render::render_graphics(f);
  } else {
    vga_render::render_text(f);
  }
  width = f.width;
  height = f.height;
}

}  // namespace popek
