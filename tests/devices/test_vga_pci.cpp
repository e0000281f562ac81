// The stdvga PCI identity: IDs, class, the prefetchable framebuffer BAR and
// the expansion ROM BAR, as SeaBIOS enumerates them.
#include <gtest/gtest.h>

#include <optional>

#include "devices/pci_bus.h"
#include "devices/vga.h"
#include "devices/vga_pci.h"

namespace popek {
namespace {

TEST(VgaPci, IdentityAndBars) {
  VgaPci fn(Vga::kDefaultVramSize);
  PciBus bus;
  ASSERT_TRUE(bus.add(2, 0, &fn));
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kVendorId, 4), 0x11111234u);
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kRevision, 4), 0x03000000u);  // class 03/00/00, rev 0
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kSubsystemVendorId, 4), 0x11001AF4u);
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kInterruptPin, 1), 0u);
  // BAR0 sizing: 16 MiB, 32-bit prefetchable memory.
  bus.config_write(0, 2, 0, pci::kBar0, 4, 0xFFFFFFFF);
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kBar0, 4), 0xFF000008u);
  // ROM BAR sizing: 64 KiB.
  bus.config_write(0, 2, 0, pci::kRomAddress, 4, 0xFFFFF800);
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kRomAddress, 4) & 0xFFFFF800u, 0xFFFF0000u);
  // Programming and enabling reports the framebuffer mapping.
  std::optional<uint32_t> lfb;
  fn.on_bar_change([&](int bar, PciFunction::BarMapping, PciFunction::BarMapping now) {
    if (bar == VgaPci::kFramebufferBar) lfb = now;
  });
  bus.config_write(0, 2, 0, pci::kBar0, 4, 0xFD000000);
  bus.config_write(0, 2, 0, pci::kCommand, 2, pci::kCommandMemory);
  ASSERT_TRUE(lfb.has_value());
  EXPECT_EQ(*lfb, 0xFD000000u);
  EXPECT_EQ(fn.bar_size(VgaPci::kFramebufferBar), Vga::kDefaultVramSize);
}

TEST(VgaPci, NoRomBarWithoutVgaBios) {
  VgaPci fn(Vga::kDefaultVramSize, 0);
  PciBus bus;
  ASSERT_TRUE(bus.add(2, 0, &fn));
  bus.config_write(0, 2, 0, pci::kRomAddress, 4, 0xFFFFF800);
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kRomAddress, 4), 0u) << "not implemented: reads 0";
  EXPECT_EQ(fn.bar_kind(pci::kRomBar), PciFunction::BarKind::None);
  // The framebuffer BAR is unaffected.
  bus.config_write(0, 2, 0, pci::kBar0, 4, 0xFFFFFFFF);
  EXPECT_EQ(bus.config_read(0, 2, 0, pci::kBar0, 4), 0xFF000008u);
}

TEST(VgaPci, RomBarSizeForAnImage) {
  EXPECT_EQ(vga_rom_bar_size(std::vector<uint8_t>(512)), 4096u) << "page-aligned";
  EXPECT_EQ(vga_rom_bar_size(std::vector<uint8_t>(4096)), 4096u);
  EXPECT_EQ(vga_rom_bar_size(std::vector<uint8_t>(4097)), 8192u);
  EXPECT_EQ(vga_rom_bar_size(std::vector<uint8_t>(39936)), 65536u);
  EXPECT_EQ(vga_rom_bar_size(std::vector<uint8_t>(128 * 1024)), 128u * 1024);
}

}  // namespace
}  // namespace popek
