// Machine wiring of the VGA: the PCI function at 00:02.0, its framebuffer
// BAR mapped onto VRAM, the expansion ROM BAR carrying the VGA BIOS, the
// legacy window and ports, render_screen() and its device lock, and
// --vga none.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/machine.h"
#include "devices/vga.h"
#include "devices/vga_pci.h"

namespace popek {
namespace {

// A minimal valid PCI option ROM for a display controller: 55 AA, length
// in 512-byte units, PCIR at 0x20, checksum fixed in the last byte.
std::vector<uint8_t> make_vga_rom(size_t blocks) {
  std::vector<uint8_t> rom(blocks * 512, 0);
  rom[0] = 0x55;
  rom[1] = 0xAA;
  rom[2] = static_cast<uint8_t>(blocks);
  rom[0x18] = 0x20;
  rom[0x20] = 'P';
  rom[0x21] = 'C';
  rom[0x22] = 'I';
  rom[0x23] = 'R';
  rom[0x24] = 0x34;
  rom[0x25] = 0x12;
  rom[0x26] = 0x11;
  rom[0x27] = 0x11;
  rom[0x2F] = 0x03;  // base class: display
  for (size_t i = 0x100; i < rom.size() - 1; ++i) rom[i] = static_cast<uint8_t>(i * 7);
  uint8_t sum = 0;
  for (size_t i = 0; i + 1 < rom.size(); ++i) sum = static_cast<uint8_t>(sum + rom[i]);
  rom.back() = static_cast<uint8_t>(-sum);
  return rom;
}

struct MachineVga : ::testing::Test {
  std::unique_ptr<Machine> m;
  std::vector<uint8_t> rom = make_vga_rom(78);  // 39 KiB, like vgabios-stdvga.bin
  MachineVga() {
    MachineConfig cfg;
    cfg.ram_mb = 4;
    cfg.bios.assign(128 * 1024, 0xF4);  // HLT everywhere
    cfg.vga_bios = rom;
    m = std::make_unique<Machine>(cfg);
  }
  void config_write(int dev, uint8_t reg, unsigned size, uint32_t value) {
    m->io().write(0xCF8, 4, 0x80000000u | dev << 11 | (reg & 0xFC));
    m->io().write(static_cast<uint16_t>(0xCFC + (reg & 3)), size, value);
  }
  uint32_t config_read(int dev, uint8_t reg, unsigned size) {
    m->io().write(0xCF8, 4, 0x80000000u | dev << 11 | (reg & 0xFC));
    return m->io().read(static_cast<uint16_t>(0xCFC + (reg & 3)), size);
  }
};

TEST_F(MachineVga, FramebufferBarMapsVram) {
  ASSERT_TRUE(m->has_vga());
  PhysicalMemory& mem = m->memory();
  config_write(2, pci::kBar0, 4, 0xFD000000);
  EXPECT_EQ(mem.read8(0xFD000000), 0xFF) << "memory decode still off";
  config_write(2, pci::kCommand, 2, pci::kCommandMemory);
  mem.write32(0xFD000010, 0x11223344);
  EXPECT_EQ(m->vga().vram()[0x10], 0x44);
  EXPECT_EQ(m->vga().vram()[0x13], 0x11);
  m->vga().vram()[Vga::kDefaultVramSize - 1] = 0x5C;
  EXPECT_EQ(mem.read8(0xFD000000 + Vga::kDefaultVramSize - 1), 0x5C) << "last byte of VRAM";
  EXPECT_NE(mem.host_ptr_write(0xFD001000), nullptr) << "mapped like RAM, no device call";
  // Moving the BAR unmaps the old place.
  config_write(2, pci::kBar0, 4, 0xE0000000);
  EXPECT_EQ(mem.read8(0xFD000010), 0xFF);
  EXPECT_EQ(mem.read32(0xE0000010), 0x11223344u);
  // Reset turns decode off again.
  m->reset();
  EXPECT_EQ(mem.read8(0xE0000010), 0xFF);
}

TEST_F(MachineVga, RomBarCarriesTheVgaBios) {
  PhysicalMemory& mem = m->memory();
  config_write(2, pci::kRomAddress, 4, 0xFFFFF800);
  EXPECT_EQ(config_read(2, pci::kRomAddress, 4) & 0xFFFFF800u, 0xFFFF0000u) << "39 KiB: 64 KiB BAR";
  config_write(2, pci::kRomAddress, 4, 0xFEB00001);
  config_write(2, pci::kCommand, 2, pci::kCommandMemory);
  EXPECT_EQ(mem.read16(0xFEB00000), 0xAA55u);
  for (size_t i = 0; i < rom.size(); i += 997) EXPECT_EQ(mem.read8(0xFEB00000 + static_cast<uint32_t>(i)), rom[i]) << i;
  EXPECT_EQ(mem.read8(0xFEB00000 + static_cast<uint32_t>(rom.size())), 0) << "padding";
  mem.write8(0xFEB00000, 0x00);
  EXPECT_EQ(mem.read8(0xFEB00000), 0x55) << "read-only";
  config_write(2, pci::kRomAddress, 4, 0xFEB00000);  // enable bit clear
  EXPECT_EQ(mem.read8(0xFEB00000), 0xFF);
}

TEST_F(MachineVga, BarsOverFirmwareRamAndEachOtherAreUndone) {
  PhysicalMemory& mem = m->memory();
  config_write(2, pci::kCommand, 2, pci::kCommandMemory);
  // The ROM BAR over RAM at 1 MiB, then disabled: RAM again.
  mem.write8(0x100000, 0x66);
  config_write(2, pci::kRomAddress, 4, 0x00100001);
  EXPECT_EQ(mem.read8(0x100000), 0x55);
  config_write(2, pci::kRomAddress, 4, 0x00100000);
  EXPECT_EQ(mem.read8(0x100000), 0x66);
  EXPECT_EQ(mem.host_ptr_write(0x100000), mem.ram() + 0x100000);
  // Over the VGA window (0xB0000-0xBFFFF), then moved away: the window again.
  m->vga().set_text_mode_registers();
  config_write(2, pci::kRomAddress, 4, 0x000B0001);
  EXPECT_EQ(mem.read8(0xB0000), 0x55);
  config_write(2, pci::kRomAddress, 4, 0x00200001);
  mem.write16(0xB8000, 0x0748);
  EXPECT_EQ(m->vga().vram()[0], 0x48) << "0xB8000 decodes to the VGA again";
  EXPECT_EQ(mem.ram()[0xB8000], 0);
  config_write(2, pci::kRomAddress, 4, 0x00000000);
  // The ROM BAR over the high firmware copy, then disabled: the firmware again.
  config_write(2, pci::kRomAddress, 4, 0xFFFE0001);
  EXPECT_EQ(mem.read16(0xFFFE0000), 0xAA55u);
  config_write(2, pci::kRomAddress, 4, 0xFFFE0000);
  EXPECT_EQ(mem.read8(0xFFFE0000), 0xF4) << "the BIOS image below 4 GiB";
  EXPECT_EQ(mem.read8(0xFFFFFFF0), 0xF4);
  // The ROM BAR inside the framebuffer: the ROM wins; disabling it shows VRAM.
  config_write(2, pci::kBar0, 4, 0xE0000000);
  m->vga().vram()[0x10000] = 0x99;
  config_write(2, pci::kRomAddress, 4, 0xE0010001);
  EXPECT_EQ(mem.read8(0xE0010000), 0x55);
  config_write(2, pci::kRomAddress, 4, 0xE0010000);
  EXPECT_EQ(mem.read8(0xE0010000), 0x99);
  EXPECT_EQ(mem.host_ptr_write(0xE0010000), m->vga().vram() + 0x10000);
}

TEST_F(MachineVga, NoVgaBiosMeansNoRomBar) {
  MachineConfig cfg;
  cfg.ram_mb = 4;
  cfg.bios.assign(128 * 1024, 0xF4);
  Machine bare(cfg);
  bare.io().write(0xCF8, 4, 0x80000000u | 2 << 11 | pci::kRomAddress);
  bare.io().write(0xCFC, 4, 0xFFFFF800);
  EXPECT_EQ(bare.io().read(0xCFC, 4), 0u);
}

TEST_F(MachineVga, LegacyWindowAndPorts) {
  PhysicalMemory& mem = m->memory();
  m->vga().set_text_mode_registers();
  // Mode 3 (odd/even at 0xB8000): character in plane 0, attribute in plane 1.
  mem.write16(0xB8000, 0x1F41);
  EXPECT_EQ(m->vga().vram()[0], 0x41);
  EXPECT_EQ(m->vga().vram()[1], 0x1F);
  EXPECT_EQ(mem.ram()[0xB8000], 0) << "not RAM";
  EXPECT_EQ(mem.read16(0xB8000), 0x1F41u);
  m->io().write(0x3D4, 1, 0x0E);
  m->io().write(0x3D5, 1, 0x12);
  EXPECT_EQ(m->vga().registers().crtc[0x0E], 0x12);
  m->io().write(vbe::kIndexPort, 2, vbe::kIndexId);
  EXPECT_EQ(m->io().read(vbe::kDataPort, 2), vbe::kId0);
  EXPECT_EQ(m->screen_text().substr(0, 2), "A\n");
}

TEST(MachineVgaThreads, RenderScreenWhileRunning) {
  MachineConfig cfg;
  cfg.ram_mb = 4;
  cfg.bios.assign(64 * 1024, 0xF4);
  cfg.bios[cfg.bios.size() - 16] = 0xEB;  // F000:FFF0: jmp $
  cfg.bios[cfg.bios.size() - 15] = 0xFE;
  auto m = std::make_unique<Machine>(cfg);
  m->vga().set_text_mode_registers();
  std::atomic<bool> done{false};
  std::thread cpu([&] {
    RunLimits limits;
    limits.timeout_seconds = 0.3;
    const RunOutcome out = m->run(limits);
    EXPECT_EQ(out.reason, StopReason::Timeout);
    done = true;
  });
  Framebuffer fb;
  int frames = 0;
  while (!done || frames == 0) {
    ASSERT_TRUE(m->render_screen(fb));
    EXPECT_EQ(fb.width, 720);
    EXPECT_EQ(fb.height, 400);
    EXPECT_EQ(fb.pixels.size(), 720u * 400u);
    ++frames;
  }
  cpu.join();
  EXPECT_GE(frames, 5) << "the device lock is handed over between slices";
}

TEST(MachineVgaNone, NoDisplayAdapter) {
  MachineConfig cfg;
  cfg.ram_mb = 4;
  cfg.bios.assign(128 * 1024, 0xF4);
  cfg.vga = false;
  Machine m(cfg);
  EXPECT_FALSE(m.has_vga());
  m.memory().write8(0xB8000, 0x41);
  EXPECT_EQ(m.memory().read8(0xB8000), 0x41) << "plain RAM, as before the VGA";
  EXPECT_EQ(m.io().read(0x3CC, 1), 0xFFu);
  m.io().write(0xCF8, 4, 0x80000000u | 2 << 11);
  EXPECT_EQ(m.io().read(0xCFC, 2), 0xFFFFu);
  Framebuffer fb;
  EXPECT_FALSE(m.render_screen(fb));
  EXPECT_EQ(fb.width, 0);
  EXPECT_EQ(m.screen_text(), "");
}

TEST(VgaBiosValidation, AcceptsGoodRomsAndNamesTheProblem) {
  std::vector<uint8_t> rom = make_vga_rom(4);
  EXPECT_EQ(validate_vga_bios(rom), "");
  EXPECT_EQ(vga_rom_bar_size(rom), 4096u);
  EXPECT_EQ(vga_rom_bar_size(make_vga_rom(78)), 65536u);
  EXPECT_NE(validate_vga_bios({}).find("empty"), std::string::npos);
  auto bad = rom;
  bad[0] = 0;
  EXPECT_NE(validate_vga_bios(bad).find("55 AA"), std::string::npos);
  bad = rom;
  bad[2] = 8;  // claims 4 KiB
  EXPECT_NE(validate_vga_bios(bad).find("truncated"), std::string::npos);
  bad = rom;
  bad[0x200] ^= 1;
  EXPECT_NE(validate_vga_bios(bad).find("checksum"), std::string::npos);
  bad = rom;
  bad[0x20] = 'X';
  bad.back() = static_cast<uint8_t>(bad.back() + 'P' - 'X');
  EXPECT_NE(validate_vga_bios(bad).find("PCIR"), std::string::npos);
  bad = rom;
  bad[0x2F] = 0x01;
  bad.back() = static_cast<uint8_t>(bad.back() + 2);
  EXPECT_NE(validate_vga_bios(bad).find("display"), std::string::npos);
  EXPECT_NE(validate_vga_bios(std::vector<uint8_t>(200 * 1024, 0)).find("too large"), std::string::npos);
}

}  // namespace
}  // namespace popek
