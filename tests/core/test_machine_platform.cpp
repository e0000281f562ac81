// Machine wiring of the PC platform: PAM shadowing of the firmware through
// the i440FX, fw_cfg, the PCI functions SeaBIOS looks for, the IDE disks and
// the 0x402 debug port readback.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/disk_image.h"

namespace popek {
namespace {

struct MachinePlatform : ::testing::Test {
  std::unique_ptr<Machine> m;
  MachinePlatform() {
    MachineConfig cfg;
    cfg.ram_mb = 4;
    cfg.bios.assign(128 * 1024, 0x5A);  // an image of 0x5A bytes
    cfg.bios.back() = 0xC3;              // last byte, at 0xFFFFF and 0xFFFFFFFF
    m = std::make_unique<Machine>(cfg);
  }
  uint32_t config_read(int dev, int fn, uint8_t reg, unsigned size) {
    m->io().write(0xCF8, 4, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
    return m->io().read(static_cast<uint16_t>(0xCFC + (reg & 3)), size);
  }
  void config_write8(int dev, int fn, uint8_t reg, uint8_t value) {
    m->io().write(0xCF8, 4, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
    m->io().write(static_cast<uint16_t>(0xCFC + (reg & 3)), 1, value);
  }
};

TEST_F(MachinePlatform, FirmwareVisibleAtResetAndReadOnly) {
  PhysicalMemory& mem = m->memory();
  EXPECT_EQ(mem.read8(0xE0000), 0x5A);
  EXPECT_EQ(mem.read8(0xFFFFF), 0xC3);
  EXPECT_EQ(mem.read8(0xFFFFFFFFu), 0xC3);
  mem.write8(0xF0000, 0x11);
  EXPECT_EQ(mem.read8(0xF0000), 0x5A);
  EXPECT_EQ(mem.ram()[0xF0000], 0) << "PAM write-enable clear: the write is dropped";
}

TEST_F(MachinePlatform, PamShadowsTheBios) {
  PhysicalMemory& mem = m->memory();
  config_write8(0, 0, 0x59, 0x20);  // PAM0: 0xF0000 segment write-enable only
  mem.write8(0xF0000, 0x11);
  EXPECT_EQ(mem.read8(0xF0000), 0x5A) << "reads still come from the ROM";
  EXPECT_EQ(mem.ram()[0xF0000], 0x11);
  config_write8(0, 0, 0x59, 0x10);  // read RAM, writes dropped
  EXPECT_EQ(mem.read8(0xF0000), 0x11);
  mem.write8(0xF0000, 0x22);
  EXPECT_EQ(mem.read8(0xF0000), 0x11);
  config_write8(0, 0, 0x5E, 0x33);  // PAM5: 0xE0000 and 0xE4000 read/write RAM
  EXPECT_EQ(mem.read8(0xE0000), 0) << "RAM under the ROM is still empty";
  mem.write8(0xE4000, 0x44);
  EXPECT_EQ(mem.read8(0xE4000), 0x44);
  EXPECT_EQ(mem.read8(0xE8000), 0x5A) << "PAM6 untouched: ROM";
  EXPECT_EQ(mem.read8(0xFFFFFFFFu), 0xC3) << "the high copy never changes";
  m->reset();
  EXPECT_EQ(mem.read8(0xF0000), 0x5A) << "reset: PAM cleared, ROM visible again";
  EXPECT_EQ(mem.read8(0xE4000), 0x5A);
  EXPECT_EQ(mem.ram()[0xE4000], 0x44) << "the shadow RAM keeps its contents";
}

TEST_F(MachinePlatform, PagesBeyondTheImageAreRam) {
  MachineConfig cfg;
  cfg.ram_mb = 2;
  cfg.bios.assign(64 * 1024, 0x5A);  // covers 0xF0000-0xFFFFF only
  Machine small(cfg);
  small.memory().write8(0xE0000, 0x77);
  EXPECT_EQ(small.memory().read8(0xE0000), 0x77);
  EXPECT_EQ(small.memory().read8(0xF0000), 0x5A);
}

TEST_F(MachinePlatform, PciFunctionsSeabiosExpects) {
  EXPECT_EQ(config_read(0, 0, 0x00, 4), 0x12378086u);
  EXPECT_EQ(config_read(0, 0, 0x2C, 4), 0x11001AF4u) << "QEMU subsystem ID: SeaBIOS's qemu_detect";
  EXPECT_EQ(config_read(1, 0, 0x00, 4), 0x70008086u);
  EXPECT_EQ(config_read(1, 1, 0x00, 4), 0x70108086u);
  EXPECT_EQ(config_read(2, 0, 0x00, 4), 0x11111234u) << "stdvga";
  EXPECT_EQ(config_read(3, 0, 0x00, 2), 0xFFFFu);
}

TEST_F(MachinePlatform, FwCfgAndDebugPort) {
  IoBus& io = m->io();
  io.write(0x510, 2, 0x0000);
  std::string sig;
  for (int i = 0; i < 4; ++i) sig += static_cast<char>(io.read(0x511, 1));
  EXPECT_EQ(sig, "QEMU");
  io.write(0x510, 2, 0x0003);
  uint64_t ram = 0;
  for (int i = 0; i < 8; ++i) ram |= uint64_t(io.read(0x511, 1)) << (8 * i);
  EXPECT_EQ(ram, 4u * 1024 * 1024);
  io.write(0x510, 2, 0x0005);
  EXPECT_EQ(io.read(0x511, 1), 1u);
  EXPECT_EQ(io.read(0x402, 1), 0xE9u);
}

TEST_F(MachinePlatform, HardDiskOnThePrimaryChannel) {
  IoBus& io = m->io();
  EXPECT_EQ(io.read(0x1F7, 1), 0u) << "no device: status reads 0";
  m->attach_hard_disk(0, DiskImage::blank(2048));
  io.write(0x1F6, 1, 0xA0);
  EXPECT_EQ(io.read(0x1F7, 1) & 0xC0, 0x40u) << "DRDY, not BSY";
  m->attach_hard_disk(5, DiskImage::blank(1));  // out of range: ignored
}

}  // namespace
}  // namespace popek
