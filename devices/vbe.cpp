// The Bochs VBE "dispi" interface (ports 0x1CE/0x1CF), after the Bochs
// VBE specification and QEMU's behaviour: the guest picks an interface
// version through the ID register, sets XRES/YRES/BPP, then ENABLE. Every
// value a guest writes is clamped to something the VRAM can hold, so the
// renderer and the banked window never index past VRAM.
#include <algorithm>

#include "devices/vga.h"

namespace popek {

namespace {
bool valid_bpp(uint16_t bpp) {
  return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}
}  // namespace

uint32_t Vga::vbe_bytes_per_pixel() const { return (uint32_t{regs_.vbe[vbe::kIndexBpp]} + 7) / 8; }

uint16_t Vga::vbe_read(uint16_t index) const {
  if (index >= vbe::kRegisterCount) return 0;
  if (regs_.vbe[vbe::kIndexEnable] & vbe::kGetCaps) {
    switch (index) {
      case vbe::kIndexXres:
        return vbe::kMaxXres;
      case vbe::kIndexYres:
        return vbe::kMaxYres;
      case vbe::kIndexBpp:
        return vbe::kMaxBpp;
      default:
        break;
    }
  }
  return regs_.vbe[index];
}

void Vga::vbe_write(uint16_t index, uint16_t value) {
  auto& r = regs_.vbe;
  switch (index) {
    case vbe::kIndexId:
      if (value >= vbe::kId0 && value <= vbe::kId5) {
        r[index] = value;
      } else {
        ignored("vbe: unsupported interface ID");
      }
      return;
    case vbe::kIndexXres:
    case vbe::kIndexYres:
    case vbe::kIndexBpp:
      // Accepted while enabled too (QEMU does); the fixup keeps it in VRAM.
      if (index == vbe::kIndexBpp && !valid_bpp(value)) {
        ignored("vbe: unsupported BPP, using 8");
        value = 8;
      }
      r[index] = value;
      vbe_fixup();
      return;
    case vbe::kIndexEnable: {
      const bool was_enabled = r[index] & vbe::kEnabled;
      r[index] = value & (vbe::kEnabled | vbe::kGetCaps | vbe::kDac8Bit | vbe::kLfbEnabled |
                          vbe::kNoClearMem);
      if ((value & vbe::kEnabled) && !was_enabled) {
        // A fresh mode: the virtual screen is the visible one at offset 0.
        r[vbe::kIndexVirtWidth] = r[vbe::kIndexXres];
        r[vbe::kIndexXOffset] = 0;
        r[vbe::kIndexYOffset] = 0;
        r[vbe::kIndexBank] = 0;
        vbe_fixup();
        if (!(value & vbe::kNoClearMem)) {
          const uint64_t bytes =
              uint64_t{r[vbe::kIndexVirtWidth]} * vbe_bytes_per_pixel() * r[vbe::kIndexVirtHeight];
          std::fill(vram_.begin(), vram_.begin() + std::min<uint64_t>(bytes, vram_.size()), 0);
        }
      }
      return;
    }
    case vbe::kIndexBank:
      if (uint64_t{value} * 0x10000 >= vram_.size()) {
        ignored("vbe: bank beyond VRAM");
        return;
      }
      r[index] = value;
      return;
    case vbe::kIndexVirtWidth:
    case vbe::kIndexXOffset:
    case vbe::kIndexYOffset:
      r[index] = value;
      vbe_fixup();
      return;
    default:  // VIRT_HEIGHT is derived; VIDEO_MEMORY_64K is read-only
      ignored("vbe: write to read-only or undefined register");
      return;
  }
}

// Brings XRES/YRES/BPP/VIRT_*/offsets into a consistent, VRAM-bounded state.
void Vga::vbe_fixup() {
  auto& r = regs_.vbe;
  if (!valid_bpp(r[vbe::kIndexBpp])) r[vbe::kIndexBpp] = 8;
  r[vbe::kIndexXres] =
      static_cast<uint16_t>(std::clamp<unsigned>(r[vbe::kIndexXres] & ~7u, 8, vbe::kMaxXres));
  r[vbe::kIndexYres] =
      static_cast<uint16_t>(std::clamp<unsigned>(r[vbe::kIndexYres], 1, vbe::kMaxYres));
  const uint32_t bpp = vbe_bytes_per_pixel();
  const uint64_t vram = vram_.size();
  // The line must hold the visible width and fit VRAM at least once.
  uint32_t virt_width = std::max<uint32_t>(r[vbe::kIndexVirtWidth], r[vbe::kIndexXres]);
  virt_width = static_cast<uint32_t>(
      std::min<uint64_t>({virt_width, vram / bpp / r[vbe::kIndexYres], 0xFFFF}));
  virt_width = std::max<uint32_t>(virt_width, r[vbe::kIndexXres]);
  uint64_t line_bytes = uint64_t{virt_width} * bpp;
  if (line_bytes * r[vbe::kIndexYres] > vram) {
    // Even the visible mode does not fit: shrink the height.
    r[vbe::kIndexYres] = static_cast<uint16_t>(std::max<uint64_t>(1, vram / line_bytes));
  }
  r[vbe::kIndexVirtWidth] = static_cast<uint16_t>(virt_width);
  const uint64_t virt_height = std::min<uint64_t>(vram / line_bytes, 0xFFFF);
  r[vbe::kIndexVirtHeight] = static_cast<uint16_t>(virt_height);
  // The visible window must lie inside the virtual screen.
  r[vbe::kIndexXOffset] = static_cast<uint16_t>(
      std::min<uint32_t>(r[vbe::kIndexXOffset], virt_width - r[vbe::kIndexXres]));
  r[vbe::kIndexYOffset] = static_cast<uint16_t>(
      std::min<uint64_t>(r[vbe::kIndexYOffset], virt_height - r[vbe::kIndexYres]));
  r[vbe::kIndexVideoMemory64K] = static_cast<uint16_t>(vram >> 16);
}

}  // namespace popek
