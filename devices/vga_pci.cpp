#include "devices/vga_pci.h"

namespace popek {

VgaPci::VgaPci(uint32_t vram_size, uint32_t rom_size)
    : PciFunction(kVendor, kDevice, kClassDisplay, kSubclassVga, 0x00) {
  define_bar(kFramebufferBar, BarKind::Memory, vram_size, /*prefetchable=*/true);
  define_rom_bar(rom_size);
  set_subsystem(kSubsystemVendor, kSubsystem);
}

}  // namespace popek
