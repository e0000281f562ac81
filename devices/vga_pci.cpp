#include "devices/vga_pci.h"

namespace popek {

VgaPci::VgaPci(uint32_t vram_size, uint32_t rom_size)
    : PciFunction(kVendor, kDevice, kClassDisplay, kSubclassVga, 0x00) {
  define_bar(kFramebufferBar, BarKind::Memory, vram_size, /*prefetchable=*/true);
  if (rom_size) define_rom_bar(rom_size);
  set_subsystem(kSubsystemVendor, kSubsystem);
}

uint32_t vga_rom_bar_size(const std::vector<uint8_t>& image) {
  uint32_t size = 4096;
  while (size < image.size() && size < (1u << 31)) size <<= 1;
  return size;
}

std::string validate_vga_bios(const std::vector<uint8_t>& image) {
  if (image.empty()) return "file is empty";
  if (image.size() > VgaPci::kMaxRomSize)
    return "too large (" + std::to_string(image.size()) + " bytes; a VGA BIOS is at most 128 KiB)";
  if (image.size() < 512 || image[0] != 0x55 || image[1] != 0xAA)
    return "not an option ROM (no 55 AA signature)";
  const size_t length = size_t{image[2]} * 512;
  if (length == 0) return "option ROM length byte is 0";
  if (length > image.size())
    return "truncated: header says " + std::to_string(length) + " bytes, file has " +
           std::to_string(image.size());
  uint8_t sum = 0;
  for (size_t i = 0; i < length; ++i) sum = static_cast<uint8_t>(sum + image[i]);
  if (sum != 0) return "bad option ROM checksum";
  // Offset 0x18: pointer to the PCI data structure ("PCIR", vendor, device,
  // ..., class code at +0x0D..+0x0F with the base class last).
  const size_t pcir = image[0x18] | (size_t{image[0x19]} << 8);
  if (pcir + 0x10 > length || image[pcir] != 'P' || image[pcir + 1] != 'C' || image[pcir + 2] != 'I' ||
      image[pcir + 3] != 'R')
    return "no PCI data structure (PCIR); not a PCI option ROM";
  if (image[pcir + 0x0F] != VgaPci::kClassDisplay) return "PCI option ROM is not for a display controller";
  return {};
}

}  // namespace popek
