// The VGA (IBM VGA register set, as QEMU's "stdvga" presents it) with the
// Bochs VBE "dispi" extension and its linear framebuffer.
//
// Ports (byte-wide; a 16-bit OUT to an index port is split by the bus into
// index then data, which is exactly the index/data-pair semantics):
//   0x3C0     attribute controller: index/data by a flip-flop (write), index read
//   0x3C1     attribute controller data read
//   0x3C2     misc output write / input status 0 read
//   0x3C3     VGA enable (bit 0)
//   0x3C4/5   sequencer index/data
//   0x3C6     DAC pixel mask
//   0x3C7     DAC read index write / DAC state read (3 = read mode, 0 = write mode)
//   0x3C8     DAC write index (read back)
//   0x3C9     DAC data: three 6-bit components (R, G, B) with auto-increment
//   0x3CA     feature control read
//   0x3CC     misc output read
//   0x3CE/F   graphics controller index/data
//   0x3D4/5   CRTC index/data, 0x3DA input status 1 / feature control write
//             (colour, misc bit 0 = 1); 0x3B4/5 and 0x3BA when misc bit 0 = 0
//   0x1CE/F   Bochs VBE dispi index/data (16-bit; registered wide)
//
// Memory: the legacy window 0xA0000-0xBFFFF (legacy_memory(), 128 KiB, to be
// mapped at kLegacyBase) decoded by the graphics controller's memory map
// select, and the VBE linear framebuffer (lfb(), the whole VRAM, to be mapped
// at the PCI BAR). The VGA's four 64 KiB planes are the first 256 KiB of
// VRAM, interleaved: byte `offset` of plane p is vram[offset * 4 + p] (as in
// QEMU), so chain-4 mode 13h and 8-bpp VBE modes see VRAM linearly.
//
// Where this model departs from the hardware, and why:
//  - Odd/even addressing puts CPU byte `a` at offset a >> 1 of plane a & 1
//    (the hardware uses offset a & ~1); chain-4 puts it at offset a >> 2 of
//    plane a & 3. The CRTC start address and offset register are taken in
//    these compacted units in every mode (QEMU does the same), so the CRTC's
//    byte/word/doubleword address rotation is not modelled.
//  - Input status 1 follows a fixed 640x480@60 Hz raster on virtual time,
//    whatever the programmed timings: 525 lines of 31.778 us, display enable
//    off after 25.422 us of each line and from line 480, vertical retrace on
//    lines 490-491.
//  - The vertical retrace interrupt (CRTC 0x11 bits 4-5) is not generated;
//    irq() exists so the machine can wire it, but it never rises.
//  - The misc output RAM-enable bit is ignored (memory always decodes).
//  - Chain-4 and odd/even accesses neither use nor load the latches and
//    bypass the write modes (as QEMU does).
//  - VBE: the banked window at 0xA0000 works whenever VBE is enabled (with
//    or without the LFB bit). A 4-bpp VBE mode (SeaVGABIOS's planar 0x102,
//    set up over VGA mode 6Ah) is passed through to the VGA: memory accesses
//    and scan-out follow the VGA registers, the bank register is ignored, so
//    it only works while each plane fits 64 KiB (800x600 does).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/io_bus.h"
#include "core/irq.h"
#include "core/physical_memory.h"

namespace popek {

// Bochs VBE dispi register indexes (port 0x1CE) and ENABLE bits.
namespace vbe {
constexpr uint16_t kIndexPort = 0x1CE;
constexpr uint16_t kDataPort = 0x1CF;
constexpr uint16_t kIndexId = 0x0;           // interface version, B0C0..B0C5
constexpr uint16_t kIndexXres = 0x1;         // visible width in pixels
constexpr uint16_t kIndexYres = 0x2;         // visible height in pixels
constexpr uint16_t kIndexBpp = 0x3;          // 4 (VGA planar pass-through), 8, 15, 16, 24, 32
constexpr uint16_t kIndexEnable = 0x4;       // kEnable* bits
constexpr uint16_t kIndexBank = 0x5;         // 64 KiB bank in the 0xA0000 window
constexpr uint16_t kIndexVirtWidth = 0x6;    // virtual (line) width in pixels
constexpr uint16_t kIndexVirtHeight = 0x7;   // virtual height in lines (read-only in effect)
constexpr uint16_t kIndexXOffset = 0x8;      // display start x in the virtual screen
constexpr uint16_t kIndexYOffset = 0x9;      // display start y
constexpr uint16_t kIndexVideoMemory64K = 0xA;  // read-only: VRAM size / 64 KiB
constexpr uint16_t kRegisterCount = 0xB;

constexpr uint16_t kId0 = 0xB0C0;
constexpr uint16_t kId5 = 0xB0C5;  // newest version this model answers to

constexpr uint16_t kEnabled = 0x01;      // VBE mode on (VGA scan-out replaced)
constexpr uint16_t kGetCaps = 0x02;      // XRES/YRES/BPP read back their maxima
constexpr uint16_t kDac8Bit = 0x20;      // DAC components are 8 bits wide
constexpr uint16_t kLfbEnabled = 0x40;   // guest uses the linear framebuffer
constexpr uint16_t kNoClearMem = 0x80;   // do not clear VRAM on enable

constexpr uint16_t kMaxXres = 2560;
constexpr uint16_t kMaxYres = 1600;
constexpr uint16_t kMaxBpp = 32;
}  // namespace vbe

// A picture as XRGB8888: one uint32_t per pixel, 0x00RRGGBB, row by row,
// top row first (width * height pixels).
struct Framebuffer {
  int width = 0;
  int height = 0;
  std::vector<uint32_t> pixels;
};

// Register file of the VGA and VBE, read by the renderer.
struct VgaRegisters {
  uint8_t misc = 0;             // misc output: b0 I/O address select (1 = 3Dx), b1 RAM enable,
                                // b3:2 clock select, b5 odd/even page, b7:6 sync polarity
  uint8_t feature = 0;          // feature control (stored only)
  uint8_t vga_enable = 1;       // 0x3C3 bit 0 (stored only)
  uint8_t seq_index = 0;
  std::array<uint8_t, 8> seq{}; // 0 reset; 1 clocking mode (b0 8-dot chars, b3 dot clock/2,
                                // b5 screen off); 2 map mask; 3 character map select;
                                // 4 memory mode (b1 extended mem, b2 odd/even disable, b3 chain-4)
  uint8_t gc_index = 0;
  std::array<uint8_t, 16> gc{}; // 0 set/reset; 1 enable set/reset; 2 colour compare;
                                // 3 data rotate (b2:0 count, b4:3 function); 4 read map select;
                                // 5 mode (b1:0 write mode, b3 read mode, b4 odd/even,
                                //   b5 shift interleave (CGA), b6 256-colour shift);
                                // 6 misc (b0 graphics, b1 chain odd/even, b3:2 memory map);
                                // 7 colour don't care; 8 bit mask
  uint8_t crtc_index = 0;
  std::array<uint8_t, 32> crtc{}; // 0x00-0x18 used: 01 horizontal display end; 07 overflow
                                  // (b1 VDE bit 8, b6 VDE bit 9); 09 max scan line (b4:0, b7
                                  // double scan); 0A cursor start (b4:0, b5 off); 0B cursor end;
                                  // 0C/0D start address; 0E/0F cursor location; 11 b7 protect
                                  // 0-7; 12 vertical display end; 13 offset; 17 mode control
                                  // (b0/b1 CGA/Hercules row-scan address substitution,
                                  // b6 byte mode); 18 line compare
  bool ac_flipflop = false;     // false: next 0x3C0 write is the index
  uint8_t ac_index = 0;         // b4:0 register, b5 palette address source (0 = blank screen)
  std::array<uint8_t, 32> ac{}; // 00-0F palette (6 bits); 10 mode control (b0 graphics,
                                // b2 line graphics, b3 blink enable, b6 8-bit pixels,
                                // b7 P5:4 from 14); 11 overscan; 12 colour plane enable;
                                // 13 horizontal panning; 14 colour select
  uint8_t dac_mask = 0xFF;      // 0x3C6
  uint8_t dac_read_index = 0;
  uint8_t dac_write_index = 0;
  uint8_t dac_component = 0;    // 0..2 within the current entry
  uint8_t dac_state = 0;        // 3 after a 0x3C7 write (read mode), 0 after 0x3C8
  std::array<uint8_t, 3> dac_pending{};  // components of the entry being written
  std::array<uint8_t, 768> dac{};        // 256 entries of R, G, B (6 or 8 bits)
  std::array<uint8_t, 4> latch{};        // one byte per plane
  uint16_t vbe_index = 0;
  std::array<uint16_t, vbe::kRegisterCount> vbe{};
};

class Vga : public IoDevice {
 public:
  static constexpr uint32_t kLegacyBase = 0xA0000;
  static constexpr uint32_t kLegacySize = 0x20000;
  static constexpr uint32_t kPlaneSize = 0x10000;
  static constexpr uint32_t kDefaultVramSize = 16u << 20;

  // `vram_size` is rounded to a multiple of 64 KiB, at least 256 KiB.
  explicit Vga(VirtualClock& clock, uint32_t vram_size = kDefaultVramSize);
  Vga(const Vga&) = delete;
  Vga& operator=(const Vga&) = delete;

  // Registers 0x3B4/5, 0x3BA, 0x3C0-0x3CF, 0x3D4/5, 0x3DA and 0x1CE/0x1CF.
  void attach(IoBus& bus);
  // Power-on state: all registers zero (the VGA BIOS programs a mode) except
  // misc output 0x01 (colour I/O addresses), DAC mask 0xFF and the VBE
  // registers (off, ID B0C0, 640x480x8). VRAM is cleared.
  void reset();
  // Programs the standard 80x25 colour text mode (mode 3) registers and the
  // default 16-colour palette, without touching VRAM (no font is loaded: on
  // real boots the VGA BIOS loads it into plane 2). For boots without a VGA
  // BIOS and for tests.
  void set_text_mode_registers();
  // Loads a 256-glyph character set into plane 2 as the VGA BIOS does for
  // text modes: glyph c's `height` rows at plane offset c * 32 (rows past
  // `height` up to 32 are cleared). `glyphs` holds 256 * height bytes.
  void load_font(const uint8_t* glyphs, unsigned height);

  // The vertical retrace interrupt output (never raised; see above).
  IrqLine& irq() { return irq_; }
  // The 0xA0000-0xBFFFF window (offsets relative to kLegacyBase).
  MmioDevice& legacy_memory() { return legacy_; }
  // The linear framebuffer (offsets relative to the BAR base), VRAM-sized.
  MmioDevice& lfb() { return lfb_; }
  uint8_t* vram() { return vram_.data(); }
  const uint8_t* vram() const { return vram_.data(); }
  uint32_t vram_size() const { return static_cast<uint32_t>(vram_.size()); }
  const VgaRegisters& registers() const { return regs_; }
  bool vbe_enabled() const { return regs_.vbe[vbe::kIndexEnable] & vbe::kEnabled; }
  // VBE enabled in a packed or direct-colour mode (8 bpp and up): VRAM is
  // linear and the scan-out ignores the VGA registers.
  bool vbe_linear() const { return vbe_enabled() && regs_.vbe[vbe::kIndexBpp] != 4; }

  // The current picture as XRGB8888 (implemented in vga_render.cpp).
  void render(std::vector<uint32_t>& xrgb, int& width, int& height) const;
  void render(Framebuffer& out) const { render(out.pixels, out.width, out.height); }
  // In a text mode, the characters on screen as one line per text row
  // (trailing blanks removed; bytes outside printable ASCII shown as '.',
  // blanks and NULs as ' '); empty in graphics and VBE modes. For headless
  // runs and tests that assert on what the firmware printed.
  std::string text_screen() const;
  // The same screen with every character shown through code page 437 as
  // UTF-8 (box drawing, accented letters, the glyphs of control codes; NUL
  // and 0xFF as a space), trailing blanks removed; empty when not in a text
  // mode. For --screen-text.
  std::string text_screen_utf8() const;
  // True in a VGA text mode (graphics bit of GC 6 clear, VBE off).
  bool in_text_mode() const { return !vbe_linear() && !(regs_.gc[6] & 0x01); }

  // IoDevice.
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // Legacy window byte accesses (`offset` relative to kLegacyBase).
  uint8_t window_read(uint32_t offset);
  void window_write(uint32_t offset, uint8_t value);

  // Input status 1 bits at virtual time `ns` (bit 0 display disabled, bit 3
  // vertical retrace).
  static uint8_t raster_status(uint64_t ns);

  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  uint64_t ignored_writes() const { return ignored_writes_; }

 private:
  class LegacyWindow : public MmioDevice {
   public:
    explicit LegacyWindow(Vga& vga) : vga_(vga) {}
    uint32_t mmio_read(uint32_t offset, unsigned size) override;
    void mmio_write(uint32_t offset, unsigned size, uint32_t value) override;

   private:
    Vga& vga_;
  };
  class LinearFramebuffer : public MmioDevice {
   public:
    explicit LinearFramebuffer(Vga& vga) : vga_(vga) {}
    uint32_t mmio_read(uint32_t offset, unsigned size) override;
    void mmio_write(uint32_t offset, unsigned size, uint32_t value) override;

   private:
    Vga& vga_;
  };

  bool colour_io() const { return regs_.misc & 0x01; }
  uint8_t read_port(uint16_t port);
  void write_port(uint16_t port, uint8_t value);
  void write_attribute(uint8_t value);
  void write_crtc(uint8_t value);
  void write_dac_data(uint8_t value);
  uint8_t read_dac_data();
  // Maps a window offset through the memory map select; false if not decoded.
  bool decode_window(uint32_t offset, uint32_t& addr) const;
  uint8_t planar_read(uint32_t addr);
  void planar_write(uint32_t addr, uint8_t value);
  uint8_t& plane_byte(unsigned plane, uint32_t offset) {
    return vram_[((offset & (kPlaneSize - 1)) << 2) | (plane & 3)];
  }
  // VBE (vbe.cpp).
  uint16_t vbe_read(uint16_t index) const;
  void vbe_write(uint16_t index, uint16_t value);
  void vbe_fixup();
  uint32_t vbe_bytes_per_pixel() const;

  void ignored(std::string_view what);

  VirtualClock& clock_;
  std::vector<uint8_t> vram_;
  VgaRegisters regs_;
  LegacyWindow legacy_{*this};
  LinearFramebuffer lfb_{*this};
  IrqLine irq_;
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

// Finds the standard 8x16 VGA character set (code page 437) inside a VGA
// BIOS image, for boots that do not run the BIOS (direct kernel boot). The
// set is recognised by its 'A' glyph and checked by glyph 0 (blank) and
// glyph 0xDB (full block). Returns the offset of glyph 0, or -1.
long find_vga_font_8x16(const std::vector<uint8_t>& rom);

}  // namespace popek
