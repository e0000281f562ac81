// An ATAPI CD-ROM drive (ATA/ATAPI-5 PACKET feature set, MMC command set
// subset, PIO only) holding a CdromImage, as QEMU's -cdrom: read-only
// 2048-byte sectors.
//
// ATA commands:
//   0xA0 PACKET                     12-byte command packet, then PIO data in
//   0xA1 IDENTIFY PACKET DEVICE
//   0x08 DEVICE RESET               signature, no interrupt
//   0x90 EXECUTE DEVICE DIAGNOSTIC  (dispatched by the channel)
//   0xEC IDENTIFY DEVICE, 0x20/0x21 READ SECTORS, 0x24 READ SECTORS EXT:
//        aborted with the packet signature loaded, so that drivers that
//        probe with IDENTIFY DEVICE find an ATAPI device (ATA requirement)
//   0xE0-0xE3, 0xE5 standby/idle/CHECK POWER MODE, 0xEF SET FEATURES: accepted
//   anything else aborts with ABRT.
//
// Packet commands (MMC), all PIO data in:
//   0x00 TEST UNIT READY      0x03 REQUEST SENSE (fixed format, 18 bytes)
//   0x12 INQUIRY (standard data only; EVPD is an invalid field)
//   0x1B START STOP UNIT      LoEj opens/closes the tray (refused while locked)
//   0x1E PREVENT ALLOW MEDIUM REMOVAL
//   0x25 READ CAPACITY        last LBA and block length 2048
//   0x28 READ(10), 0xA8 READ(12), 0x2B SEEK(10)
//   0x43 READ TOC/PMA/ATIP    formats 0 (TOC) and 1 (session info), LBA or MSF
//   0x46 GET CONFIGURATION    profile list, core, morphing, removable medium,
//                             random readable, CD read; RT 0/1/2
//   0x4A GET EVENT STATUS NOTIFICATION  polled, media class
//   0x5A MODE SENSE(10)       pages 0x01, 0x2A, 0x3F; current/changeable/default
//   0xBB SET CD SPEED         accepted, no effect
// Anything else ends in CHECK CONDITION, ILLEGAL REQUEST / INVALID COMMAND
// OPERATION CODE (05/20/00).
//
// Errors follow SPC/MMC: the command ends with ERR in the status register,
// the sense key in bits 7:4 of the error register, and the full sense data
// (key, ASC, ASCQ) for REQUEST SENSE: no medium 02/3A/00, LBA out of range
// 05/21/00, invalid field in CDB 05/24/00, saving parameters not supported
// 05/39/00, medium removal prevented 05/53/02, host read failure 03/11/00,
// medium may have changed (unit attention) 06/28/00.
//
// Protocol, as ATA/ATAPI-5 describes it: PACKET raises DRQ with the
// interrupt reason CoD=1 (sector count register = 1) and no interrupt
// (IDENTIFY PACKET DEVICE word 0 reports "DRQ within 50 us"). After the
// 12th packet byte the command runs. Data comes in DRQ blocks of at most
// the byte count limit the host wrote to LBA 15:8/23:16 (rounded down to an
// even number unless it covers the rest); each block is announced with an
// interrupt, IO=1 CoD=0 and its size in the byte count registers. The end
// of the command is an interrupt with IO=1 CoD=1 (sector count = 3),
// DRDY, and ERR if the command failed.
//
// Where this model departs from real drives, and why:
//  - Commands complete synchronously (no BSY, no seek or spin-up time).
//  - No DMA (features bit 0 of PACKET aborts), no overlap, no queuing.
//  - No unit attention after power-on or reset, only after a medium
//    change: SeaBIOS and Linux cope with either, and boot loaders that
//    issue READ first would otherwise see a spurious error.
//  - No audio, no raw (2352-byte) sectors, no READ CD, no write commands.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "devices/cdrom_image.h"
#include "devices/ide.h"

namespace popek {

namespace scsi {
// Sense keys.
constexpr uint8_t kNoSense = 0x0;
constexpr uint8_t kNotReady = 0x2;
constexpr uint8_t kMediumError = 0x3;
constexpr uint8_t kIllegalRequest = 0x5;
constexpr uint8_t kUnitAttention = 0x6;
// Additional sense codes (ASC) used here.
constexpr uint8_t kAscUnrecoveredReadError = 0x11;
constexpr uint8_t kAscInvalidOpcode = 0x20;
constexpr uint8_t kAscLbaOutOfRange = 0x21;
constexpr uint8_t kAscInvalidFieldInCdb = 0x24;
constexpr uint8_t kAscMediumMayHaveChanged = 0x28;
constexpr uint8_t kAscSavingNotSupported = 0x39;
constexpr uint8_t kAscMediumNotPresent = 0x3A;
constexpr uint8_t kAscMediumRemovalPrevented = 0x53;
}  // namespace scsi

namespace atapi {
// Interrupt reason (sector count register) bits.
constexpr uint8_t kReasonCoD = 0x01;  // 1: command packet / status, 0: data
constexpr uint8_t kReasonIo = 0x02;   // 1: to the host
// The packet-device signature in LBA 15:8 and 23:16 after reset.
constexpr uint8_t kSignatureMid = 0x14;
constexpr uint8_t kSignatureHigh = 0xEB;
}  // namespace atapi

class AtapiCdrom : public IdeDevice {
 public:
  static constexpr unsigned kPacketSize = 12;
  static constexpr uint32_t kSectorSize = CdromImage::kSectorSize;

  struct Sense {
    uint8_t key = scsi::kNoSense;
    uint8_t asc = 0;
    uint8_t ascq = 0;
  };

  // `medium` may be null: an empty drive.
  explicit AtapiCdrom(std::unique_ptr<CdromImage> medium, std::string serial = "POPEK-CD01",
                      std::string model = "POPEK CD-ROM", std::string firmware = "1.0");

  void reset(AtaRegisters& regs, bool hard) override;
  void execute(uint8_t command, AtaRegisters& regs) override;
  uint32_t read_data(unsigned size, AtaRegisters& regs) override;
  void write_data(unsigned size, uint32_t value, AtaRegisters& regs) override;

  // A medium is present and the tray closed.
  bool has_medium() const { return medium_ && !tray_open_; }
  bool tray_open() const { return tray_open_; }
  bool removal_prevented() const { return prevent_removal_; }
  // Host-side media change (the next medium-access command reports 06/28/00).
  void insert(std::unique_ptr<CdromImage> medium);
  // The sense data REQUEST SENSE would report now.
  Sense sense() const { return sense_; }
  // The IDENTIFY PACKET DEVICE data (word i = bytes 2i, 2i+1).
  std::array<uint16_t, 256> identify_packet_data() const;

 private:
  enum class Phase : uint8_t { Idle, Packet, DataIn, IdentifyIn };
  enum class Source : uint8_t { Reply, Sectors };

  // ATA side.
  void abort_command();
  void abort_with_signature(AtaRegisters& regs);
  void load_signature(AtaRegisters& regs) const;
  void start_packet(AtaRegisters& regs);
  void identify_packet();

  // Packet side. Each handler either completes the command (complete_ok,
  // check_condition) or starts a data phase (send_reply, send_sectors).
  void run_packet(AtaRegisters& regs);
  void dispatch(AtaRegisters& regs);
  void complete_ok(AtaRegisters& regs);
  void check_condition(AtaRegisters& regs, uint8_t key, uint8_t asc, uint8_t ascq = 0);
  // Fails the command with 02/3A/00 (true) when there is no medium.
  bool require_medium(AtaRegisters& regs);
  void send_reply(AtaRegisters& regs, std::vector<uint8_t> reply, uint32_t allocation_length);
  void send_sectors(AtaRegisters& regs, uint64_t lba, uint32_t count);
  void start_block(AtaRegisters& regs);
  bool next_byte(AtaRegisters& regs, uint8_t& byte);

  void cmd_request_sense(AtaRegisters& regs);
  void cmd_inquiry(AtaRegisters& regs);
  void cmd_start_stop(AtaRegisters& regs);
  void cmd_read_capacity(AtaRegisters& regs);
  void cmd_read(AtaRegisters& regs, uint64_t lba, uint32_t count);
  void cmd_seek(AtaRegisters& regs);
  void cmd_read_toc(AtaRegisters& regs);
  void cmd_get_configuration(AtaRegisters& regs);
  void cmd_get_event_status(AtaRegisters& regs);
  void cmd_mode_sense(AtaRegisters& regs);
  std::vector<uint8_t> mode_page(uint8_t page, bool changeable) const;

  std::unique_ptr<CdromImage> medium_;
  const std::string serial_;
  const std::string model_;
  const std::string firmware_;
  bool tray_open_ = false;
  bool prevent_removal_ = false;
  bool unit_attention_ = false;   // medium changed, not yet reported
  uint8_t media_event_ = 0;       // GET EVENT STATUS media event code not yet reported
  Sense sense_;

  Phase phase_ = Phase::Idle;
  std::array<uint8_t, kPacketSize> packet_{};
  unsigned packet_pos_ = 0;
  uint32_t byte_limit_ = 0;       // byte count limit of the PACKET command
  // Data-in state: bytes left in the command and in the current DRQ block.
  Source source_ = Source::Reply;
  uint64_t bytes_left_ = 0;
  uint32_t block_left_ = 0;
  std::vector<uint8_t> reply_;    // Source::Reply (and IDENTIFY data)
  size_t reply_pos_ = 0;
  std::array<uint8_t, kSectorSize> sector_{};  // Source::Sectors: the sector being sent
  uint32_t sector_pos_ = kSectorSize;
  uint64_t next_lba_ = 0;
};

}  // namespace popek
