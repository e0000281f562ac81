// VGA register ports and the planar memory of the legacy window. The VBE
// dispi registers live in vbe.cpp, the scan-out in vga_render.cpp.
#include "devices/vga.h"

#include <algorithm>
#include <iterator>
#include <cstdio>

namespace popek {

namespace {

// Writable bits of each sequencer and graphics controller register (others
// read back as zero); indexes beyond the table are ignored.
constexpr std::array<uint8_t, 5> kSeqMask = {0x03, 0x3D, 0x0F, 0x3F, 0x0E};
constexpr std::array<uint8_t, 9> kGcMask = {0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF};
constexpr unsigned kCrtcRegisters = 0x19;
constexpr unsigned kAcRegisters = 0x15;

// Raster model for input status 1 (see vga.h).
constexpr uint64_t kLineNs = 31'778;
constexpr uint64_t kActiveLineNs = 25'422;
constexpr uint64_t kLinesPerFrame = 525;
constexpr uint64_t kActiveLines = 480;
constexpr uint64_t kRetraceFirstLine = 490;
constexpr uint64_t kRetraceEndLine = 492;

// Replicates each of the four low bits of `bits` into a whole plane byte.
uint32_t expand_planes(uint8_t bits) {
  uint32_t out = 0;
  for (unsigned p = 0; p < 4; ++p) {
    if (bits & (1u << p)) out |= 0xFFu << (8 * p);
  }
  return out;
}

uint32_t replicate(uint8_t v) { return 0x01010101u * v; }

// Standard mode 3 register values (IBM VGA technical reference).
constexpr std::array<uint8_t, 5> kMode3Seq = {0x03, 0x00, 0x03, 0x00, 0x02};
constexpr std::array<uint8_t, kCrtcRegisters> kMode3Crtc = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
constexpr std::array<uint8_t, 9> kMode3Gc = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
constexpr std::array<uint8_t, kAcRegisters> kMode3Ac = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14,
                                                        0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D,
                                                        0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};

}  // namespace

Vga::Vga(VirtualClock& clock, uint32_t vram_size) : clock_(clock) {
  vram_size = std::max<uint32_t>(vram_size, 4 * kPlaneSize);
  vram_size = (vram_size + 0xFFFF) & ~0xFFFFu;
  vram_.assign(vram_size, 0);
  reset();
}

void Vga::attach(IoBus& bus) {
  bus.register_ports(0x3B4, 2, this);
  bus.register_ports(0x3BA, 1, this);
  bus.register_ports(0x3C0, 16, this);
  bus.register_ports(0x3D4, 2, this);
  bus.register_ports(0x3DA, 1, this);
  bus.register_ports(vbe::kIndexPort, 2, this, /*wide=*/true);
}

void Vga::reset() {
  regs_ = VgaRegisters{};
  regs_.misc = 0x01;  // colour I/O addresses (3Dx), as Bochs powers up
  regs_.vbe[vbe::kIndexId] = vbe::kId0;
  regs_.vbe[vbe::kIndexXres] = 640;
  regs_.vbe[vbe::kIndexYres] = 480;
  regs_.vbe[vbe::kIndexBpp] = 8;
  regs_.vbe[vbe::kIndexVideoMemory64K] = static_cast<uint16_t>(vram_.size() >> 16);
  vbe_fixup();
  std::fill(vram_.begin(), vram_.end(), 0);
}

void Vga::set_text_mode_registers() {
  regs_.misc = 0x67;
  std::copy(kMode3Seq.begin(), kMode3Seq.end(), regs_.seq.begin());
  std::copy(kMode3Crtc.begin(), kMode3Crtc.end(), regs_.crtc.begin());
  std::copy(kMode3Gc.begin(), kMode3Gc.end(), regs_.gc.begin());
  std::copy(kMode3Ac.begin(), kMode3Ac.end(), regs_.ac.begin());
  regs_.ac_index = 0x20;
  regs_.ac_flipflop = false;
  regs_.dac_mask = 0xFF;
  // The EGA-compatible 64-colour palette in DAC entries 0-63: each of R, G,
  // B is 0x2A times its primary bit plus 0x15 times its secondary bit.
  for (unsigned i = 0; i < 64; ++i) {
    const uint8_t r = static_cast<uint8_t>(((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15);
    const uint8_t g = static_cast<uint8_t>(((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15);
    const uint8_t b = static_cast<uint8_t>((i & 1) * 0x2A + ((i >> 3) & 1) * 0x15);
    regs_.dac[3 * i] = r;
    regs_.dac[3 * i + 1] = g;
    regs_.dac[3 * i + 2] = b;
  }
  regs_.vbe[vbe::kIndexEnable] = 0;
}

void Vga::ignored(std::string_view what) {
  ++ignored_writes_;
  if (log_) log_(what);
}

uint8_t Vga::raster_status(uint64_t ns) {
  const uint64_t line = (ns / kLineNs) % kLinesPerFrame;
  const uint64_t in_line = ns % kLineNs;
  uint8_t status = 0;
  if (line >= kActiveLines || in_line >= kActiveLineNs) status |= 0x01;
  if (line >= kRetraceFirstLine && line < kRetraceEndLine) status |= 0x08;
  return status;
}

// ----------------------------------------------------------------------------
// Ports
// ----------------------------------------------------------------------------

uint32_t Vga::io_read(uint16_t port, unsigned size) {
  if (port == vbe::kIndexPort || port == vbe::kDataPort) {
    uint32_t v = port == vbe::kIndexPort ? regs_.vbe_index : vbe_read(regs_.vbe_index);
    return size == 1 ? (v & 0xFF) : v;
  }
  return read_port(port);
}

void Vga::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port == vbe::kIndexPort || port == vbe::kDataPort) {
    const uint16_t v = static_cast<uint16_t>(size == 1 ? (value & 0xFF) : (value & 0xFFFF));
    if (port == vbe::kIndexPort) {
      regs_.vbe_index = v;
    } else {
      vbe_write(regs_.vbe_index, v);
    }
    return;
  }
  write_port(port, static_cast<uint8_t>(value));
}

uint8_t Vga::read_port(uint16_t port) {
  // CRTC and input status 1 answer only at the address the misc register selects.
  const bool mono_port = (port & 0xFFF0) == 0x3B0;
  const bool colour_port = (port & 0xFFF0) == 0x3D0;
  if ((mono_port && colour_io()) || (colour_port && !colour_io())) return 0xFF;
  switch (port) {
    case 0x3C0:
      return regs_.ac_index;
    case 0x3C1: {
      const unsigned i = regs_.ac_index & 0x1F;
      return i < kAcRegisters ? regs_.ac[i] : 0;
    }
    case 0x3C2:
      return 0x00;  // input status 0: no switch sense, no pending retrace interrupt
    case 0x3C3:
      return regs_.vga_enable;
    case 0x3C4:
      return regs_.seq_index;
    case 0x3C5:
      return regs_.seq_index < kSeqMask.size() ? regs_.seq[regs_.seq_index] : 0xFF;
    case 0x3C6:
      return regs_.dac_mask;
    case 0x3C7:
      return regs_.dac_state;
    case 0x3C8:
      return regs_.dac_write_index;
    case 0x3C9:
      return read_dac_data();
    case 0x3CA:
      return regs_.feature;
    case 0x3CC:
      return regs_.misc;
    case 0x3CE:
      return regs_.gc_index;
    case 0x3CF:
      return regs_.gc_index < kGcMask.size() ? regs_.gc[regs_.gc_index] : 0xFF;
    case 0x3B4:
    case 0x3D4:
      return regs_.crtc_index;
    case 0x3B5:
    case 0x3D5:
      return regs_.crtc_index < kCrtcRegisters ? regs_.crtc[regs_.crtc_index] : 0xFF;
    case 0x3BA:
    case 0x3DA:
      regs_.ac_flipflop = false;  // reading input status 1 resets the flip-flop to "index"
      return raster_status(clock_.now());
    default:
      return 0xFF;  // 0x3CB, 0x3CD: not decoded
  }
}

void Vga::write_port(uint16_t port, uint8_t value) {
  const bool mono_port = (port & 0xFFF0) == 0x3B0;
  const bool colour_port = (port & 0xFFF0) == 0x3D0;
  if ((mono_port && colour_io()) || (colour_port && !colour_io())) return;
  switch (port) {
    case 0x3C0:
      write_attribute(value);
      break;
    case 0x3C2:
      regs_.misc = value;
      break;
    case 0x3C3:
      regs_.vga_enable = value & 0x01;
      break;
    case 0x3C4:
      regs_.seq_index = value & 0x07;
      break;
    case 0x3C5:
      if (regs_.seq_index < kSeqMask.size()) {
        regs_.seq[regs_.seq_index] = value & kSeqMask[regs_.seq_index];
      } else {
        ignored("vga: write to undefined sequencer register");
      }
      break;
    case 0x3C6:
      regs_.dac_mask = value;
      break;
    case 0x3C7:  // DAC read index: reads start at this entry
      regs_.dac_read_index = value;
      regs_.dac_component = 0;
      regs_.dac_state = 3;
      break;
    case 0x3C8:  // DAC write index
      regs_.dac_write_index = value;
      regs_.dac_component = 0;
      regs_.dac_state = 0;
      break;
    case 0x3C9:
      write_dac_data(value);
      break;
    case 0x3CE:
      regs_.gc_index = value & 0x0F;
      break;
    case 0x3CF:
      if (regs_.gc_index < kGcMask.size()) {
        regs_.gc[regs_.gc_index] = value & kGcMask[regs_.gc_index];
      } else {
        ignored("vga: write to undefined graphics controller register");
      }
      break;
    case 0x3B4:
    case 0x3D4:
      regs_.crtc_index = value & 0x3F;
      break;
    case 0x3B5:
    case 0x3D5:
      write_crtc(value);
      break;
    case 0x3BA:
    case 0x3DA:
      regs_.feature = value;  // feature control
      break;
    default:
      ignored("vga: write to read-only or undecoded port");
      break;
  }
}

void Vga::write_attribute(uint8_t value) {
  if (!regs_.ac_flipflop) {
    regs_.ac_index = value & 0x3F;  // b5 palette address source, b4:0 index
    regs_.ac_flipflop = true;
    return;
  }
  regs_.ac_flipflop = false;
  const unsigned i = regs_.ac_index & 0x1F;
  if (i < 0x10) {
    regs_.ac[i] = value & 0x3F;  // palette entries are 6 bits
  } else if (i == 0x10) {
    regs_.ac[i] = value & 0xEF;  // bit 4 reserved
  } else if (i == 0x11) {
    regs_.ac[i] = value;
  } else if (i == 0x12) {
    regs_.ac[i] = value & 0x3F;  // b3:0 plane enable, b5:4 video status mux
  } else if (i == 0x13 || i == 0x14) {
    regs_.ac[i] = value & 0x0F;
  } else {
    ignored("vga: write to undefined attribute register");
  }
}

void Vga::write_crtc(uint8_t value) {
  const uint8_t i = regs_.crtc_index;
  if (i >= kCrtcRegisters) {
    ignored("vga: write to undefined CRTC register");
    return;
  }
  // CRTC 0x11 bit 7 write-protects registers 0-7, except the line compare
  // bit 8 in the overflow register (0x07 bit 4).
  if ((regs_.crtc[0x11] & 0x80) && i <= 0x07) {
    if (i == 0x07) regs_.crtc[7] = static_cast<uint8_t>((regs_.crtc[7] & ~0x10) | (value & 0x10));
    return;
  }
  regs_.crtc[i] = value;
}

void Vga::write_dac_data(uint8_t value) {
  const bool wide = regs_.vbe[vbe::kIndexEnable] & vbe::kDac8Bit;
  regs_.dac_pending[regs_.dac_component] = wide ? value : (value & 0x3F);
  if (++regs_.dac_component == 3) {
    const unsigned base = 3u * regs_.dac_write_index;
    std::copy(regs_.dac_pending.begin(), regs_.dac_pending.end(), regs_.dac.begin() + base);
    regs_.dac_component = 0;
    regs_.dac_write_index = static_cast<uint8_t>(regs_.dac_write_index + 1);  // wraps at 256
  }
}

uint8_t Vga::read_dac_data() {
  const uint8_t v = regs_.dac[3u * regs_.dac_read_index + regs_.dac_component];
  if (++regs_.dac_component == 3) {
    regs_.dac_component = 0;
    regs_.dac_read_index = static_cast<uint8_t>(regs_.dac_read_index + 1);
  }
  return v;
}

// ----------------------------------------------------------------------------
// The legacy memory window
// ----------------------------------------------------------------------------

bool Vga::decode_window(uint32_t offset, uint32_t& addr) const {
  uint32_t base = 0, size = 0;
  switch ((regs_.gc[6] >> 2) & 3) {
    case 0:
      base = 0x00000;
      size = 0x20000;
      break;  // A0000-BFFFF
    case 1:
      base = 0x00000;
      size = 0x10000;
      break;  // A0000-AFFFF
    case 2:
      base = 0x10000;
      size = 0x08000;
      break;  // B0000-B7FFF
    default:
      base = 0x18000;
      size = 0x08000;
      break;  // B8000-BFFFF
  }
  if (offset < base || offset - base >= size) return false;
  addr = offset - base;
  return true;
}

uint8_t Vga::window_read(uint32_t offset) {
  if (vbe_linear()) {
    const uint64_t a = uint64_t{regs_.vbe[vbe::kIndexBank]} * 0x10000 + offset;
    return offset < 0x10000 && a < vram_.size() ? vram_[a] : 0xFF;
  }
  uint32_t addr = 0;
  if (!decode_window(offset, addr)) return 0xFF;
  if (regs_.seq[4] & 0x08) return plane_byte(addr & 3, addr >> 2);  // chain-4
  if (regs_.gc[5] & 0x10) {                                         // odd/even
    return plane_byte((regs_.gc[4] & 2) | (addr & 1), addr >> 1);
  }
  return planar_read(addr);
}

void Vga::window_write(uint32_t offset, uint8_t value) {
  if (vbe_linear()) {
    const uint64_t a = uint64_t{regs_.vbe[vbe::kIndexBank]} * 0x10000 + offset;
    if (offset < 0x10000 && a < vram_.size()) vram_[a] = value;
    return;
  }
  uint32_t addr = 0;
  if (!decode_window(offset, addr)) return;
  const uint8_t map_mask = regs_.seq[2];
  if (regs_.seq[4] & 0x08) {  // chain-4: A1:0 pick the plane
    if (map_mask & (1u << (addr & 3))) plane_byte(addr & 3, addr >> 2) = value;
    return;
  }
  if (!(regs_.seq[4] & 0x04)) {  // odd/even: A0 picks plane 0/1 (or 2/3)
    const unsigned plane = (regs_.gc[4] & 2) | (addr & 1);
    if (map_mask & (1u << plane)) plane_byte(plane, addr >> 1) = value;
    return;
  }
  planar_write(addr, value);
}

uint8_t Vga::planar_read(uint32_t addr) {
  for (unsigned p = 0; p < 4; ++p) regs_.latch[p] = plane_byte(p, addr);
  if (!(regs_.gc[5] & 0x08)) return regs_.latch[regs_.gc[4] & 3];  // read mode 0
  // Read mode 1: a bit is 1 where every plane selected by colour don't care
  // matches the colour compare value.
  uint8_t result = 0xFF;
  for (unsigned p = 0; p < 4; ++p) {
    if (!(regs_.gc[7] & (1u << p))) continue;
    const uint8_t want = (regs_.gc[2] & (1u << p)) ? 0xFF : 0x00;
    result &= static_cast<uint8_t>(~(regs_.latch[p] ^ want));
  }
  return result;
}

void Vga::planar_write(uint32_t addr, uint8_t value) {
  const unsigned rotate = regs_.gc[3] & 7;
  const uint8_t rotated = static_cast<uint8_t>((value >> rotate) | (value << ((8 - rotate) & 7)));
  uint32_t latches = 0;
  for (unsigned p = 0; p < 4; ++p) latches |= uint32_t{regs_.latch[p]} << (8 * p);
  uint32_t data = 0;
  uint8_t bit_mask = regs_.gc[8];
  switch (regs_.gc[5] & 3) {
    case 0: {  // rotated CPU byte, with set/reset on the enabled planes
      const uint32_t sr_planes = expand_planes(regs_.gc[1]);
      data = (replicate(rotated) & ~sr_planes) | (expand_planes(regs_.gc[0]) & sr_planes);
      break;
    }
    case 1:  // latches straight to memory
      data = latches;
      bit_mask = 0x00;
      break;
    case 2:  // CPU bits 3:0 fill their planes
      data = expand_planes(value & 0x0F);
      break;
    default:  // 3: set/reset colour, rotated CPU byte ANDed into the bit mask
      data = expand_planes(regs_.gc[0]);
      bit_mask &= rotated;
      break;
  }
  if ((regs_.gc[5] & 3) != 1) {
    switch ((regs_.gc[3] >> 3) & 3) {  // logical function with the latches
      case 1:
        data &= latches;
        break;
      case 2:
        data |= latches;
        break;
      case 3:
        data ^= latches;
        break;
      default:
        break;
    }
  }
  const uint32_t mask = replicate(bit_mask);
  data = (data & mask) | (latches & ~mask);
  for (unsigned p = 0; p < 4; ++p) {
    if (regs_.seq[2] & (1u << p)) plane_byte(p, addr) = static_cast<uint8_t>(data >> (8 * p));
  }
}

uint32_t Vga::LegacyWindow::mmio_read(uint32_t offset, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size && i < 4; ++i)
    v |= uint32_t{vga_.window_read(offset + i)} << (8 * i);
  return v;
}

void Vga::LegacyWindow::mmio_write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size && i < 4; ++i) {
    vga_.window_write(offset + i, static_cast<uint8_t>(value >> (8 * i)));
  }
}

uint32_t Vga::LinearFramebuffer::mmio_read(uint32_t offset, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    const uint64_t a = uint64_t{offset} + i;
    v |= uint32_t{a < vga_.vram_.size() ? vga_.vram_[a] : uint8_t{0xFF}} << (8 * i);
  }
  return v;
}

void Vga::LinearFramebuffer::mmio_write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size && i < 4; ++i) {
    const uint64_t a = uint64_t{offset} + i;
    if (a < vga_.vram_.size()) vga_.vram_[a] = static_cast<uint8_t>(value >> (8 * i));
  }
}

void Vga::load_font(const uint8_t* glyphs, unsigned height) {
  height = std::min(height, 32u);
  for (unsigned c = 0; c < 256; ++c)
    for (unsigned row = 0; row < 32; ++row)
      plane_byte(2, c * 32 + row) = row < height ? glyphs[c * height + row] : 0;
}

long find_vga_font_8x16(const std::vector<uint8_t>& rom) {
  static constexpr uint8_t kGlyphA[16] = {0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE,
                                          0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00};
  constexpr size_t kFontBytes = 256 * 16;
  for (auto it = rom.begin(); (it = std::search(it, rom.end(), std::begin(kGlyphA), std::end(kGlyphA))) != rom.end();
       ++it) {
    const size_t a = static_cast<size_t>(it - rom.begin());
    if (a < 0x41 * 16) continue;
    const size_t base = a - 0x41 * 16;
    if (base + kFontBytes > rom.size()) break;
    const uint8_t* f = rom.data() + base;
    const bool blank0 = std::all_of(f, f + 16, [](uint8_t b) { return b == 0; });
    const bool full_db = std::all_of(f + 0xDB * 16, f + 0xDC * 16, [](uint8_t b) { return b == 0xFF; });
    if (blank0 && full_db) return static_cast<long>(base);
  }
  return -1;
}

}  // namespace popek
