// VGA register and memory semantics, Bochs VBE registers, retrace timing and
// random guest traffic. Rendering is in test_vga_render.cpp.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/io_bus.h"
#include "devices/vga.h"

namespace popek {
namespace {

class VgaTest : public ::testing::Test {
 protected:
  VgaTest() {
    vga.attach(bus);
    vga.set_log([this](std::string_view m) { log.emplace_back(m); });
  }
  void out(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(bus.read(port, 1)); }
  void seq(uint8_t i, uint8_t v) { bus.write(0x3C4, 2, i | (v << 8)); }
  void gc(uint8_t i, uint8_t v) { bus.write(0x3CE, 2, i | (v << 8)); }
  void vbe_out(uint16_t i, uint16_t v) {
    bus.write(vbe::kIndexPort, 2, i);
    bus.write(vbe::kDataPort, 2, v);
  }
  uint16_t vbe_in(uint16_t i) {
    bus.write(vbe::kIndexPort, 2, i);
    return static_cast<uint16_t>(bus.read(vbe::kDataPort, 2));
  }
  void poke(uint32_t pa, uint8_t v) { vga.legacy_memory().mmio_write(pa - Vga::kLegacyBase, 1, v); }
  uint8_t peek(uint32_t pa) {
    return static_cast<uint8_t>(vga.legacy_memory().mmio_read(pa - Vga::kLegacyBase, 1));
  }
  uint8_t plane(unsigned p, uint32_t offset) { return vga.vram()[offset * 4 + p]; }
  // Planar 16-colour addressing at A0000 (as mode 12h).
  void planar_setup() {
    seq(2, 0x0F);
    seq(4, 0x06);
    gc(5, 0x00);
    gc(6, 0x05);
    gc(8, 0xFF);
  }

  VirtualClock clock{true, 1};
  IoBus bus;
  Vga vga{clock};
  std::vector<std::string> log;
};

TEST_F(VgaTest, AttributeFlipFlopAlternatesAndResetsOnStatusRead) {
  out(0x3C2, 0x01);  // colour I/O addresses
  in(0x3DA);
  out(0x3C0, 0x01);  // index
  out(0x3C0, 0x15);  // data
  EXPECT_EQ(vga.registers().ac[1], 0x15);
  out(0x3C0, 0x21);  // index 1 with PAS
  EXPECT_EQ(in(0x3C0), 0x21);
  EXPECT_EQ(in(0x3C1), 0x15);
  // A status read in the middle puts the flip-flop back to "index".
  in(0x3DA);
  out(0x3C0, 0x02);
  in(0x3DA);
  out(0x3C0, 0x05);
  EXPECT_EQ(vga.registers().ac_index, 0x05);
  EXPECT_EQ(vga.registers().ac[2], 0x00);
  out(0x3C0, 0xFF);  // palette entries keep 6 bits
  EXPECT_EQ(vga.registers().ac[5], 0x3F);
  // With mono addressing the flip-flop resets through 0x3BA instead.
  out(0x3C2, 0x00);
  out(0x3C0, 0x03);
  in(0x3DA);  // not decoded now
  EXPECT_TRUE(vga.registers().ac_flipflop);
  in(0x3BA);
  EXPECT_FALSE(vga.registers().ac_flipflop);
}

TEST_F(VgaTest, DacAutoIncrementsThroughComponentsAndEntries) {
  out(0x3C8, 10);
  for (uint8_t v : {1, 2, 3, 4, 5, 0xFF}) out(0x3C9, v);
  EXPECT_EQ(in(0x3C8), 12);
  EXPECT_EQ(in(0x3C7), 0);  // write mode
  out(0x3C7, 10);
  EXPECT_EQ(in(0x3C7), 3);  // read mode
  std::vector<uint8_t> back;
  for (int i = 0; i < 6; ++i) back.push_back(in(0x3C9));
  EXPECT_EQ(back, (std::vector<uint8_t>{1, 2, 3, 4, 5, 0x3F}));  // 6-bit components
  // The index wraps from 255 to 0.
  out(0x3C8, 255);
  for (uint8_t v : {7, 8, 9, 10, 11, 12}) out(0x3C9, v);
  EXPECT_EQ(vga.registers().dac[765], 7);
  EXPECT_EQ(vga.registers().dac[0], 10);
  EXPECT_EQ(in(0x3C8), 1);
  // A new write index restarts at the red component.
  out(0x3C8, 20);
  out(0x3C9, 1);
  out(0x3C8, 21);
  for (uint8_t v : {30, 31, 32}) out(0x3C9, v);
  EXPECT_EQ(vga.registers().dac[63], 30);
  EXPECT_EQ(vga.registers().dac[60], 0);
}

TEST_F(VgaTest, CrtcProtectBitGuardsRegistersZeroToSeven) {
  out(0x3C2, 0x01);
  bus.write(0x3D4, 2, 0x0000 | (0x55 << 8));
  EXPECT_EQ(vga.registers().crtc[0], 0x55);
  bus.write(0x3D4, 2, 0x11 | (0x80 << 8));  // protect on
  bus.write(0x3D4, 2, 0x00 | (0x66 << 8));
  EXPECT_EQ(vga.registers().crtc[0], 0x55);
  bus.write(0x3D4, 2, 0x07 | (0xFF << 8));  // only the line compare bit 8 passes
  EXPECT_EQ(vga.registers().crtc[7], 0x10);
  bus.write(0x3D4, 2, 0x0C | (0x12 << 8));  // registers past 7 stay writable
  EXPECT_EQ(vga.registers().crtc[0x0C], 0x12);
  out(0x3D4, 0x0C);
  EXPECT_EQ(in(0x3D5), 0x12);
  // With mono addressing the colour CRTC ports are not decoded.
  out(0x3C2, 0x00);
  EXPECT_EQ(in(0x3D5), 0xFF);
  out(0x3B4, 0x0C);
  EXPECT_EQ(in(0x3B5), 0x12);
  // Undefined indexes are ignored and logged.
  out(0x3B4, 0x30);
  out(0x3B5, 0x01);
  EXPECT_EQ(in(0x3B5), 0xFF);
  EXPECT_FALSE(log.empty());
}

TEST_F(VgaTest, WordWritesFillIndexThenData) {
  seq(2, 0x0F);
  EXPECT_EQ(vga.registers().seq[2], 0x0F);
  gc(5, 0xFF);
  EXPECT_EQ(vga.registers().gc[5], 0x7B);  // reserved bits read as zero
  out(0x3C4, 2);
  EXPECT_EQ(in(0x3C5), 0x0F);
}

TEST_F(VgaTest, WriteMode0SetResetRotateAndBitMask) {
  planar_setup();
  gc(0, 0x05);  // set/reset colour 0101
  gc(1, 0x03);  // enabled on planes 0 and 1
  gc(8, 0xF0);  // only the high nibble is written
  poke(0xA0000, 0x3C);
  EXPECT_EQ(plane(0, 0), 0xF0);  // set/reset 1
  EXPECT_EQ(plane(1, 0), 0x00);  // set/reset 0
  EXPECT_EQ(plane(2, 0), 0x30);  // CPU data under the bit mask
  EXPECT_EQ(plane(3, 0), 0x30);
  // Rotate right by 4 with XOR against the latches loaded by a read.
  gc(1, 0x00);
  gc(8, 0xFF);
  gc(3, (3 << 3) | 4);
  peek(0xA0000);
  poke(0xA0000, 0x0F);  // rotated: 0xF0
  EXPECT_EQ(plane(0, 0), 0x00);
  EXPECT_EQ(plane(1, 0), 0xF0);
  EXPECT_EQ(plane(2, 0), 0xC0);
  EXPECT_EQ(plane(3, 0), 0xC0);
  // Map mask keeps planes 2/3 unchanged.
  gc(3, 0);
  seq(2, 0x03);
  poke(0xA0001, 0xAA);
  EXPECT_EQ(plane(0, 1), 0xAA);
  EXPECT_EQ(plane(2, 1), 0x00);
}

TEST_F(VgaTest, WriteMode1CopiesLatches) {
  planar_setup();
  for (unsigned p = 0; p < 4; ++p) vga.vram()[4 * 7 + p] = static_cast<uint8_t>(0x10 + p);
  peek(0xA0007);
  gc(5, 0x01);
  gc(8, 0x00);  // the bit mask does not apply to write mode 1
  poke(0xA0100, 0x99);
  for (unsigned p = 0; p < 4; ++p) EXPECT_EQ(plane(p, 0x100), 0x10 + p);
}

TEST_F(VgaTest, WriteMode2And3) {
  planar_setup();
  gc(5, 0x02);
  gc(8, 0x81);
  poke(0xA0010, 0x0A);  // colour 1010 on bits 7 and 0
  EXPECT_EQ(plane(0, 0x10), 0x00);
  EXPECT_EQ(plane(1, 0x10), 0x81);
  EXPECT_EQ(plane(2, 0x10), 0x00);
  EXPECT_EQ(plane(3, 0x10), 0x81);
  // Mode 3: set/reset colour, CPU byte ANDed with the bit mask; other bits
  // come from the latches (still the contents of offset 0x10).
  peek(0xA0010);
  gc(5, 0x03);
  gc(0, 0x0F);
  gc(8, 0x3C);
  poke(0xA0010, 0x0F);  // effective mask 0x0C
  EXPECT_EQ(plane(0, 0x10), 0x0C);
  EXPECT_EQ(plane(1, 0x10), 0x8D);
  EXPECT_EQ(plane(2, 0x10), 0x0C);
  EXPECT_EQ(plane(3, 0x10), 0x8D);
}

TEST_F(VgaTest, ReadModes) {
  planar_setup();
  const uint8_t bytes[4] = {0xF0, 0xCC, 0xAA, 0xFF};
  for (unsigned p = 0; p < 4; ++p) vga.vram()[4 * 3 + p] = bytes[p];
  gc(4, 2);  // read mode 0, plane 2
  EXPECT_EQ(peek(0xA0003), 0xAA);
  gc(5, 0x08);  // read mode 1
  gc(2, 0x0B);  // colour 1011
  gc(7, 0x0F);
  // Pixel colours by bit, MSB first: F, B, D, 9, E, A, C, 8 -> only bit 6.
  EXPECT_EQ(peek(0xA0003), 0x40);
  gc(7, 0x01);  // compare plane 0 only: bits where plane 0 is 1
  EXPECT_EQ(peek(0xA0003), 0xF0);
  gc(7, 0x00);  // nothing compared: all match
  EXPECT_EQ(peek(0xA0003), 0xFF);
}

TEST_F(VgaTest, Chain4AndOddEvenAddressing) {
  seq(2, 0x0F);
  seq(4, 0x0E);  // chain-4
  gc(6, 0x05);
  gc(5, 0x40);
  for (uint32_t i = 0; i < 8; ++i) poke(0xA0000 + 320 + i, static_cast<uint8_t>(i + 1));
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(vga.vram()[320 + i], i + 1);
  EXPECT_EQ(plane(1, 80), 2);  // byte 321: plane 1, offset 80
  EXPECT_EQ(peek(0xA0000 + 323), 4);
  // Text mode mapping at B8000: A0 selects plane 0/1, offset addr >> 1.
  seq(2, 0x03);
  seq(4, 0x02);
  gc(5, 0x10);
  gc(6, 0x0E);
  poke(0xB8000, 'A');
  poke(0xB8001, 0x1F);
  poke(0xB8002, 'B');
  EXPECT_EQ(plane(0, 0), 'A');
  EXPECT_EQ(plane(1, 0), 0x1F);
  EXPECT_EQ(plane(0, 1), 'B');
  EXPECT_EQ(peek(0xB8001), 0x1F);
  // A0000 is outside the B8000 mapping.
  EXPECT_EQ(peek(0xA0000), 0xFF);
  poke(0xA0000, 0x12);
  EXPECT_EQ(plane(0, 0), 'A');
}

TEST_F(VgaTest, VbeIdNegotiation) {
  EXPECT_EQ(vbe_in(vbe::kIndexId), vbe::kId0);
  vbe_out(vbe::kIndexId, 0xB0C5);
  EXPECT_EQ(vbe_in(vbe::kIndexId), 0xB0C5);
  vbe_out(vbe::kIndexId, 0xB0C6);  // unknown versions are refused
  EXPECT_EQ(vbe_in(vbe::kIndexId), 0xB0C5);
  vbe_out(vbe::kIndexId, 0xB0C2);
  EXPECT_EQ(vbe_in(vbe::kIndexId), 0xB0C2);
  EXPECT_EQ(vbe_in(vbe::kIndexVideoMemory64K), 256);  // 16 MiB
  vbe_out(vbe::kIndexEnable, vbe::kGetCaps);
  EXPECT_EQ(vbe_in(vbe::kIndexXres), vbe::kMaxXres);
  EXPECT_EQ(vbe_in(vbe::kIndexBpp), 32);
  vbe_out(vbe::kIndexEnable, 0);
  EXPECT_EQ(vbe_in(vbe::kIndexXres), 640);
  EXPECT_EQ(vbe_in(0x55), 0);  // undefined index
}

TEST_F(VgaTest, VbeEnableClearsMemoryAndBanksTheWindow) {
  vga.vram()[0] = 0x77;
  vga.vram()[0x30000] = 0x66;
  vbe_out(vbe::kIndexXres, 800);
  vbe_out(vbe::kIndexYres, 600);
  vbe_out(vbe::kIndexBpp, 32);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled);
  EXPECT_EQ(vga.vram()[0], 0);
  EXPECT_EQ(vbe_in(vbe::kIndexVirtWidth), 800);
  EXPECT_EQ(vbe_in(vbe::kIndexVirtHeight), (16u << 20) / (800 * 4));
  vbe_out(vbe::kIndexBank, 3);
  poke(0xA0010, 0x5A);
  EXPECT_EQ(vga.vram()[0x30010], 0x5A);
  EXPECT_EQ(peek(0xA0010), 0x5A);
  EXPECT_EQ(peek(0xB0000), 0xFF);  // only 64 KiB of window
  vbe_out(vbe::kIndexBank, 256);   // beyond VRAM: refused
  EXPECT_EQ(vbe_in(vbe::kIndexBank), 3);
  // NOCLEARMEM keeps VRAM on the next enable.
  vbe_out(vbe::kIndexEnable, 0);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled | vbe::kLfbEnabled | vbe::kNoClearMem);
  EXPECT_EQ(vga.vram()[0x30010], 0x5A);
  // The LFB sees the same VRAM; accesses beyond it are harmless.
  EXPECT_EQ(vga.lfb().mmio_read(0x30010, 1), 0x5Au);
  vga.lfb().mmio_write(0x100, 4, 0x11223344);
  EXPECT_EQ(vga.vram()[0x100], 0x44);
  EXPECT_EQ(vga.lfb().mmio_read(0x100, 2), 0x3344u);
  EXPECT_EQ(vga.lfb().mmio_read(vga.vram_size() - 2, 4), 0xFFFF0000u);
  vga.lfb().mmio_write(vga.vram_size() - 1, 4, 0xFFFFFFFF);
  EXPECT_EQ(vga.vram()[vga.vram_size() - 1], 0xFF);
}

TEST_F(VgaTest, VbeGeometryIsClampedToVram) {
  VirtualClock c{true, 1};
  Vga small{c, 1u << 20};  // 1 MiB
  IoBus b;
  small.attach(b);
  auto w = [&](uint16_t i, uint16_t v) {
    b.write(vbe::kIndexPort, 2, i);
    b.write(vbe::kDataPort, 2, v);
  };
  w(vbe::kIndexXres, 2560);
  w(vbe::kIndexYres, 1600);
  w(vbe::kIndexBpp, 32);
  w(vbe::kIndexVirtWidth, 0xFFFF);
  w(vbe::kIndexYOffset, 0xFFFF);
  w(vbe::kIndexEnable, vbe::kEnabled);
  const auto& r = small.registers().vbe;
  EXPECT_LE(uint64_t{r[vbe::kIndexVirtWidth]} * 4 * (r[vbe::kIndexYOffset] + r[vbe::kIndexYres]),
            small.vram_size());
  w(vbe::kIndexBpp, 12);  // unsupported: taken as 8
  EXPECT_EQ(r[vbe::kIndexBpp], 8);
  std::vector<uint32_t> pixels;
  int width = 0, height = 0;
  small.render(pixels, width, height);
  EXPECT_EQ(pixels.size(), static_cast<size_t>(width) * height);
}

TEST_F(VgaTest, RetraceBitsToggleOnVirtualTime) {
  out(0x3C2, 0x01);
  bool saw_retrace = false, saw_no_retrace = false, saw_display = false, saw_blank = false;
  uint64_t first_retrace = 0;
  for (int i = 0; i < 40000; ++i) {  // 40000 x 1 us = 40 ms, over two frames
    const uint8_t s = in(0x3DA);
    if (s & 0x08) {
      if (!saw_retrace) first_retrace = clock.now();
      saw_retrace = true;
      EXPECT_TRUE(s & 0x01);  // retrace implies display disabled
    } else {
      saw_no_retrace = true;
    }
    (s & 0x01) ? saw_blank = true : saw_display = true;
    clock.retire(1000);
  }
  EXPECT_TRUE(saw_retrace);
  EXPECT_TRUE(saw_no_retrace);
  EXPECT_TRUE(saw_display);
  EXPECT_TRUE(saw_blank);
  EXPECT_GT(first_retrace, 15'000'000u);  // line 490 of the first frame
  EXPECT_LT(first_retrace, 16'000'000u);
}

TEST_F(VgaTest, ResetRestoresPowerOnState) {
  seq(2, 0x0F);
  vbe_out(vbe::kIndexEnable, vbe::kEnabled);
  vga.vram()[5] = 1;
  vga.reset();
  EXPECT_EQ(vga.registers().seq[2], 0);
  EXPECT_FALSE(vga.vbe_enabled());
  EXPECT_EQ(vga.vram()[5], 0);
  EXPECT_EQ(vga.registers().dac_mask, 0xFF);
}

TEST_F(VgaTest, RandomGuestTrafficIsSafe) {
  // A small VRAM keeps the VBE clear-on-enable cheap.
  IoBus b;
  Vga v{clock, 1u << 20};
  v.attach(b);
  std::mt19937 rng(1234);
  std::vector<uint32_t> pixels;
  int width = 0, height = 0;
  const uint16_t ports[] = {0x3B4, 0x3B5, 0x3BA, 0x3C0, 0x3C1, 0x3C2, 0x3C3, 0x3C4,
                            0x3C5, 0x3C6, 0x3C7, 0x3C8, 0x3C9, 0x3CA, 0x3CB, 0x3CC,
                            0x3CD, 0x3CE, 0x3CF, 0x3D4, 0x3D5, 0x3DA, 0x1CE, 0x1CF};
  for (int i = 0; i < 200000; ++i) {
    const uint32_t r = rng();
    const unsigned size = 1u << (rng() % 3);
    switch (r % 6) {
      case 0:
      case 1:
        b.write(ports[rng() % std::size(ports)], size, rng());
        break;
      case 2:
        b.read(ports[rng() % std::size(ports)], size);
        break;
      case 3:
        v.legacy_memory().mmio_write(rng() % (Vga::kLegacySize + 16), size, rng());
        v.legacy_memory().mmio_read(rng() % (Vga::kLegacySize + 16), size);
        break;
      case 4:
        v.lfb().mmio_write(rng(), size, rng());
        v.lfb().mmio_read(v.vram_size() - 1 - rng() % 8, size);
        break;
      default:
        clock.retire(rng() % 100000);
        if (i % 500 == 5) {
          v.render(pixels, width, height);
          ASSERT_EQ(pixels.size(), static_cast<size_t>(width) * height);
        }
        break;
    }
  }
  // VBE indexes and values chosen to exercise every register.
  for (int i = 0; i < 20000; ++i) {
    b.write(vbe::kIndexPort, 2, rng() % 12);
    b.write(vbe::kDataPort, 2, rng());
    if (i % 200 == 0) {
      v.render(pixels, width, height);
      ASSERT_EQ(pixels.size(), static_cast<size_t>(width) * height);
    }
  }
}

// A fake VGA BIOS image: junk, then a 256-glyph 8x16 set whose glyph 0 is
// blank, 'A' is the IBM shape and 0xDB is a full block, then junk.
std::vector<uint8_t> rom_with_font(size_t at, bool full_block = true) {
  std::vector<uint8_t> rom(at + 256 * 16 + 512, 0x5A);
  uint8_t* f = rom.data() + at;
  for (unsigned c = 0; c < 256; ++c)
    for (unsigned r = 0; r < 16; ++r) f[c * 16 + r] = static_cast<uint8_t>(c == 0 ? 0 : (c * 7 + r) | 1);
  const uint8_t a[16] = {0, 0, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE, 0xC6, 0xC6, 0xC6, 0xC6, 0, 0, 0, 0};
  std::copy(a, a + 16, f + 0x41 * 16);
  std::fill(f + 0xDB * 16, f + 0xDC * 16, full_block ? 0xFF : 0x7E);
  return rom;
}

TEST(VgaFont, FindsTheBiosCharacterSetByItsGlyphs) {
  EXPECT_EQ(find_vga_font_8x16(rom_with_font(0x1234)), 0x1234);
  // The 'A' shape alone is not enough: the block glyph must be full.
  EXPECT_EQ(find_vga_font_8x16(rom_with_font(0x1234, false)), -1);
  EXPECT_EQ(find_vga_font_8x16(std::vector<uint8_t>(8192, 0)), -1);
  EXPECT_EQ(find_vga_font_8x16({}), -1);
}

TEST_F(VgaTest, LoadFontFillsPlaneTwoAtThirtyTwoBytesPerGlyph) {
  std::vector<uint8_t> rom = rom_with_font(0);
  vga.vram()[(5 * 32 + 20) * 4 + 2] = 0xEE;  // a stale row past the glyph height
  vga.load_font(rom.data(), 16);
  for (unsigned c : {0u, 0x41u, 0xDBu, 0xFFu})
    for (unsigned r = 0; r < 16; ++r) EXPECT_EQ(plane(2, c * 32 + r), rom[c * 16 + r]) << c << " row " << r;
  EXPECT_EQ(plane(2, 5 * 32 + 20), 0);
  EXPECT_EQ(plane(0, 0x41 * 32 + 3), 0) << "other planes untouched";
}

}  // namespace
}  // namespace popek
