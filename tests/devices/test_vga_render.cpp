// VGA/VBE scan-out: text mode from a plane 2 font, mode 13h, a planar
// 16-colour mode, CGA 4-colour and VBE direct-colour modes, compared pixel
// by pixel with what the registers say.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/io_bus.h"
#include "devices/vga.h"
#include "devices/vga_render.h"

namespace popek {
namespace {

class VgaRenderTest : public ::testing::Test {
 protected:
  VgaRenderTest() { vga.attach(bus); }
  void out(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
  void seq(uint8_t i, uint8_t v) { bus.write(0x3C4, 2, i | (v << 8)); }
  void gc(uint8_t i, uint8_t v) { bus.write(0x3CE, 2, i | (v << 8)); }
  void crtc(uint8_t i, uint8_t v) { bus.write(0x3D4, 2, i | (v << 8)); }
  void ac(uint8_t i, uint8_t v) {
    bus.read(0x3DA, 1);
    out(0x3C0, i);
    out(0x3C0, v);
    out(0x3C0, 0x20);  // palette address source back on: display enabled
  }
  void dac(uint8_t index, uint8_t r, uint8_t g, uint8_t b) {
    out(0x3C8, index);
    out(0x3C9, r);
    out(0x3C9, g);
    out(0x3C9, b);
  }
  void vbe_out(uint16_t i, uint16_t v) {
    bus.write(vbe::kIndexPort, 2, i);
    bus.write(vbe::kDataPort, 2, v);
  }
  void poke(uint32_t pa, uint8_t v) { vga.legacy_memory().mmio_write(pa - Vga::kLegacyBase, 1, v); }
  void render() { vga.render(pixels, width, height); }
  uint32_t at(int x, int y) const { return pixels.at(static_cast<size_t>(y) * width + x); }
  static uint32_t rgb6(uint8_t r, uint8_t g, uint8_t b) {
    auto e = [](uint8_t v) { return uint32_t((v << 2) | (v >> 4)); };
    return (e(r) << 16) | (e(g) << 8) | e(b);
  }

  // Loads glyph rows for `ch` into plane 2 the way a VGA BIOS does: planar
  // addressing at A0000 with only plane 2 enabled, then text mapping again.
  void load_glyph(uint8_t ch, const std::array<uint8_t, 16>& rows, uint32_t font_offset = 0) {
    seq(2, 0x04);
    seq(4, 0x06);
    gc(4, 0x02);
    gc(5, 0x00);
    gc(6, 0x04);
    for (unsigned i = 0; i < 16; ++i) poke(0xA0000 + font_offset + ch * 32u + i, rows[i]);
    seq(2, 0x03);
    seq(4, 0x02);
    gc(4, 0x00);
    gc(5, 0x10);
    gc(6, 0x0E);
  }
  void put_char(unsigned row, unsigned col, uint8_t ch, uint8_t attr) {
    const uint32_t a = 0xB8000 + 2 * (row * 80 + col);
    poke(a, ch);
    poke(a + 1, attr);
  }

  VirtualClock clock{true, 1};
  IoBus bus;
  Vga vga{clock};
  std::vector<uint32_t> pixels;
  int width = 0, height = 0;
};

// The EGA palette colours of mode 3 through the default DAC.
const uint32_t kBlue = 0x0000AA, kYellow = 0xFFFF55, kRed = 0xAA0000, kWhite = 0xFFFFFF,
               kBlack = 0x000000, kLightGrey = 0xAAAAAA;

const std::array<uint8_t, 16> kGlyphA = {0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE,
                                         0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x81};

TEST_F(VgaRenderTest, TextModeGlyphFromPlane2WithAttributeColours) {
  vga.set_text_mode_registers();
  crtc(0x0A, 0x20);  // cursor off
  load_glyph('A', kGlyphA);
  put_char(0, 0, 'A', 0x1E);  // yellow on blue
  put_char(1, 2, 'A', 0x4F);  // white on red
  render();
  ASSERT_EQ(width, 720);
  ASSERT_EQ(height, 400);
  for (unsigned line = 0; line < 16; ++line) {
    for (unsigned dot = 0; dot < 9; ++dot) {
      const bool on = dot < 8 && (kGlyphA[line] & (0x80 >> dot));
      EXPECT_EQ(at(dot, line), on ? kYellow : kBlue) << "line " << line << " dot " << dot;
      EXPECT_EQ(at(18 + dot, 16 + line), on ? kWhite : kRed) << "line " << line << " dot " << dot;
    }
  }
  // Empty cells (character 0, attribute 0) are black.
  EXPECT_EQ(at(719, 399), kBlack);
}

TEST_F(VgaRenderTest, TextScreenDump) {
  vga.set_text_mode_registers();
  const char banner[] = "SeaBIOS (version x)";
  for (unsigned i = 0; banner[i]; ++i) put_char(0, i, static_cast<uint8_t>(banner[i]), 0x07);
  put_char(2, 3, 0xC4, 0x07);
  put_char(2, 5, 'Z', 0x07);
  const std::string text = vga.text_screen();
  EXPECT_EQ(text.substr(0, text.find('\n')), banner);
  EXPECT_NE(text.find("\n\n   . Z\n"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 25);
  gc(6, 0x05);  // graphics: no text
  EXPECT_EQ(vga.text_screen(), "");
}

TEST_F(VgaRenderTest, TextScreenUtf8MapsCodePage437) {
  vga.set_text_mode_registers();
  const uint8_t row0[] = {'O', 'K', ' ', 0xC9, 0xCD, 0xBB, ' ', 0x82, 0xE1, 0x01, 0x7F, 0xB0, 0x00, 0xFF, 'x'};
  for (unsigned i = 0; i < sizeof row0; ++i) put_char(0, i, row0[i], 0x07);
  put_char(1, 0, ' ', 0x07);
  put_char(1, 1, 0x00, 0x07);  // a row of blanks and NULs is an empty line
  const std::string text = vga.text_screen_utf8();
  // ╔═╗ é ß ☺ ⌂ ░, NUL and 0xFF shown as spaces.
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "OK \u2554\u2550\u2557 \u00e9\u00df\u263a\u2302\u2591  x");
  EXPECT_EQ(text.substr(text.find('\n') + 1, 1), "\n");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 25);
  EXPECT_TRUE(vga.in_text_mode());
  gc(6, 0x05);  // graphics: no text
  EXPECT_FALSE(vga.in_text_mode());
  EXPECT_EQ(vga.text_screen_utf8(), "");
}

TEST_F(VgaRenderTest, NinthColumnRepeatsLineGraphicsOnly) {
  vga.set_text_mode_registers();
  crtc(0x0A, 0x20);
  std::array<uint8_t, 16> bar{};
  bar.fill(0xFF);
  load_glyph(0xC4, bar);
  load_glyph('X', bar);
  put_char(0, 0, 0xC4, 0x07);
  put_char(0, 1, 'X', 0x07);
  render();
  EXPECT_EQ(at(8, 0), kLightGrey);  // 0xC4: ninth dot is the eighth repeated
  EXPECT_EQ(at(17, 0), kBlack);     // 'X': ninth dot is background
  seq(1, 0x01);                     // 8-dot characters
  render();
  EXPECT_EQ(width, 640);
  EXPECT_EQ(at(8, 0), kLightGrey);  // now the first dot of 'X'
}

TEST_F(VgaRenderTest, BlinkAttributeAndCursorFollowVirtualTime) {
  vga.set_text_mode_registers();
  load_glyph('A', kGlyphA);
  put_char(0, 0, 'A', 0x9E);  // blinking yellow on (bit 7) blue
  put_char(0, 1, ' ', 0x07);
  crtc(0x0E, 0);
  crtc(0x0F, 1);  // cursor on the empty cell at column 1
  crtc(0x0A, 14);
  crtc(0x0B, 15);
  render();
  EXPECT_EQ(at(3, 3), kYellow);      // blink phase on: foreground
  EXPECT_EQ(at(9, 14), kLightGrey);  // cursor line in the foreground colour (7)
  EXPECT_EQ(at(9, 13), kBlack);
  clock.retire(vga_render::kCursorBlinkNs / 2);
  render();
  EXPECT_EQ(at(9, 14), kBlack);  // cursor off
  EXPECT_EQ(at(3, 3), kYellow);  // characters blink at half the rate
  clock.retire(vga_render::kCursorBlinkNs / 2);
  render();
  EXPECT_EQ(at(3, 3), kBlue);  // blink phase off: foreground hidden
  // Without blink enable, bit 7 is background intensity instead.
  ac(0x10, 0x04);
  render();
  EXPECT_EQ(at(3, 3), kYellow);
  EXPECT_EQ(at(0, 0), 0x5555FF);  // background colour 9 (light blue)
}

TEST_F(VgaRenderTest, CharacterMapSelectUsesAttributeBit3) {
  vga.set_text_mode_registers();
  crtc(0x0A, 0x20);
  std::array<uint8_t, 16> left{}, right{};
  left.fill(0xF0);
  right.fill(0x0F);
  load_glyph('Z', left, 0x0000);   // map 0
  load_glyph('Z', right, 0x4000);  // map 1
  seq(3, 0x04);                    // map A (attribute bit 3 set) = 1, map B = 0
  put_char(0, 0, 'Z', 0x0F);       // bit 3 set: map 1
  put_char(0, 1, 'Z', 0x07);       // bit 3 clear: map 0
  render();
  EXPECT_EQ(at(0, 0), kBlack);
  EXPECT_EQ(at(7, 0), kWhite);
  EXPECT_EQ(at(9, 0), kLightGrey);
  EXPECT_EQ(at(16, 0), kBlack);
}

// Mode 13h: 320x200 chain-4, shown as 640x400 (two dots per pixel, two
// scan lines per row, as the CRTC programs it).
TEST_F(VgaRenderTest, Mode13hUsesTheDacPalette) {
  out(0x3C2, 0x63);
  seq(1, 0x01);
  seq(2, 0x0F);
  seq(4, 0x0E);
  gc(5, 0x40);
  gc(6, 0x05);
  crtc(0x01, 0x4F);
  crtc(0x07, 0x1F);  // VDE bit 8
  crtc(0x09, 0x41);  // two scan lines per row
  crtc(0x12, 0x8F);  // VDE = 0x18F: 400 lines
  crtc(0x13, 0x28);
  crtc(0x17, 0xA3);
  ac(0x10, 0x41);
  for (unsigned i = 0; i < 256; ++i) {
    dac(static_cast<uint8_t>(i), static_cast<uint8_t>(i & 0x3F),
        static_cast<uint8_t>((i >> 2) & 0x3F), static_cast<uint8_t>(63 - (i & 0x3F)));
  }
  for (unsigned y = 0; y < 200; ++y) {
    for (unsigned x = 0; x < 320; ++x) poke(0xA0000 + y * 320 + x, static_cast<uint8_t>(x + y));
  }
  render();
  ASSERT_EQ(width, 640);
  ASSERT_EQ(height, 400);
  // The colour of chain-4 byte address a = 320 * y + x.
  auto want_at = [](int x, int y) {
    const uint8_t i = static_cast<uint8_t>(x % 320 + y + x / 320);
    return rgb6(i & 0x3F, (i >> 2) & 0x3F, 63 - (i & 0x3F));
  };
  for (int y = 0; y < 200; y += 7) {
    for (int x = 0; x < 320; x += 3) {
      const uint8_t i = static_cast<uint8_t>(x + y);
      const uint32_t want = rgb6(i & 0x3F, (i >> 2) & 0x3F, 63 - (i & 0x3F));
      ASSERT_EQ(at(2 * x, 2 * y), want) << x << "," << y;
      ASSERT_EQ(at(2 * x + 1, 2 * y + 1), want) << x << "," << y;
    }
  }
  // Panning by one 8-bit pixel (attribute 0x13 = 2).
  ac(0x13, 0x02);
  render();
  EXPECT_EQ(at(0, 0), want_at(1, 0));
  EXPECT_EQ(at(2 * 319, 0), want_at(320, 0));  // from the next row's start address
  ac(0x13, 0x00);
  // The pixel mask applies before the DAC lookup.
  out(0x3C6, 0x0F);
  render();
  EXPECT_EQ(at(2 * 0x35, 0), rgb6(0x05, 0x01, 63 - 0x05));
}

TEST_F(VgaRenderTest, Mode12hPlanarSixteenColours) {
  out(0x3C2, 0xE3);
  seq(1, 0x01);
  seq(2, 0x0F);
  seq(4, 0x06);
  gc(5, 0x02);  // write mode 2: CPU nibble is the colour
  gc(6, 0x05);
  crtc(0x01, 0x4F);
  crtc(0x07, 0x3E);  // VDE bit 8
  crtc(0x09, 0x40);
  crtc(0x12, 0xDF);  // VDE = 0x1DF: 480 lines
  crtc(0x13, 0x28);
  crtc(0x17, 0xE3);
  for (uint8_t i = 0; i < 16; ++i) ac(i, i);
  ac(0x10, 0x01);
  ac(0x12, 0x0F);
  for (uint8_t i = 0; i < 16; ++i)
    dac(i, static_cast<uint8_t>(i * 4), 0, static_cast<uint8_t>(63 - i * 4));
  // Colour (x / 8 + y) % 16 at pixel x on the lines y = 0..479, one pixel at a time.
  for (unsigned y = 0; y < 480; y += 13) {
    for (unsigned x = 0; x < 640; ++x) {
      gc(8, static_cast<uint8_t>(0x80 >> (x & 7)));
      vga.legacy_memory().mmio_read(y * 80 + x / 8, 1);  // load the latches
      poke(0xA0000 + y * 80 + x / 8, static_cast<uint8_t>((x / 8 + y + x) % 16));
    }
  }
  render();
  ASSERT_EQ(width, 640);
  ASSERT_EQ(height, 480);
  for (int y = 0; y < 480; y += 13) {
    for (int x = 0; x < 640; ++x) {
      const uint8_t c = static_cast<uint8_t>((x / 8 + y + x) % 16);
      ASSERT_EQ(at(x, y), rgb6(c * 4, 0, 63 - c * 4)) << x << "," << y;
    }
  }
  // Split screen: start the display at line 13; after line compare 100 the
  // picture restarts at address 0.
  crtc(0x0C, (13 * 80) >> 8);
  crtc(0x0D, (13 * 80) & 0xFF);
  crtc(0x07, 0x2E);  // line compare bit 8 clear
  crtc(0x09, 0x00);  // line compare bit 9 clear
  crtc(0x18, 100);
  std::vector<uint32_t> before = pixels;
  render();
  for (int x = 0; x < 640; x += 5) {
    ASSERT_EQ(at(x, 0), before[13 * 640 + x]) << x;
    ASSERT_EQ(at(x, 100), before[113 * 640 + x]) << x;
    ASSERT_EQ(at(x, 101), before[x]) << x;
    ASSERT_EQ(at(x, 114), before[13 * 640 + x]) << x;
  }
  crtc(0x0C, 0);
  crtc(0x0D, 0);
  crtc(0x18, 0xFF);
  crtc(0x07, 0x3E);
  // Colour plane enable masks planes out before the palette.
  ac(0x12, 0x01);
  render();
  const uint8_t c = (0 + 0 + 3) % 16;  // pixel (3, 0): colour 3 -> 1
  EXPECT_EQ(at(3, 0), rgb6(4 * (c & 1), 0, 63 - 4 * (c & 1)));
}

TEST_F(VgaRenderTest, CgaFourColourInterleavedBanks) {
  // Mode 4: 320x200x4, odd/even, scan lines alternate between two 8 KiB banks.
  out(0x3C2, 0x63);
  seq(1, 0x09);  // 8-dot, dot clock halved
  seq(2, 0x03);
  seq(4, 0x02);
  gc(5, 0x30);
  gc(6, 0x0F);
  crtc(0x01, 0x27);
  crtc(0x07, 0x1F);
  crtc(0x09, 0xC1);  // double scan, two row scans per row
  crtc(0x12, 0x8F);
  crtc(0x13, 0x14);
  crtc(0x17, 0xA2);  // CGA compatibility: row scan 0 selects the bank
  for (uint8_t i = 0; i < 4; ++i) ac(i, i);
  ac(0x10, 0x01);
  ac(0x12, 0x03);
  dac(1, 0, 63, 0);
  dac(2, 63, 0, 0);
  dac(3, 63, 63, 63);
  poke(0xB8000, 0x1B);           // row 0: pixels 0,1,2,3 = 0,1,2,3
  poke(0xB8000 + 0x2000, 0xE4);  // row 1 (odd bank): 3,2,1,0
  poke(0xB8001, 0x40);           // row 0 pixel 4 = 1
  render();
  ASSERT_EQ(width, 640);
  ASSERT_EQ(height, 400);
  const uint32_t colours[4] = {0x000000, 0x00FF00, 0xFF0000, 0xFFFFFF};
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(at(2 * p, 0), colours[p]) << p;
    EXPECT_EQ(at(2 * p + 1, 1), colours[p]) << p;
    EXPECT_EQ(at(2 * p, 2), colours[3 - p]) << p;  // second CGA scan line
  }
  EXPECT_EQ(at(8, 0), colours[1]);
}

TEST_F(VgaRenderTest, BlankWhenPaletteAddressSourceIsClear) {
  vga.set_text_mode_registers();
  load_glyph('A', kGlyphA);
  put_char(0, 0, 'A', 0x1E);
  bus.read(0x3DA, 1);
  out(0x3C0, 0x00);  // PAS clear
  render();
  EXPECT_EQ(width, 720);
  EXPECT_EQ(at(0, 0), kBlack);
}

TEST_F(VgaRenderTest, Vbe4BppPassesThroughToPlanarVga) {
  // As SeaVGABIOS sets mode 0x102: VGA planar registers for 800x600, then
  // VBE 800x600x4 enabled.
  out(0x3C2, 0xE3);
  seq(1, 0x01);
  seq(2, 0x0F);
  seq(4, 0x06);
  gc(5, 0x02);  // write mode 2
  gc(6, 0x05);
  crtc(0x01, 99);    // 100 character clocks: 800 dots
  crtc(0x07, 0x50);  // VDE bit 9, line compare bit 8
  crtc(0x09, 0x40);  // line compare bit 9: no split screen
  crtc(0x12, 0x57);  // VDE = 0x257: 600 lines
  crtc(0x13, 50);    // 100 bytes per line
  crtc(0x17, 0xE3);
  crtc(0x18, 0xFF);
  for (uint8_t i = 0; i < 16; ++i) ac(i, i);
  ac(0x10, 0x01);
  ac(0x12, 0x0F);
  dac(9, 10, 20, 30);
  vbe_out(vbe::kIndexXres, 800);
  vbe_out(vbe::kIndexYres, 600);
  vbe_out(vbe::kIndexBpp, 4);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled);
  EXPECT_EQ(vga.registers().vbe[vbe::kIndexBpp], 4);
  gc(8, 0x01);                        // rightmost pixel of the byte
  poke(0xA0000 + 599 * 100 + 99, 9);  // pixel (799, 599)
  render();
  ASSERT_EQ(width, 800);
  ASSERT_EQ(height, 600);
  EXPECT_EQ(at(799, 599), rgb6(10, 20, 30));
  EXPECT_EQ(at(798, 599), 0u);
}

TEST_F(VgaRenderTest, Vbe32BppLinearFramebuffer) {
  vbe_out(vbe::kIndexXres, 64);
  vbe_out(vbe::kIndexYres, 48);
  vbe_out(vbe::kIndexBpp, 32);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled | vbe::kLfbEnabled);
  for (uint32_t y = 0; y < 48; ++y) {
    for (uint32_t x = 0; x < 64; ++x)
      vga.lfb().mmio_write((y * 64 + x) * 4, 4, (x << 16) | (y << 8) | (x ^ y));
  }
  render();
  ASSERT_EQ(width, 64);
  ASSERT_EQ(height, 48);
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 64; ++x) ASSERT_EQ(at(x, y), uint32_t((x << 16) | (y << 8) | (x ^ y)));
  }
  // Panning inside a wider virtual screen.
  vbe_out(vbe::kIndexVirtWidth, 128);
  vbe_out(vbe::kIndexXOffset, 8);
  vbe_out(vbe::kIndexYOffset, 2);
  vga.lfb().mmio_write((2 * 128 + 8) * 4, 4, 0x123456);
  render();
  EXPECT_EQ(at(0, 0), 0x123456u);
}

TEST_F(VgaRenderTest, VbeSixteenFifteenTwentyFourAndEightBpp) {
  vbe_out(vbe::kIndexXres, 16);
  vbe_out(vbe::kIndexYres, 8);
  vbe_out(vbe::kIndexBpp, 16);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled | vbe::kLfbEnabled);
  vga.lfb().mmio_write(0, 2, 0xF800);  // pure red in 5:6:5
  vga.lfb().mmio_write(2, 2, 0x07E0);  // pure green
  render();
  EXPECT_EQ(at(0, 0), 0xFF0000u);
  EXPECT_EQ(at(1, 0), 0x00FF00u);
  vbe_out(vbe::kIndexEnable, 0);
  vbe_out(vbe::kIndexBpp, 15);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled | vbe::kLfbEnabled);
  vga.lfb().mmio_write(0, 2, 0x001F);  // blue in 5:5:5
  vga.lfb().mmio_write(2, 2, 0x03E0);  // green
  render();
  EXPECT_EQ(at(0, 0), 0x0000FFu);
  EXPECT_EQ(at(1, 0), 0x00FF00u);
  vbe_out(vbe::kIndexEnable, 0);
  vbe_out(vbe::kIndexBpp, 24);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled | vbe::kLfbEnabled);
  vga.lfb().mmio_write(3, 1, 0x11);  // pixel 1: B, G, R
  vga.lfb().mmio_write(4, 1, 0x22);
  vga.lfb().mmio_write(5, 1, 0x33);
  render();
  EXPECT_EQ(at(1, 0), 0x332211u);
  vbe_out(vbe::kIndexEnable, 0);
  vbe_out(vbe::kIndexBpp, 8);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled | vbe::kDac8Bit);  // banked, 8-bit DAC
  dac(5, 0x80, 0x40, 0xC0);
  poke(0xA0000 + 16 + 3, 5);  // row 1, column 3 through the bank window
  render();
  EXPECT_EQ(at(3, 1), 0x8040C0u);
}

}  // namespace
}  // namespace popek
