// Unit tests for the ATAPI CD-ROM (devices/atapi_cdrom.*) and its image
// (devices/cdrom_image.*), driven through the PIIX3 IDE secondary channel's
// legacy ports: signature and ATA commands, the PACKET protocol (interrupt
// reason, byte count limit, DRQ blocks), every packet command, the sense
// data of each error path, media changes and the tray.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/io_bus.h"
#include "devices/ata_disk.h"
#include "devices/atapi_cdrom.h"
#include "devices/cdrom_image.h"
#include "devices/ide.h"
#include "tests/devices/temp_image.h"

namespace popek {
namespace {

using test::TempFile;

constexpr uint32_t kSectors = 40;
constexpr uint16_t kBase = 0x170;
constexpr uint16_t kControl = 0x376;
constexpr uint16_t kData = kBase + 0, kError = kBase + 1, kReason = kBase + 2, kByteLow = kBase + 4,
                   kByteHigh = kBase + 5, kDevice = kBase + 6, kStatus = kBase + 7;

// Sector s, byte i = (s * 13 + i) & 0xFF, with the sector number in bytes
// 0-3; sector 16 carries an ISO 9660 volume descriptor identifier.
std::vector<uint8_t> disc(uint32_t sectors) {
  std::vector<uint8_t> bytes = test::patterned_sectors(sectors, 2048, 13);
  if (sectors > 16) std::memcpy(&bytes[16 * 2048 + 1], "CD001", 5);
  return bytes;
}

using Packet = std::vector<uint8_t>;

Packet read10(uint32_t lba, uint16_t count) {
  return {0x28, 0, uint8_t(lba >> 24), uint8_t(lba >> 16), uint8_t(lba >> 8), uint8_t(lba), 0,
          uint8_t(count >> 8), uint8_t(count), 0, 0, 0};
}
Packet read12(uint32_t lba, uint32_t count) {
  return {0xA8, 0, uint8_t(lba >> 24), uint8_t(lba >> 16), uint8_t(lba >> 8), uint8_t(lba),
          uint8_t(count >> 24), uint8_t(count >> 16), uint8_t(count >> 8), uint8_t(count), 0, 0};
}

class AtapiTest : public ::testing::Test {
 protected:
  AtapiTest() : image(disc(kSectors)) {
    ide.attach(bus);
    ide.irq15().connect([this](bool level) {
      irq = level;
      if (level) ++irq_rises;
    });
  }

  AtapiCdrom& attach(bool with_medium = true, int index = 0) {
    auto drive = std::make_unique<AtapiCdrom>(with_medium ? CdromImage::from_memory(image) : nullptr);
    AtapiCdrom& ref = *drive;
    ide.secondary().set_device(index, std::move(drive));
    return ref;
  }

  uint8_t inb(uint16_t port) { return static_cast<uint8_t>(bus.read(port, 1)); }
  uint16_t inw(uint16_t port) { return static_cast<uint16_t>(bus.read(port, 2)); }
  void outb(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
  void outw(uint16_t port, uint16_t v) { bus.write(port, 2, v); }

  // Writes PACKET with the byte count limit and sends the 12-byte packet.
  void send_packet(const Packet& p, uint16_t byte_limit = 2048, uint8_t device = 0) {
    Packet full = p;
    full.resize(12, 0);
    outb(kDevice, static_cast<uint8_t>(device << 4));
    outb(kError, 0);  // features: PIO
    outb(kByteLow, static_cast<uint8_t>(byte_limit));
    outb(kByteHigh, static_cast<uint8_t>(byte_limit >> 8));
    outb(kStatus, 0xA0);
    ASSERT_EQ(inb(kStatus) & (ata::kStatusDrq | ata::kStatusBsy), ata::kStatusDrq);
    ASSERT_EQ(inb(kReason), atapi::kReasonCoD);
    for (int i = 0; i < 12; i += 2) outw(kData, static_cast<uint16_t>(full[i] | full[i + 1] << 8));
  }

  // Reads every DRQ block of the data phase; records the block sizes and
  // checks the interrupt reason of each block.
  std::vector<uint8_t> read_data_phase() {
    std::vector<uint8_t> out;
    blocks.clear();
    while (true) {
      const uint8_t status = inb(kStatus);
      if (!(status & ata::kStatusDrq)) break;
      EXPECT_EQ(inb(kReason), atapi::kReasonIo);
      const unsigned n = inb(kByteLow) | inb(kByteHigh) << 8;
      blocks.push_back(n);
      for (unsigned i = 0; i < n; i += 2) {
        const uint16_t w = inw(kData);
        out.push_back(static_cast<uint8_t>(w));
        if (i + 1 < n) out.push_back(static_cast<uint8_t>(w >> 8));
      }
      if (blocks.size() > 10000) break;
    }
    return out;
  }

  std::vector<uint8_t> command(const Packet& p, uint16_t byte_limit = 2048) {
    send_packet(p, byte_limit);
    return read_data_phase();
  }

  // The command has ended: status without BSY/DRQ, reason IO|CoD.
  void expect_done(bool error) {
    const uint8_t status = inb(kStatus);
    EXPECT_EQ(status & (ata::kStatusBsy | ata::kStatusDrq), 0) << std::hex << int{status};
    EXPECT_EQ(static_cast<bool>(status & ata::kStatusErr), error) << std::hex << int{status};
    EXPECT_TRUE(status & ata::kStatusDrdy);
    EXPECT_EQ(inb(kReason), atapi::kReasonCoD | atapi::kReasonIo);
  }

  // Checks CHECK CONDITION with the sense key in the error register, then
  // the full sense through REQUEST SENSE.
  void expect_sense(uint8_t key, uint8_t asc, uint8_t ascq = 0) {
    expect_done(/*error=*/true);
    EXPECT_EQ(inb(kError), key << 4);
    std::vector<uint8_t> s = command({0x03, 0, 0, 0, 18, 0});
    expect_done(false);
    ASSERT_EQ(s.size(), 18u);
    EXPECT_EQ(s[0], 0x70);
    EXPECT_EQ(s[2], key);
    EXPECT_EQ(s[7], 10);
    EXPECT_EQ(s[12], asc);
    EXPECT_EQ(s[13], ascq);
  }

  std::vector<uint8_t> sectors_of(uint32_t lba, uint32_t count) const {
    return std::vector<uint8_t>(image.begin() + lba * 2048, image.begin() + (lba + count) * 2048);
  }

  std::vector<uint8_t> image;
  IoBus bus;
  PiixIde ide;
  bool irq = false;
  int irq_rises = 0;
  std::vector<unsigned> blocks;
};

TEST_F(AtapiTest, SignatureAndStatusAfterReset) {
  attach();
  EXPECT_EQ(inb(kReason), 0x01);
  EXPECT_EQ(inb(kBase + 3), 0x01);
  EXPECT_EQ(inb(kByteLow), 0x14);
  EXPECT_EQ(inb(kByteHigh), 0xEB);
  EXPECT_EQ(inb(kStatus), 0x00);  // packet devices clear DRDY on reset
  // Software reset: the signature again.
  outb(kByteLow, 0);
  outb(kControl, ata::kControlSrst);
  EXPECT_EQ(inb(kStatus), ata::kStatusBsy);
  outb(kControl, 0);
  EXPECT_EQ(inb(kByteLow), 0x14);
  EXPECT_EQ(inb(kByteHigh), 0xEB);
  EXPECT_EQ(inb(kError), ata::kDiagnosticPassed);
}

TEST_F(AtapiTest, IdentifyDeviceAbortsWithTheSignature) {
  attach();
  outb(kDevice, 0);
  outb(kByteLow, 0x55);
  outb(kByteHigh, 0xAA);
  outb(kStatus, 0xEC);
  EXPECT_TRUE(irq);
  EXPECT_EQ(inb(kStatus), ata::kStatusDrdy | ata::kStatusErr);
  EXPECT_EQ(inb(kError), ata::kErrorAbrt);
  EXPECT_EQ(inb(kByteLow), 0x14);
  EXPECT_EQ(inb(kByteHigh), 0xEB);
  // READ SECTORS too.
  outb(kStatus, 0x20);
  EXPECT_EQ(inb(kError), ata::kErrorAbrt);
  EXPECT_EQ(inb(kByteHigh), 0xEB);
}

TEST_F(AtapiTest, IdentifyPacketDevice) {
  AtapiCdrom& cd = attach();
  outb(kDevice, 0);
  outb(kStatus, 0xA1);
  EXPECT_TRUE(irq);
  EXPECT_EQ(inb(kStatus), ata::kStatusDrdy | ata::kStatusDrq);
  EXPECT_FALSE(irq);
  std::vector<uint16_t> id(256);
  for (auto& w : id) w = inw(kData);
  EXPECT_EQ(inb(kStatus), ata::kStatusDrdy);
  EXPECT_EQ(id[0], 0x85C0);  // ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets
  EXPECT_EQ((id[0] >> 8) & 0x1F, 5);
  EXPECT_EQ(id[27], ('P' << 8) | 'O');
  EXPECT_EQ(id[30], ('C' << 8) | 'D');  // "POPEK CD-ROM"
  EXPECT_TRUE(id[49] & (1u << 9));
  EXPECT_FALSE(id[49] & (1u << 8));  // no DMA
  EXPECT_TRUE(id[82] & (1u << 4));   // PACKET feature set
  EXPECT_EQ(id[80], 0x0030);         // SeaBIOS prints "ATAPI-5"
  EXPECT_EQ(id[93] & 0x40, 0);       // device 0 does not answer for device 1
  uint8_t sum = 0;
  for (uint16_t w : id) sum = static_cast<uint8_t>(sum + (w & 0xFF) + (w >> 8));
  EXPECT_EQ(sum, 0);
  const std::array<uint16_t, 256> expected = cd.identify_packet_data();
  EXPECT_EQ(id, std::vector<uint16_t>(expected.begin(), expected.end()));
}

TEST_F(AtapiTest, HardDiskAbortsIdentifyPacketDevice) {
  ide.secondary().set_device(0, std::make_unique<AtaDisk>(DiskImage::blank(100)));
  outb(kDevice, 0);
  outb(kStatus, 0xA1);
  EXPECT_EQ(inb(kStatus) & ata::kStatusErr, ata::kStatusErr);
  EXPECT_EQ(inb(kError), ata::kErrorAbrt);
}

TEST_F(AtapiTest, PacketPhaseHasNoInterruptAndCompletionHas) {
  attach();
  irq_rises = 0;
  outb(kDevice, 0);
  outb(kStatus, 0xA0);
  EXPECT_FALSE(irq);  // DRQ for the packet comes without an interrupt
  EXPECT_EQ(inb(kStatus), ata::kStatusDrdy | ata::kStatusDrq);
  EXPECT_EQ(inb(kReason), atapi::kReasonCoD);
  for (int i = 0; i < 5; ++i) outw(kData, 0);
  EXPECT_TRUE(inb(kStatus) & ata::kStatusDrq);  // 10 of 12 bytes: still waiting
  outw(kData, 0);                               // TEST UNIT READY complete
  EXPECT_TRUE(irq);
  expect_done(false);
  EXPECT_EQ(irq_rises, 1);
}

TEST_F(AtapiTest, PacketWithDmaIsAborted) {
  attach();
  outb(kDevice, 0);
  outb(kError, 0x01);  // DMA
  outb(kStatus, 0xA0);
  EXPECT_EQ(inb(kStatus), ata::kStatusDrdy | ata::kStatusErr);
  EXPECT_EQ(inb(kError), ata::kErrorAbrt);
}

TEST_F(AtapiTest, TestUnitReadyAndRequestSense) {
  attach();
  command({0x00});
  expect_done(false);
  std::vector<uint8_t> s = command({0x03, 0, 0, 0, 18, 0});
  ASSERT_EQ(s.size(), 18u);
  EXPECT_EQ(s[2], scsi::kNoSense);
  EXPECT_EQ(s[12], 0);
}

TEST_F(AtapiTest, EmptyDriveReportsMediumNotPresent) {
  AtapiCdrom& cd = attach(/*with_medium=*/false);
  EXPECT_FALSE(cd.has_medium());
  command({0x00});
  expect_sense(scsi::kNotReady, scsi::kAscMediumNotPresent);
  // The sense data is cleared once reported.
  std::vector<uint8_t> s = command({0x03, 0, 0, 0, 18, 0});
  EXPECT_EQ(s[2], scsi::kNoSense);
  for (const Packet& p : {read10(0, 1), Packet{0x25}, Packet{0x43, 0, 0, 0, 0, 0, 0, 0, 12}}) {
    command(p);
    expect_sense(scsi::kNotReady, scsi::kAscMediumNotPresent);
  }
  // INQUIRY still works.
  EXPECT_EQ(command({0x12, 0, 0, 0, 36, 0}).size(), 36u);
}

TEST_F(AtapiTest, RequestSenseHonoursTheAllocationLength) {
  attach(false);
  command({0x00});
  std::vector<uint8_t> s = command({0x03, 0, 0, 0, 8, 0});
  expect_done(false);
  EXPECT_EQ(s.size(), 8u);
  EXPECT_EQ(s[2], scsi::kNotReady);
}

TEST_F(AtapiTest, Inquiry) {
  attach();
  std::vector<uint8_t> r = command({0x12, 0, 0, 0, 96, 0});
  expect_done(false);
  ASSERT_EQ(r.size(), 36u);
  EXPECT_EQ(r[0], 0x05);  // CD/DVD
  EXPECT_EQ(r[1], 0x80);  // removable
  EXPECT_EQ(r[4], 31);
  EXPECT_EQ(std::string(r.begin() + 8, r.begin() + 16), "POPEK   ");
  EXPECT_EQ(std::string(r.begin() + 16, r.begin() + 32), "POPEK CD-ROM    ");
  // Allocation length 5: five bytes.
  EXPECT_EQ(command({0x12, 0, 0, 0, 5, 0}).size(), 5u);
  // Allocation length 0: no data phase at all.
  irq_rises = 0;
  EXPECT_TRUE(command({0x12, 0, 0, 0, 0, 0}).empty());
  expect_done(false);
  EXPECT_EQ(irq_rises, 1);
  // Vital product data pages are not supported.
  command({0x12, 0x01, 0x80, 0, 96, 0});
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
}

TEST_F(AtapiTest, ReadCapacity) {
  attach();
  std::vector<uint8_t> r = command({0x25});
  expect_done(false);
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r, (std::vector<uint8_t>{0, 0, 0, kSectors - 1, 0, 0, 0x08, 0x00}));
}

TEST_F(AtapiTest, Read10OneDrqBlockPerSectorAtA2048Limit) {
  attach();
  irq_rises = 0;
  std::vector<uint8_t> d = command(read10(5, 3), 2048);
  expect_done(false);
  EXPECT_EQ(d, sectors_of(5, 3));
  EXPECT_EQ(blocks, (std::vector<unsigned>{2048, 2048, 2048}));
  EXPECT_EQ(irq_rises, 4);  // one per block and one at the end
}

TEST_F(AtapiTest, Read10InOneBlockWhenTheLimitAllows) {
  attach();
  std::vector<uint8_t> d = command(read10(0, 4), 0xFFFE);
  expect_done(false);
  EXPECT_EQ(d, sectors_of(0, 4));
  EXPECT_EQ(blocks, (std::vector<unsigned>{8192}));
}

TEST_F(AtapiTest, OddByteLimitIsRoundedDownExceptForTheLastBlock) {
  attach();
  std::vector<uint8_t> d = command(read10(7, 1), 1001);
  expect_done(false);
  EXPECT_EQ(d, sectors_of(7, 1));
  EXPECT_EQ(blocks, (std::vector<unsigned>{1000, 1000, 48}));
  // A limit of 0 acts as 0xFFFE.
  d = command(read10(8, 2), 0);
  EXPECT_EQ(d, sectors_of(8, 2));
  EXPECT_EQ(blocks, (std::vector<unsigned>{4096}));
}

TEST_F(AtapiTest, Read12AndThe32BitDataPort) {
  attach();
  send_packet(read12(kSectors - 2, 2), 4096);
  std::vector<uint8_t> d;
  for (unsigned i = 0; i < 4096; i += 4) {
    uint32_t v = bus.read(kData, 4);
    for (int b = 0; b < 4; ++b) d.push_back(static_cast<uint8_t>(v >> (8 * b)));
  }
  expect_done(false);
  EXPECT_EQ(d, sectors_of(kSectors - 2, 2));
  // Reads after the end return all ones.
  EXPECT_EQ(inw(kData), 0xFFFF);
}

TEST_F(AtapiTest, ReadOutOfRange) {
  attach();
  command(read10(kSectors, 1));
  expect_sense(scsi::kIllegalRequest, scsi::kAscLbaOutOfRange);
  command(read10(kSectors - 1, 2));
  expect_sense(scsi::kIllegalRequest, scsi::kAscLbaOutOfRange);
  command(read12(0xFFFFFFFF, 0xFFFFFFFF));
  expect_sense(scsi::kIllegalRequest, scsi::kAscLbaOutOfRange);
  // A transfer length of 0 is not an error and moves no data.
  EXPECT_TRUE(command(read10(3, 0)).empty());
  expect_done(false);
}

TEST_F(AtapiTest, HostReadFailureIsAMediumError) {
  TempFile file(disc(kSectors));
  CdromImage::OpenResult r = CdromImage::open(file.path());
  ASSERT_NE(r.image, nullptr) << r.error;
  ide.secondary().set_device(0, std::make_unique<AtapiCdrom>(std::move(r.image)));
  ASSERT_EQ(::truncate(file.path().c_str(), 20 * 2048), 0);  // the file shrinks under the drive
  EXPECT_EQ(command(read10(18, 1)).size(), 2048u);
  expect_done(false);
  command(read10(25, 1));
  expect_sense(scsi::kMediumError, scsi::kAscUnrecoveredReadError);
}

TEST_F(AtapiTest, UnknownOpcode) {
  attach();
  command({0xBE});  // READ CD is not implemented
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidOpcode);
  command({0x2A});  // WRITE(10) on a CD-ROM
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidOpcode);
}

TEST_F(AtapiTest, Seek) {
  attach();
  command({0x2B, 0, 0, 0, 0, 10});
  expect_done(false);
  command({0x2B, 0, 0, 0, 0, kSectors});
  expect_sense(scsi::kIllegalRequest, scsi::kAscLbaOutOfRange);
}

TEST_F(AtapiTest, ModeSense) {
  attach();
  std::vector<uint8_t> r = command({0x5A, 0, 0x2A, 0, 0, 0, 0, 0x01, 0x00});
  expect_done(false);
  ASSERT_EQ(r.size(), 8u + 20u);
  EXPECT_EQ(r[0] << 8 | r[1], 26);  // mode data length
  EXPECT_EQ(r[2], 0x01);            // CD-ROM data disc
  EXPECT_EQ(r[8], 0x2A);
  EXPECT_EQ(r[9], 0x12);
  EXPECT_EQ(r[14] & 0x08, 0x08);    // eject supported
  EXPECT_EQ(r[14] & 0x02, 0);       // not locked
  // All pages.
  r = command({0x5A, 0, 0x3F, 0, 0, 0, 0, 0x01, 0x00});
  ASSERT_EQ(r.size(), 8u + 12u + 20u);
  EXPECT_EQ(r[8], 0x01);
  EXPECT_EQ(r[20], 0x2A);
  // Changeable values: nothing.
  r = command({0x5A, 0, 0x40 | 0x2A, 0, 0, 0, 0, 0x01, 0x00});
  for (size_t i = 10; i < r.size(); ++i) EXPECT_EQ(r[i], 0) << i;
  // Truncated to the allocation length.
  EXPECT_EQ(command({0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 10}).size(), 10u);
  // Saved values and unknown pages are errors.
  command({0x5A, 0, 0xC0 | 0x2A, 0, 0, 0, 0, 0x01, 0x00});
  expect_sense(scsi::kIllegalRequest, scsi::kAscSavingNotSupported);
  command({0x5A, 0, 0x05, 0, 0, 0, 0, 0x01, 0x00});
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
}

TEST_F(AtapiTest, GetConfiguration) {
  attach();
  std::vector<uint8_t> r = command({0x46, 0, 0, 0, 0, 0, 0, 0x04, 0x00});
  expect_done(false);
  ASSERT_GE(r.size(), 16u);
  EXPECT_EQ(r[6] << 8 | r[7], 0x0008);  // current profile: CD-ROM
  EXPECT_EQ((r[0] << 24 | r[1] << 16 | r[2] << 8 | r[3]) + 4u, r.size());
  // Feature 0 (profile list) first, listing CD-ROM as current.
  EXPECT_EQ(r[8] << 8 | r[9], 0x0000);
  EXPECT_EQ(r[12] << 8 | r[13], 0x0008);
  EXPECT_EQ(r[14] & 1, 1);
  // RT = 2: exactly the feature asked for (random readable).
  r = command({0x46, 0x02, 0x00, 0x10, 0, 0, 0, 0x04, 0x00});
  ASSERT_EQ(r.size(), 8u + 12u);
  EXPECT_EQ(r[8] << 8 | r[9], 0x0010);
  EXPECT_EQ(r[10] & 1, 1);                        // current
  EXPECT_EQ(r[12] << 24 | r[13] << 16 | r[14] << 8 | r[15], 2048);
  // RT = 3 is reserved.
  command({0x46, 0x03, 0, 0, 0, 0, 0, 0x04, 0x00});
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
}

TEST_F(AtapiTest, GetConfigurationWithoutMedium) {
  attach(false);
  std::vector<uint8_t> r = command({0x46, 0x01, 0, 0, 0, 0, 0, 0x04, 0x00});  // current features
  expect_done(false);
  EXPECT_EQ(r[6] << 8 | r[7], 0);  // no current profile
  for (size_t i = 8; i + 4 <= r.size(); i += 4 + r[i + 3]) {
    const unsigned code = r[i] << 8 | r[i + 1];
    EXPECT_NE(code, 0x0010u);  // random readable is not current
    EXPECT_NE(code, 0x001Eu);
  }
}

TEST_F(AtapiTest, ReadToc) {
  attach();
  std::vector<uint8_t> r = command({0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24});
  expect_done(false);
  ASSERT_EQ(r.size(), 4u + 16u);
  EXPECT_EQ(r[0] << 8 | r[1], 18);
  EXPECT_EQ(r[2], 1);
  EXPECT_EQ(r[3], 1);
  EXPECT_EQ(r[5], 0x14);  // data track
  EXPECT_EQ(r[6], 1);
  EXPECT_EQ(r[8] << 24 | r[9] << 16 | r[10] << 8 | r[11], 0);
  EXPECT_EQ(r[14], 0xAA);  // lead-out
  EXPECT_EQ(r[16] << 24 | r[17] << 16 | r[18] << 8 | r[19], static_cast<int>(kSectors));
  // MSF: track 1 at 00:02:00, lead-out at 40 + 150 frames = 00:02:40.
  r = command({0x43, 0x02, 0, 0, 0, 0, 0, 0x03, 0x24});
  EXPECT_EQ(std::vector<uint8_t>(r.begin() + 8, r.begin() + 12), (std::vector<uint8_t>{0, 0, 2, 0}));
  EXPECT_EQ(std::vector<uint8_t>(r.begin() + 16, r.begin() + 20), (std::vector<uint8_t>{0, 0, 2, 40}));
  // Starting at the lead-out: only the lead-out.
  r = command({0x43, 0, 0, 0, 0, 0, 0xAA, 0x03, 0x24});
  ASSERT_EQ(r.size(), 12u);
  EXPECT_EQ(r[6], 0xAA);
  // Session information.
  r = command({0x43, 0, 1, 0, 0, 0, 0, 0x03, 0x24});
  ASSERT_EQ(r.size(), 12u);
  EXPECT_EQ(r[0] << 8 | r[1], 10);
  // A track that does not exist, a format that is not supported.
  command({0x43, 0, 0, 0, 0, 0, 2, 0x03, 0x24});
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
  command({0x43, 0, 2, 0, 0, 0, 0, 0x03, 0x24});
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
}

TEST_F(AtapiTest, TrayEjectLoadAndLock) {
  AtapiCdrom& cd = attach();
  // Lock, then eject: refused.
  command({0x1E, 0, 0, 0, 1, 0});
  expect_done(false);
  EXPECT_TRUE(cd.removal_prevented());
  command({0x1B, 0, 0, 0, 0x02, 0});
  expect_sense(scsi::kIllegalRequest, scsi::kAscMediumRemovalPrevented, 0x02);
  EXPECT_TRUE(cd.has_medium());
  // Unlock, eject: no medium.
  command({0x1E, 0, 0, 0, 0, 0});
  command({0x1B, 0, 0, 0, 0x02, 0});
  expect_done(false);
  EXPECT_TRUE(cd.tray_open());
  command({0x00});
  expect_sense(scsi::kNotReady, scsi::kAscMediumNotPresent);
  // Load: the medium is back, announced by a unit attention.
  command({0x1B, 0, 0, 0, 0x03, 0});
  expect_done(false);
  command(read10(0, 1));
  expect_sense(scsi::kUnitAttention, scsi::kAscMediumMayHaveChanged);
  EXPECT_EQ(command(read10(0, 1)), sectors_of(0, 1));
  expect_done(false);
}

TEST_F(AtapiTest, MediaChangeUnitAttentionAndEvents) {
  AtapiCdrom& cd = attach(false);
  cd.insert(CdromImage::from_memory(image));
  // INQUIRY and GET EVENT STATUS NOTIFICATION bypass the unit attention.
  EXPECT_EQ(command({0x12, 0, 0, 0, 36, 0}).size(), 36u);
  std::vector<uint8_t> e = command({0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8});
  expect_done(false);
  ASSERT_EQ(e.size(), 8u);
  EXPECT_EQ(e[2], 4);     // media class
  EXPECT_EQ(e[4], 2);     // new media
  EXPECT_EQ(e[5], 0x02);  // media present, tray closed
  e = command({0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8});
  EXPECT_EQ(e[4], 0);  // reported once
  // The first other command reports it, then commands work.
  command({0x00});
  expect_sense(scsi::kUnitAttention, scsi::kAscMediumMayHaveChanged);
  command({0x00});
  expect_done(false);
  // Asynchronous notification is not supported.
  command({0x4A, 0x00, 0, 0, 0x10, 0, 0, 0, 8});
  expect_sense(scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
}

TEST_F(AtapiTest, RequestSenseReportsAPendingUnitAttention) {
  AtapiCdrom& cd = attach();
  cd.insert(CdromImage::from_memory(image));
  std::vector<uint8_t> s = command({0x03, 0, 0, 0, 18, 0});
  EXPECT_EQ(s[2], scsi::kUnitAttention);
  EXPECT_EQ(s[12], scsi::kAscMediumMayHaveChanged);
  command({0x00});
  expect_done(false);  // consumed by REQUEST SENSE
}

TEST_F(AtapiTest, InterruptsAreGatedByNien) {
  attach();
  outb(kControl, ata::kControlNien);
  irq_rises = 0;
  command(read10(0, 2));
  expect_done(false);
  EXPECT_EQ(irq_rises, 0);
  outb(kControl, 0);
}

TEST_F(AtapiTest, DeviceResetKeepsTheDeviceSelected) {
  attach(true, /*index=*/1);
  outb(kDevice, 0x10);
  outb(kStatus, 0xA1);
  outb(kStatus, 0x08);  // DEVICE RESET abandons IDENTIFY
  EXPECT_EQ(inb(kDevice) & 0x10, 0x10);
  EXPECT_EQ(inb(kStatus), 0x00);
  EXPECT_EQ(inb(kByteHigh), 0xEB);
  send_packet(read10(1, 1), 2048, /*device=*/1);
  EXPECT_EQ(read_data_phase(), sectors_of(1, 1));
}

TEST_F(AtapiTest, NewCommandAbandonsADataPhase) {
  attach();
  send_packet(read10(0, 2));
  for (int i = 0; i < 10; ++i) inw(kData);
  EXPECT_EQ(command(read10(9, 1)), sectors_of(9, 1));
  expect_done(false);
}

// --- CdromImage::open ---

TEST(CdromImageTest, OpensAnIsoAndReads) {
  std::vector<uint8_t> bytes = disc(kSectors);
  TempFile file(bytes);
  CdromImage::OpenResult r = CdromImage::open(file.path());
  ASSERT_NE(r.image, nullptr) << r.error;
  EXPECT_EQ(r.image->sector_count(), kSectors);
  std::vector<uint8_t> buf(2048 * 2);
  ASSERT_TRUE(r.image->read(kSectors - 2, 2, buf.data()));
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), bytes.begin() + (kSectors - 2) * 2048));
  EXPECT_FALSE(r.image->read(kSectors - 1, 2, buf.data()));
  EXPECT_FALSE(r.image->read(~0ull, 1, buf.data()));
}

TEST(CdromImageTest, RejectsBadImagesWithOneLineErrors) {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* fragment;
  };
  std::vector<uint8_t> no_descriptor = disc(kSectors);
  no_descriptor[16 * 2048 + 1] = 'X';
  std::vector<uint8_t> udf = no_descriptor;
  std::memcpy(&udf[16 * 2048 + 1], "BEA01", 5);
  const Case cases[] = {
      {{}, "image is empty"},
      {std::vector<uint8_t>(3000), "not a multiple of 2048"},
      {std::vector<uint8_t>(2048 * 16), "too small"},
      {no_descriptor, "not an ISO 9660 or UDF image"},
  };
  for (const Case& c : cases) {
    TempFile file(c.bytes);
    CdromImage::OpenResult r = CdromImage::open(file.path());
    EXPECT_EQ(r.image, nullptr);
    EXPECT_NE(r.error.find(c.fragment), std::string::npos) << r.error;
    EXPECT_EQ(r.error.rfind(file.path(), 0), 0u) << r.error;  // names the file
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
  TempFile udf_file(udf);
  EXPECT_NE(CdromImage::open(udf_file.path()).image, nullptr);
  CdromImage::OpenResult missing = CdromImage::open("/nonexistent/disc.iso");
  EXPECT_EQ(missing.image, nullptr);
  EXPECT_NE(missing.error.find("/nonexistent/disc.iso"), std::string::npos);
  EXPECT_NE(CdromImage::open("/tmp").error.find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace popek
