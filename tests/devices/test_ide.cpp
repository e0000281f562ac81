// Unit tests for the PIIX3 IDE controller and the ATA disk model, driven
// through the legacy ports on an IoBus with temporary raw image files:
// IDENTIFY, LBA/CHS PIO reads and writes, multiple mode, errors, resets,
// the 32-bit data port, INTRQ and nIEN.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/io_bus.h"
#include "devices/ata_disk.h"
#include "devices/disk_image.h"
#include "devices/ide.h"
#include "tests/devices/temp_image.h"

namespace popek {
namespace {

constexpr uint32_t kSectors = 2048;  // 1 MiB: default geometry 2 x 16 x 63

using TempImage = test::TempFile;
std::vector<uint8_t> patterned(uint32_t sectors) { return test::patterned_sectors(sectors); }

class IdeTest : public ::testing::Test {
 protected:
  IdeTest() : original(patterned(kSectors)), file(original) {
    ide.attach(bus);
    ide.irq14().connect([this](bool level) {
      irq14 = level;
      if (level) ++irq14_rises;
    });
    ide.irq15().connect([this](bool level) { irq15 = level; });
  }

  AtaDisk& attach_disk(DiskImage::Mode mode, int channel = 0, int index = 0) {
    DiskImage::OpenResult r = DiskImage::open(file.path(), mode);
    EXPECT_NE(r.image, nullptr) << r.error;
    auto disk = std::make_unique<AtaDisk>(std::move(r.image));
    AtaDisk& ref = *disk;
    ide.channel(channel).set_device(index, std::move(disk));
    return ref;
  }

  uint8_t inb(uint16_t port) { return static_cast<uint8_t>(bus.read(port, 1)); }
  uint16_t inw(uint16_t port) { return static_cast<uint16_t>(bus.read(port, 2)); }
  void outb(uint16_t port, uint8_t v) { bus.write(port, 1, v); }

  // Loads an LBA28 address and count, then writes the command.
  void lba_command(uint8_t command, uint32_t lba, uint8_t count, uint8_t dev = 0) {
    outb(0x1F6, static_cast<uint8_t>(0xE0 | dev << 4 | (lba >> 24 & 0x0F)));
    outb(0x1F2, count);
    outb(0x1F3, static_cast<uint8_t>(lba));
    outb(0x1F4, static_cast<uint8_t>(lba >> 8));
    outb(0x1F5, static_cast<uint8_t>(lba >> 16));
    outb(0x1F7, command);
  }
  void chs_command(uint8_t command, unsigned cylinder, unsigned head, unsigned sector, uint8_t count) {
    outb(0x1F6, static_cast<uint8_t>(0xA0 | head));
    outb(0x1F2, count);
    outb(0x1F3, static_cast<uint8_t>(sector));
    outb(0x1F4, static_cast<uint8_t>(cylinder));
    outb(0x1F5, static_cast<uint8_t>(cylinder >> 8));
    outb(0x1F7, command);
  }
  std::vector<uint8_t> read_block_words(unsigned bytes) {
    std::vector<uint8_t> out;
    for (unsigned i = 0; i < bytes; i += 2) {
      uint16_t w = inw(0x1F0);
      out.push_back(static_cast<uint8_t>(w));
      out.push_back(static_cast<uint8_t>(w >> 8));
    }
    return out;
  }
  std::vector<uint8_t> sector_of(const std::vector<uint8_t>& image, uint32_t lba, uint32_t count = 1) {
    return std::vector<uint8_t>(image.begin() + lba * 512, image.begin() + (lba + count) * 512);
  }

  std::vector<uint8_t> original;
  TempImage file;
  IoBus bus;
  PiixIde ide;
  bool irq14 = false;
  bool irq15 = false;
  int irq14_rises = 0;
};

TEST_F(IdeTest, PciIdentity) {
  EXPECT_EQ(ide.config_read(0x00, 4), 0x70108086u);
  EXPECT_EQ(ide.config_read(0x08, 4) >> 8, 0x010180u);
  ide.config_write(0x40, 2, 0x8000);  // IDETIM decode enable, as SeaBIOS writes it
  EXPECT_EQ(ide.config_read(0x40, 2), 0x8000u);
}

TEST_F(IdeTest, IdentifyDeviceContents) {
  AtaDisk& disk = attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x1F6, 0xA0);
  outb(0x1F7, 0xEC);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x58);  // DRDY DSC DRQ
  EXPECT_FALSE(irq14);
  std::vector<uint16_t> id(256);
  for (auto& w : id) w = inw(0x1F0);
  EXPECT_EQ(inb(0x1F7), 0x50);  // transfer over: no DRQ
  EXPECT_EQ(id[0], 0x0040);
  EXPECT_EQ(id[1], 2);   // cylinders
  EXPECT_EQ(id[3], 16);  // heads
  EXPECT_EQ(id[6], 63);  // sectors per track
  EXPECT_EQ(disk.default_cylinders(), 2u);
  // Strings: first character in the high byte, space padded.
  EXPECT_EQ(id[10], ('P' << 8) | 'O');
  EXPECT_EQ(id[14], ('0' << 8) | '1');
  EXPECT_EQ(id[15], 0x2020);
  EXPECT_EQ(id[23], ('1' << 8) | '.');
  EXPECT_EQ(id[27], ('P' << 8) | 'O');
  EXPECT_EQ(id[28], ('P' << 8) | 'E');
  EXPECT_EQ(id[29], ('K' << 8) | ' ');
  EXPECT_EQ(id[46], 0x2020);
  EXPECT_EQ(id[47], 0x8010);             // multiple: up to 16
  EXPECT_TRUE(id[49] & (1u << 9));       // LBA
  EXPECT_FALSE(id[49] & (1u << 8));      // no DMA
  EXPECT_EQ(id[53] & 3, 3);
  EXPECT_EQ(id[54], 2);
  EXPECT_EQ(id[55], 16);
  EXPECT_EQ(id[56], 63);
  EXPECT_EQ(id[57] | id[58] << 16, 2 * 16 * 63);
  EXPECT_EQ(id[59], 0x0100);             // multiple mode off
  EXPECT_EQ(id[60] | id[61] << 16, static_cast<int>(kSectors));
  EXPECT_EQ(id[64], 0x0003);             // PIO 3 and 4
  uint8_t sum = 0;
  for (uint16_t w : id) sum = static_cast<uint8_t>(sum + (w & 0xFF) + (w >> 8));
  EXPECT_EQ(id[255] & 0xFF, 0xA5);
  EXPECT_EQ(sum, 0);
  // Further data reads return all ones and change nothing.
  EXPECT_EQ(inw(0x1F0), 0xFFFF);
  EXPECT_EQ(inb(0x1F7), 0x50);
}

TEST_F(IdeTest, IdentifyThroughThe32BitDataPort) {
  AtaDisk& disk = attach_disk(DiskImage::Mode::ReadOnly);
  const std::array<uint16_t, 256> expected = disk.identify_data();
  outb(0x1F6, 0xA0);
  outb(0x1F7, 0xEC);
  for (unsigned i = 0; i < 256; i += 2) {
    uint32_t d = bus.read(0x1F0, 4);
    ASSERT_EQ(d & 0xFFFF, expected[i]) << i;
    ASSERT_EQ(d >> 16, expected[i + 1]) << i;
  }
  EXPECT_EQ(inb(0x1F7), 0x50);
}

TEST_F(IdeTest, LbaReadOfKnownContent) {
  attach_disk(DiskImage::Mode::ReadOnly);
  lba_command(0x20, 1000, 2);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x58);
  EXPECT_EQ(read_block_words(512), sector_of(original, 1000));
  // The second sector is announced with a new interrupt.
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x58);
  EXPECT_EQ(read_block_words(512), sector_of(original, 1001));
  EXPECT_FALSE(irq14);  // no interrupt after the last PIO-in block
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(irq14_rises, 2);
  // The command block holds the last sector read.
  EXPECT_EQ(inb(0x1F3), 1001 & 0xFF);
  EXPECT_EQ(inb(0x1F4), 1001 >> 8);
  EXPECT_EQ(inb(0x1F2), 0);
}

TEST_F(IdeTest, ChsReadOfKnownContent) {
  attach_disk(DiskImage::Mode::ReadOnly);
  chs_command(0x21, 1, 2, 3, 1);  // (1 * 16 + 2) * 63 + 2 = 1136
  EXPECT_EQ(inb(0x1F7), 0x58);
  EXPECT_EQ(read_block_words(512), sector_of(original, 1136));
  EXPECT_EQ(inb(0x1F7), 0x50);
  // Sector 0 and sector 64 are outside the translation: IDNF.
  chs_command(0x20, 0, 0, 0, 1);
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
  chs_command(0x20, 0, 0, 64, 1);
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
  chs_command(0x20, 2, 0, 1, 1);  // cylinder 2 of 2
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
}

TEST_F(IdeTest, InitializeDeviceParametersChangesTranslation) {
  AtaDisk& disk = attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x1F6, 0xA0 | 3);  // 4 heads
  outb(0x1F2, 32);        // 32 sectors per track
  outb(0x1F7, 0x91);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(disk.current_heads(), 4u);
  EXPECT_EQ(disk.current_sectors(), 32u);
  EXPECT_EQ(disk.current_cylinders(), kSectors / 128);
  chs_command(0x20, 1, 1, 1, 1);  // (1 * 4 + 1) * 32 = 160
  EXPECT_EQ(read_block_words(512), sector_of(original, 160));
  // Zero sectors per track is invalid.
  outb(0x1F2, 0);
  outb(0x1F7, 0x91);
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorAbrt);
}

TEST_F(IdeTest, MultipleModeWriteReadRoundTripWritesThrough) {
  attach_disk(DiskImage::Mode::ReadWrite);
  // READ MULTIPLE before SET MULTIPLE MODE aborts.
  lba_command(0xC4, 0, 1);
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorAbrt);
  // Invalid block sizes abort; 4 is accepted.
  outb(0x1F2, 3);
  outb(0x1F7, 0xC6);
  EXPECT_EQ(inb(0x1F7), 0x51);
  outb(0x1F2, 32);
  outb(0x1F7, 0xC6);
  EXPECT_EQ(inb(0x1F7), 0x51);
  outb(0x1F2, 4);
  outb(0x1F7, 0xC6);
  EXPECT_EQ(inb(0x1F7), 0x50);

  std::vector<uint8_t> data(6 * 512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13 + 5);
  irq14_rises = 0;
  lba_command(0xC5, 100, 6);
  EXPECT_FALSE(irq14);  // the first DRQ block comes without an interrupt
  EXPECT_EQ(inb(0x3F6), 0x58);
  size_t pos = 0;
  for (unsigned i = 0; i < 4 * 512 / 4; ++i, pos += 4)  // first block: 4 sectors, 32-bit port
    bus.write(0x1F0, 4, data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16 | uint32_t{data[pos + 3]} << 24);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x58);  // second block: 2 sectors
  for (unsigned i = 0; i < 2 * 512 / 2; ++i, pos += 2) bus.write(0x1F0, 2, data[pos] | data[pos + 1] << 8);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(irq14_rises, 2);

  std::vector<uint8_t> on_disk = file.contents();
  EXPECT_EQ(sector_of(on_disk, 100, 6), data);
  EXPECT_EQ(sector_of(on_disk, 99), sector_of(original, 99));
  EXPECT_EQ(sector_of(on_disk, 106), sector_of(original, 106));

  // Read back with READ MULTIPLE: blocks of 4 then 2.
  lba_command(0xC4, 100, 6);
  EXPECT_EQ(inb(0x1F7), 0x58);
  std::vector<uint8_t> back = read_block_words(4 * 512);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x58);
  std::vector<uint8_t> rest = read_block_words(2 * 512);
  back.insert(back.end(), rest.begin(), rest.end());
  EXPECT_EQ(back, data);
  EXPECT_EQ(inb(0x1F7), 0x50);
}

TEST_F(IdeTest, SnapshotModeLeavesTheFileAlone) {
  attach_disk(DiskImage::Mode::Snapshot);
  lba_command(0x30, 7, 1);
  EXPECT_EQ(inb(0x1F7), 0x58);
  for (unsigned i = 0; i < 256; ++i) bus.write(0x1F0, 2, 0xBEEF);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x50);
  lba_command(0x20, 7, 1);
  std::vector<uint8_t> back = read_block_words(512);
  EXPECT_EQ(back[0], 0xEF);
  EXPECT_EQ(back[511], 0xBE);
  EXPECT_EQ(file.contents(), original);
}

TEST_F(IdeTest, ReadOnlyImageAbortsWrites) {
  attach_disk(DiskImage::Mode::ReadOnly);
  lba_command(0x30, 7, 1);
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorAbrt);
  bus.write(0x1F0, 2, 0x1234);  // no transfer open: ignored
  EXPECT_EQ(file.contents(), original);
}

TEST_F(IdeTest, IdnfBeyondTheEnd) {
  attach_disk(DiskImage::Mode::ReadWrite);
  lba_command(0x20, kSectors, 1);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x51);  // ERR, no DRQ
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
  EXPECT_EQ(inw(0x1F0), 0xFFFF);
  // Straddling the end: the last sector transfers, then IDNF at kSectors.
  lba_command(0x20, kSectors - 1, 2);
  EXPECT_EQ(inb(0x1F7), 0x58);
  EXPECT_EQ(read_block_words(512), sector_of(original, kSectors - 1));
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
  EXPECT_EQ(inb(0x1F3) | inb(0x1F4) << 8, static_cast<int>(kSectors & 0xFFFF));
  // Writes too; the largest LBA28 address as well.
  lba_command(0x30, kSectors, 1);
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
  lba_command(0x30, 0x0FFFFFFF, 0);
  EXPECT_EQ(inb(0x1F7), 0x51);
  for (unsigned i = 0; i < 300; ++i) bus.write(0x1F0, 2, 0xDEAD);
  lba_command(0x40, kSectors - 2, 3);  // READ VERIFY past the end
  EXPECT_EQ(inb(0x1F1), ata::kErrorIdnf);
  lba_command(0x40, kSectors - 3, 3);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(file.contents(), original);
}

TEST_F(IdeTest, SoftResetLoadsTheSignature) {
  attach_disk(DiskImage::Mode::ReadOnly);
  lba_command(0x20, 5, 4);  // leave a transfer half done
  read_block_words(100);
  outb(0x1F2, 0x55);
  outb(0x3F6, ata::kControlSrst);
  EXPECT_EQ(inb(0x3F6), 0x80);  // BSY while SRST is held
  EXPECT_EQ(inb(0x1F7), 0x80);
  outb(0x3F6, 0x00);
  EXPECT_EQ(inb(0x1F2), 0x01);
  EXPECT_EQ(inb(0x1F3), 0x01);
  EXPECT_EQ(inb(0x1F4), 0x00);
  EXPECT_EQ(inb(0x1F5), 0x00);
  EXPECT_EQ(inb(0x1F6), 0x00);
  EXPECT_EQ(inb(0x1F1), 0x01);  // diagnostic code: passed
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_FALSE(irq14);
  EXPECT_EQ(inw(0x1F0), 0xFFFF);  // the old transfer is gone
}

TEST_F(IdeTest, ExecuteDiagnosticReportsOnDevice0) {
  attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x1F6, 0xB0);  // DEV=1 (absent) does not matter for diagnostics
  outb(0x1F7, 0x90);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F6), 0x00);
  EXPECT_EQ(inb(0x1F1), 0x01);
  EXPECT_EQ(inb(0x1F2), 0x01);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_FALSE(irq14);
}

TEST_F(IdeTest, InterruptClearedByStatusNotAlternateStatus) {
  attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x1F6, 0xA0);
  outb(0x1F7, 0x10);  // RECALIBRATE
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x3F6), 0x50);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_FALSE(irq14);
  EXPECT_FALSE(irq15);
}

TEST_F(IdeTest, NienMasksTheInterruptLine) {
  attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x3F6, ata::kControlNien);
  outb(0x1F6, 0xA0);
  outb(0x1F7, 0xE7);  // FLUSH CACHE
  EXPECT_FALSE(irq14);
  EXPECT_EQ(irq14_rises, 0);
  // The interrupt is still pending: clearing nIEN shows it.
  outb(0x3F6, 0x00);
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_FALSE(irq14);
}

TEST_F(IdeTest, UnsupportedCommandsAbort) {
  attach_disk(DiskImage::Mode::ReadOnly);
  std::vector<std::string> log;
  ide.primary().device(0)->set_log([&](std::string_view m) { log.emplace_back(m); });
  outb(0x1F6, 0xA0);
  outb(0x1F7, 0xA1);  // IDENTIFY PACKET DEVICE: not an ATAPI device
  EXPECT_TRUE(irq14);
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(inb(0x1F1), ata::kErrorAbrt);
  outb(0x1F7, 0x25);  // READ DMA EXT
  EXPECT_EQ(inb(0x1F7), 0x51);
  EXPECT_EQ(log.size(), 2u);
  outb(0x1F1, 0x03);  // SET FEATURES: set transfer mode
  outb(0x1F2, 0x0C);
  outb(0x1F7, 0xEF);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(inb(0x1F1), 0x00);
}

TEST_F(IdeTest, AbsentDevicesReadZeroAndIgnoreCommands) {
  attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x1F6, 0xB0);  // select the absent slave
  outb(0x1F2, 0x55);
  EXPECT_EQ(inb(0x1F2), 0x00);
  EXPECT_EQ(inb(0x1F7), 0x00);
  EXPECT_EQ(inb(0x1F6), 0xB0);
  outb(0x1F7, 0xEC);
  EXPECT_FALSE(irq14);
  EXPECT_EQ(inw(0x1F0), 0xFFFF);
  // The master still answers.
  outb(0x1F6, 0xA0);
  EXPECT_EQ(inb(0x1F2), 0x55);
  EXPECT_EQ(inb(0x1F7), 0x50);
  // An empty secondary channel.
  EXPECT_EQ(inb(0x177), 0x00);
  bus.write(0x177, 1, 0xEC);
  EXPECT_FALSE(irq15);
}

TEST_F(IdeTest, SecondaryChannelUsesIrq15) {
  attach_disk(DiskImage::Mode::ReadOnly, /*channel=*/1, /*index=*/1);
  outb(0x176, 0xF0);  // LBA, slave
  outb(0x172, 1);
  outb(0x173, 42);
  outb(0x174, 0);
  outb(0x175, 0);
  outb(0x177, 0x20);
  EXPECT_TRUE(irq15);
  EXPECT_FALSE(irq14);
  EXPECT_EQ(inb(0x177), 0x58);
  EXPECT_FALSE(irq15);
  std::vector<uint8_t> back;
  for (unsigned i = 0; i < 256; ++i) {
    uint16_t w = static_cast<uint16_t>(bus.read(0x170, 2));
    back.push_back(static_cast<uint8_t>(w));
    back.push_back(static_cast<uint8_t>(w >> 8));
  }
  EXPECT_EQ(back, sector_of(original, 42));
}

TEST_F(IdeTest, PciResetResetsTheChannels) {
  AtaDisk& disk = attach_disk(DiskImage::Mode::ReadOnly);
  outb(0x1F2, 8);
  outb(0x1F7, 0xC6);
  EXPECT_EQ(disk.multiple_sectors(), 8u);
  lba_command(0x20, 0, 1);
  EXPECT_TRUE(irq14);
  ide.reset();
  EXPECT_FALSE(irq14);
  EXPECT_EQ(disk.multiple_sectors(), 0u);
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(inb(0x1F2), 0x01);
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

TEST_F(IdeTest, SectorCountZeroMeans256) {
  attach_disk(DiskImage::Mode::ReadOnly);
  lba_command(0x20, 10, 0);
  for (uint32_t s = 0; s < 256; ++s) {
    ASSERT_EQ(inb(0x1F7), 0x58) << s;
    ASSERT_EQ(read_block_words(512), sector_of(original, 10 + s)) << s;
  }
  EXPECT_EQ(inb(0x1F7), 0x50);
  EXPECT_EQ(inb(0x1F3) | inb(0x1F4) << 8, 10 + 255);
}

TEST_F(IdeTest, NewCommandAbandonsAPartialWrite) {
  attach_disk(DiskImage::Mode::ReadWrite);
  lba_command(0x30, 3, 1);
  for (unsigned i = 0; i < 100; ++i) bus.write(0x1F0, 2, 0x7777);
  outb(0x1F7, 0x10);  // RECALIBRATE in the middle of the data phase
  EXPECT_EQ(inb(0x1F7), 0x50);
  for (unsigned i = 0; i < 300; ++i) bus.write(0x1F0, 2, 0x7777);  // no transfer: dropped
  EXPECT_EQ(file.contents(), original);
}

TEST_F(IdeTest, ByteAccessesToTheDataPortMoveOneByte) {
  attach_disk(DiskImage::Mode::ReadOnly);
  lba_command(0x20, 9, 1);
  std::vector<uint8_t> back;
  for (unsigned i = 0; i < 512; ++i) back.push_back(inb(0x1F0));
  EXPECT_EQ(back, sector_of(original, 9));
  EXPECT_EQ(inb(0x1F7), 0x50);
}

// Random register traffic must never touch memory outside the device or the
// image: every access stays within bounds (run under POPEK_SANITIZE to see).
TEST_F(IdeTest, RandomPortTrafficStaysInBounds) {
  attach_disk(DiskImage::Mode::Snapshot);
  attach_disk(DiskImage::Mode::Snapshot, 0, 1);
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  static constexpr uint16_t kPorts[] = {0x1F0, 0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x1F7, 0x3F6};
  static constexpr uint8_t kCommands[] = {0x20, 0x30, 0xC4, 0xC5, 0xC6, 0x91,
                                          0x40, 0xEC, 0x90, 0xE7, 0xEF, 0x00};
  for (int i = 0; i < 200000; ++i) {
    const uint32_t r = next();
    const uint16_t port = kPorts[r % 9];
    const unsigned size = port == 0x1F0 ? 1u << (r >> 4 & 1 ? 2 : (r >> 5 & 1)) : 1;
    if (r >> 6 & 1) {
      bus.read(port, size);
    } else {
      uint32_t value = next();
      if (port == 0x1F7) value = kCommands[value % sizeof kCommands];
      if (port == 0x3F6) value &= (r >> 7 & 7) == 0 ? 0xFF : 0x02;  // SRST only now and then
      bus.write(port, size, value);
    }
  }
  EXPECT_EQ(file.contents(), original);
}

}  // namespace
}  // namespace popek
