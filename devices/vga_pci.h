// The PCI identity of the VGA: QEMU's "stdvga" (vendor 1234, device 1111,
// class 03/00/00, VGA-compatible display controller), which SeaVGABIOS's
// vgabios-stdvga.bin recognises.
//   BAR0        the linear framebuffer: 32-bit prefetchable memory of VRAM
//               size; the machine maps Vga::lfb() (or Vga::vram() directly)
//               where on_bar_change reports it.
//   ROM BAR     the VGA BIOS image (expansion ROM, default 64 KiB window;
//               absent when rom_size is 0, for a machine without VGA BIOS);
//               the machine maps the ROM image where on_bar_change reports
//               pci::kRomBar, and SeaBIOS copies it to 0xC0000.
// The legacy VGA ports and the 0xA0000 window are decoded regardless of the
// command register, as on real VGA-compatible PCI cards. There is no
// interrupt pin and no MMIO BAR2 (QEMU's revision-2 "qext" registers).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "devices/pci_bus.h"

namespace popek {

class VgaPci : public PciFunction {
 public:
  static constexpr uint16_t kVendor = 0x1234;
  static constexpr uint16_t kDevice = 0x1111;
  static constexpr uint8_t kClassDisplay = 0x03;
  static constexpr uint8_t kSubclassVga = 0x00;
  static constexpr uint16_t kSubsystemVendor = 0x1AF4;  // as QEMU reports it
  static constexpr uint16_t kSubsystem = 0x1100;
  static constexpr int kFramebufferBar = 0;
  static constexpr uint32_t kDefaultRomSize = 64u << 10;

  static constexpr uint32_t kMaxRomSize = 128u << 10;  // the 0xC0000-0xDFFFF option ROM area

  // `vram_size` is Vga::vram_size() (a power of two is expected; the BAR is
  // rounded up to one). `rom_size` is the expansion ROM window (>= 2 KiB,
  // rounded up to a power of two), or 0 for no expansion ROM BAR.
  explicit VgaPci(uint32_t vram_size, uint32_t rom_size = kDefaultRomSize);
};

// Checks a VGA BIOS image (a PCI option ROM such as SeaVGABIOS's
// vgabios-stdvga.bin) before it goes behind the ROM BAR: the 55 AA
// signature, a length byte (in 512-byte units) that the file covers, at most
// VgaPci::kMaxRomSize, a zero byte sum over that length, and a "PCIR" data
// structure naming a display controller. Returns an empty string if usable,
// else the problem in a few words.
std::string validate_vga_bios(const std::vector<uint8_t>& image);
// The ROM BAR size for `image`: its size rounded up to a power of two, at
// least 4 KiB, so that the BAR is page-aligned (the machine maps it page by
// page).
uint32_t vga_rom_bar_size(const std::vector<uint8_t>& image);

}  // namespace popek
