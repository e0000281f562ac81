// The PCI identity of the VGA: QEMU's "stdvga" (vendor 1234, device 1111,
// class 03/00/00, VGA-compatible display controller), which SeaVGABIOS's
// vgabios-stdvga.bin recognises.
//   BAR0        the linear framebuffer: 32-bit prefetchable memory of VRAM
//               size; the machine maps Vga::lfb() (or Vga::vram() directly)
//               where on_bar_change reports it.
//   ROM BAR     the VGA BIOS image (expansion ROM, default 64 KiB window);
//               the machine maps the ROM image where on_bar_change reports
//               pci::kRomBar, and SeaBIOS copies it to 0xC0000.
// The legacy VGA ports and the 0xA0000 window are decoded regardless of the
// command register, as on real VGA-compatible PCI cards. There is no
// interrupt pin and no MMIO BAR2 (QEMU's revision-2 "qext" registers).
#pragma once
#include <cstdint>

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

  // `vram_size` is Vga::vram_size() (a power of two is expected; the BAR is
  // rounded up to one). `rom_size` is the expansion ROM window (>= 2 KiB).
  explicit VgaPci(uint32_t vram_size, uint32_t rom_size = kDefaultRomSize);
};

}  // namespace popek
