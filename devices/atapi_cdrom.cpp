#include "devices/atapi_cdrom.h"

#include <algorithm>
#include <cstdio>

namespace popek {

namespace {
constexpr uint8_t kReady = ata::kStatusDrdy;

// MMC profile and feature numbers.
constexpr uint16_t kProfileCdRom = 0x0008;
constexpr uint16_t kFeatureProfileList = 0x0000;
constexpr uint16_t kFeatureCore = 0x0001;
constexpr uint16_t kFeatureMorphing = 0x0002;
constexpr uint16_t kFeatureRemovableMedium = 0x0003;
constexpr uint16_t kFeatureRandomReadable = 0x0010;
constexpr uint16_t kFeatureCdRead = 0x001E;

uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void put_be16(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}
void put_be32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  put_be16(v, at, x >> 16);
  put_be16(v, at + 2, x & 0xFFFF);
}
void append_be16(std::vector<uint8_t>& v, uint32_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void append_be32(std::vector<uint8_t>& v, uint32_t x) {
  append_be16(v, x >> 16);
  append_be16(v, x & 0xFFFF);
}
// Space-padded ASCII field of `width` bytes (SCSI INQUIRY strings).
void append_text(std::vector<uint8_t>& v, const std::string& text, size_t width) {
  for (size_t i = 0; i < width; ++i) v.push_back(static_cast<uint8_t>(i < text.size() ? text[i] : ' '));
}
// ATA strings: two characters per word, the first in the high byte.
void put_ata_string(std::array<uint16_t, 256>& id, unsigned first_word, unsigned words, const std::string& text) {
  for (unsigned i = 0; i < 2 * words; ++i) {
    const uint8_t c = i < text.size() ? static_cast<uint8_t>(text[i]) : ' ';
    uint16_t& w = id[first_word + i / 2];
    w = static_cast<uint16_t>(i % 2 == 0 ? (w & 0x00FF) | c << 8 : (w & 0xFF00) | c);
  }
}
// A CD address as the 4-byte field of READ TOC: LBA, or 0:M:S:F with the
// 150-frame (2 s) lead-in offset.
void append_address(std::vector<uint8_t>& v, uint64_t lba, bool msf) {
  if (!msf) {
    append_be32(v, static_cast<uint32_t>(lba));
    return;
  }
  const uint64_t frames = lba + 150;
  v.push_back(0);
  v.push_back(static_cast<uint8_t>(std::min<uint64_t>(frames / (75 * 60), 0xFF)));
  v.push_back(static_cast<uint8_t>(frames / 75 % 60));
  v.push_back(static_cast<uint8_t>(frames % 75));
}
}  // namespace

AtapiCdrom::AtapiCdrom(std::unique_ptr<CdromImage> medium, std::string serial, std::string model,
                       std::string firmware)
    : medium_(std::move(medium)), serial_(std::move(serial)), model_(std::move(model)), firmware_(std::move(firmware)) {}

// ----------------------------------------------------------------------------
// ATA side
// ----------------------------------------------------------------------------

void AtapiCdrom::load_signature(AtaRegisters& regs) const {
  regs.sector_count = 0x01;
  regs.lba_low = 0x01;
  regs.lba_mid = atapi::kSignatureMid;
  regs.lba_high = atapi::kSignatureHigh;
  regs.device &= ata::kDeviceSlave;  // DEV is kept (the channel resets it where needed)
}

void AtapiCdrom::reset(AtaRegisters& regs, bool hard) {
  phase_ = Phase::Idle;
  packet_pos_ = 0;
  bytes_left_ = block_left_ = 0;
  // A packet device clears DRDY on reset; it is set again by the first
  // command that completes (ATA/ATAPI-5, PACKET command feature set).
  status_ = 0;
  error_ = ata::kDiagnosticPassed;
  intrq_ = false;
  if (hard) {
    prevent_removal_ = false;
    sense_ = Sense{};
  }
  load_signature(regs);
  regs.device = 0;
}

void AtapiCdrom::abort_command() {
  phase_ = Phase::Idle;
  status_ = kReady | ata::kStatusErr;
  error_ = ata::kErrorAbrt;
  intrq_ = true;
}

void AtapiCdrom::abort_with_signature(AtaRegisters& regs) {
  load_signature(regs);
  abort_command();
}

void AtapiCdrom::execute(uint8_t command, AtaRegisters& regs) {
  phase_ = Phase::Idle;  // a new command abandons any transfer in progress
  switch (command) {
    case 0xA0: start_packet(regs); return;
    case 0xA1: identify_packet(); return;
    case 0x08: {  // DEVICE RESET: like SRST for this device alone, no interrupt
      const uint8_t device = regs.device & ata::kDeviceSlave;  // it stays selected
      reset(regs, /*hard=*/false);
      regs.device = device;
      return;
    }
    case 0x90:  // EXECUTE DEVICE DIAGNOSTIC: the channel reset us already
      status_ = 0;
      error_ = ata::kDiagnosticPassed;
      intrq_ = true;
      return;
    case 0xEC: case 0x20: case 0x21: case 0x24:
      abort_with_signature(regs);
      return;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xEF:
      status_ = kReady;
      error_ = 0;
      intrq_ = true;
      return;
    case 0xE5:  // CHECK POWER MODE: active
      regs.sector_count = 0xFF;
      status_ = kReady;
      error_ = 0;
      intrq_ = true;
      return;
    default: {
      char message[64];
      std::snprintf(message, sizeof message, "atapi: unsupported ATA command 0x%02x aborted", command);
      log(message);
      abort_command();
      return;
    }
  }
}

void AtapiCdrom::start_packet(AtaRegisters& regs) {
  if (regs.feature & 0x03) {  // DMA or OVL requested: neither is implemented
    log("atapi: PACKET with DMA/overlap aborted (PIO only)");
    abort_command();
    return;
  }
  byte_limit_ = static_cast<uint32_t>(regs.lba_high) << 8 | regs.lba_mid;
  phase_ = Phase::Packet;
  packet_pos_ = 0;
  regs.sector_count = atapi::kReasonCoD;
  status_ = kReady | ata::kStatusDrq;
  error_ = 0;
}

std::array<uint16_t, 256> AtapiCdrom::identify_packet_data() const {
  std::array<uint16_t, 256> id{};
  // ATAPI (15:14 = 10), CD-ROM (12:8 = 5), removable (7), DRQ within 50 us
  // after PACKET (6:5 = 10), 12-byte packets (1:0 = 00).
  id[0] = 0x8000 | 0x05 << 8 | 0x0080 | 0x0040;
  put_ata_string(id, 10, 10, serial_);
  put_ata_string(id, 23, 4, firmware_);
  put_ata_string(id, 27, 20, model_);
  id[49] = 0x0A00;  // IORDY supported (11), LBA (9); no DMA
  id[53] = 0x0002;  // words 64-70 are valid
  id[64] = 0x0003;  // advanced PIO modes 3 and 4
  id[65] = 120;
  id[66] = 120;
  id[67] = 120;
  id[68] = 120;
  id[80] = 0x0030;  // ATA/ATAPI-4 and -5
  id[82] = 0x0210;  // DEVICE RESET (9) and PACKET (4) supported
  id[83] = 0x4000;
  id[84] = 0x4000;
  id[85] = 0x0210;  // ... and enabled
  id[87] = 0x4000;
  // Hardware reset result: device 0 passed, number determined by jumper;
  // bit 6 (device 0 answers for device 1) clear.
  id[93] = 0x400B;
  unsigned sum = 0xA5;
  for (unsigned i = 0; i < 255; ++i) sum += (id[i] & 0xFF) + (id[i] >> 8);
  id[255] = static_cast<uint16_t>(0x00A5 | ((-sum) & 0xFF) << 8);
  return id;
}

void AtapiCdrom::identify_packet() {
  const std::array<uint16_t, 256> id = identify_packet_data();
  reply_.resize(512);
  for (unsigned i = 0; i < 256; ++i) {
    reply_[2 * i] = static_cast<uint8_t>(id[i]);
    reply_[2 * i + 1] = static_cast<uint8_t>(id[i] >> 8);
  }
  reply_pos_ = 0;
  phase_ = Phase::IdentifyIn;
  status_ = kReady | ata::kStatusDrq;
  error_ = 0;
  intrq_ = true;
}

// ----------------------------------------------------------------------------
// Data register
// ----------------------------------------------------------------------------

uint32_t AtapiCdrom::read_data(unsigned size, AtaRegisters& regs) {
  if (phase_ == Phase::IdentifyIn) {
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; ++i)
      value |= uint32_t{reply_pos_ < reply_.size() ? reply_[reply_pos_++] : uint8_t{0xFF}} << (8 * i);
    if (reply_pos_ >= reply_.size()) {
      phase_ = Phase::Idle;
      status_ = kReady;  // no interrupt after the last PIO-in block
    }
    return value;
  }
  if (phase_ != Phase::DataIn) return all_ones(size);
  uint32_t value = 0;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    uint8_t byte = 0xFF;
    if (phase_ == Phase::DataIn && block_left_ > 0 && next_byte(regs, byte)) {
      --block_left_;
      --bytes_left_;
      if (block_left_ == 0) {
        if (bytes_left_ == 0) complete_ok(regs);
        else start_block(regs);
      }
    }
    value |= uint32_t{byte} << (8 * i);
  }
  return value;
}

void AtapiCdrom::write_data(unsigned size, uint32_t value, AtaRegisters& regs) {
  if (phase_ != Phase::Packet) return;  // no data-out commands
  for (unsigned i = 0; i < size && i < 4 && packet_pos_ < kPacketSize; ++i)
    packet_[packet_pos_++] = static_cast<uint8_t>(value >> (8 * i));
  if (packet_pos_ == kPacketSize) run_packet(regs);
}

// ----------------------------------------------------------------------------
// Packet protocol
// ----------------------------------------------------------------------------

void AtapiCdrom::complete_ok(AtaRegisters& regs) {
  phase_ = Phase::Idle;
  bytes_left_ = block_left_ = 0;
  regs.sector_count = atapi::kReasonCoD | atapi::kReasonIo;
  status_ = kReady;
  error_ = 0;
  intrq_ = true;
}

void AtapiCdrom::check_condition(AtaRegisters& regs, uint8_t key, uint8_t asc, uint8_t ascq) {
  sense_ = Sense{key, asc, ascq};
  phase_ = Phase::Idle;
  bytes_left_ = block_left_ = 0;
  regs.sector_count = atapi::kReasonCoD | atapi::kReasonIo;
  status_ = kReady | ata::kStatusErr;
  error_ = static_cast<uint8_t>(key << 4);
  intrq_ = true;
}

bool AtapiCdrom::require_medium(AtaRegisters& regs) {
  if (has_medium()) return false;
  check_condition(regs, scsi::kNotReady, scsi::kAscMediumNotPresent);
  return true;
}

void AtapiCdrom::send_reply(AtaRegisters& regs, std::vector<uint8_t> reply, uint32_t allocation_length) {
  if (reply.size() > allocation_length) reply.resize(allocation_length);
  reply_ = std::move(reply);
  reply_pos_ = 0;
  source_ = Source::Reply;
  bytes_left_ = reply_.size();
  sense_ = Sense{};
  if (bytes_left_ == 0) {
    complete_ok(regs);
    return;
  }
  phase_ = Phase::DataIn;
  start_block(regs);
}

void AtapiCdrom::send_sectors(AtaRegisters& regs, uint64_t lba, uint32_t count) {
  source_ = Source::Sectors;
  next_lba_ = lba;
  sector_pos_ = kSectorSize;  // nothing buffered yet
  bytes_left_ = uint64_t{count} * kSectorSize;
  sense_ = Sense{};
  if (bytes_left_ == 0) {
    complete_ok(regs);
    return;
  }
  phase_ = Phase::DataIn;
  start_block(regs);
}

// Opens the next DRQ block: at most the byte count limit, an even number of
// bytes unless it is the rest of the transfer. A limit of 0 is treated as
// the largest even value (0xFFFE), as drivers that leave it 0 expect.
void AtapiCdrom::start_block(AtaRegisters& regs) {
  uint32_t limit = byte_limit_ == 0 ? 0xFFFE : byte_limit_;
  uint32_t block;
  if (bytes_left_ <= limit) {
    block = static_cast<uint32_t>(bytes_left_);
  } else {
    block = limit & ~1u;
    if (block == 0) block = 2;  // a limit of 1 cannot be honoured with a 16-bit data port
  }
  block_left_ = block;
  regs.lba_mid = static_cast<uint8_t>(block);
  regs.lba_high = static_cast<uint8_t>(block >> 8);
  regs.sector_count = atapi::kReasonIo;
  status_ = kReady | ata::kStatusDrq;
  error_ = 0;
  intrq_ = true;
}

bool AtapiCdrom::next_byte(AtaRegisters& regs, uint8_t& byte) {
  if (source_ == Source::Reply) {
    byte = reply_pos_ < reply_.size() ? reply_[reply_pos_++] : 0;
    return true;
  }
  if (sector_pos_ >= kSectorSize) {
    if (!medium_ || !medium_->read(next_lba_, 1, sector_.data())) {
      if (medium_) log(medium_->last_error());
      check_condition(regs, scsi::kMediumError, scsi::kAscUnrecoveredReadError);
      return false;
    }
    ++next_lba_;
    sector_pos_ = 0;
  }
  byte = sector_[sector_pos_++];
  return true;
}

void AtapiCdrom::run_packet(AtaRegisters& regs) {
  phase_ = Phase::Idle;
  const uint8_t opcode = packet_[0];
  // A pending unit attention fails the first command that is not allowed
  // to bypass it (SPC: INQUIRY and REQUEST SENSE; MMC: GET CONFIGURATION
  // and GET EVENT STATUS NOTIFICATION).
  const bool bypasses_attention = opcode == 0x12 || opcode == 0x03 || opcode == 0x46 || opcode == 0x4A;
  if (unit_attention_ && !bypasses_attention) {
    unit_attention_ = false;
    check_condition(regs, scsi::kUnitAttention, scsi::kAscMediumMayHaveChanged);
    return;
  }
  dispatch(regs);
}

void AtapiCdrom::dispatch(AtaRegisters& regs) {
  const uint8_t* p = packet_.data();
  switch (p[0]) {
    case 0x00:  // TEST UNIT READY
      if (require_medium(regs)) return;
      sense_ = Sense{};
      complete_ok(regs);
      return;
    case 0x03: cmd_request_sense(regs); return;
    case 0x12: cmd_inquiry(regs); return;
    case 0x1B: cmd_start_stop(regs); return;
    case 0x1E:  // PREVENT ALLOW MEDIUM REMOVAL
      prevent_removal_ = p[4] & 0x01;
      sense_ = Sense{};
      complete_ok(regs);
      return;
    case 0x25: cmd_read_capacity(regs); return;
    case 0x28: cmd_read(regs, be32(p + 2), be16(p + 7)); return;   // READ(10)
    case 0xA8: cmd_read(regs, be32(p + 2), be32(p + 6)); return;   // READ(12)
    case 0x2B: cmd_seek(regs); return;
    case 0x43: cmd_read_toc(regs); return;
    case 0x46: cmd_get_configuration(regs); return;
    case 0x4A: cmd_get_event_status(regs); return;
    case 0x5A: cmd_mode_sense(regs); return;
    case 0xBB:  // SET CD SPEED: there is no speed to set
      sense_ = Sense{};
      complete_ok(regs);
      return;
    default: {
      char message[64];
      std::snprintf(message, sizeof message, "atapi: unsupported packet command 0x%02x", p[0]);
      log(message);
      check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidOpcode);
      return;
    }
  }
}

// ----------------------------------------------------------------------------
// Packet commands
// ----------------------------------------------------------------------------

void AtapiCdrom::cmd_request_sense(AtaRegisters& regs) {
  Sense s = sense_;
  if (unit_attention_) {
    s = Sense{scsi::kUnitAttention, scsi::kAscMediumMayHaveChanged, 0};
    unit_attention_ = false;
  }
  std::vector<uint8_t> r(18, 0);
  r[0] = 0x70;  // current error, fixed format
  r[2] = s.key;
  r[7] = 10;    // additional sense length
  r[12] = s.asc;
  r[13] = s.ascq;
  send_reply(regs, std::move(r), packet_[4]);  // clears the sense data
}

void AtapiCdrom::cmd_inquiry(AtaRegisters& regs) {
  const uint8_t* p = packet_.data();
  if ((p[1] & 0x01) || p[2] != 0) {  // EVPD / page code: no vital product data pages
    check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
    return;
  }
  std::vector<uint8_t> r;
  r.push_back(0x05);  // CD/DVD device, connected
  r.push_back(0x80);  // removable medium
  r.push_back(0x00);  // no SCSI version claimed (ATAPI)
  r.push_back(0x21);  // ATAPI transport version 2, response data format 1
  r.push_back(31);    // additional length: 36 bytes in all
  r.push_back(0);
  r.push_back(0);
  r.push_back(0);
  append_text(r, "POPEK", 8);
  append_text(r, model_, 16);
  append_text(r, firmware_, 4);
  send_reply(regs, std::move(r), be16(p + 3));
}

void AtapiCdrom::cmd_start_stop(AtaRegisters& regs) {
  const bool load_eject = packet_[4] & 0x02;
  const bool start = packet_[4] & 0x01;
  if (load_eject) {
    if (!start) {  // open the tray
      if (prevent_removal_) {
        check_condition(regs, scsi::kIllegalRequest, scsi::kAscMediumRemovalPrevented, 0x02);
        return;
      }
      if (!tray_open_ && medium_) media_event_ = 3;  // media removal
      tray_open_ = true;
    } else if (tray_open_) {  // close it; the medium (if any) is back
      tray_open_ = false;
      if (medium_) {
        unit_attention_ = true;
        media_event_ = 2;  // new media
      }
    }
  }
  sense_ = Sense{};
  complete_ok(regs);
}

void AtapiCdrom::insert(std::unique_ptr<CdromImage> medium) {
  medium_ = std::move(medium);
  tray_open_ = false;
  unit_attention_ = true;
  media_event_ = medium_ ? 2 : 3;
}

void AtapiCdrom::cmd_read_capacity(AtaRegisters& regs) {
  if (require_medium(regs)) return;
  std::vector<uint8_t> r(8, 0);
  const uint64_t last = medium_->sector_count() - 1;
  put_be32(r, 0, static_cast<uint32_t>(std::min<uint64_t>(last, 0xFFFFFFFF)));
  put_be32(r, 4, kSectorSize);
  send_reply(regs, std::move(r), 8);
}

void AtapiCdrom::cmd_read(AtaRegisters& regs, uint64_t lba, uint32_t count) {
  if (require_medium(regs)) return;
  const uint64_t capacity = medium_->sector_count();
  if (lba > capacity || count > capacity - lba) {
    check_condition(regs, scsi::kIllegalRequest, scsi::kAscLbaOutOfRange);
    return;
  }
  send_sectors(regs, lba, count);
}

void AtapiCdrom::cmd_seek(AtaRegisters& regs) {
  if (require_medium(regs)) return;
  if (be32(packet_.data() + 2) >= medium_->sector_count()) {
    check_condition(regs, scsi::kIllegalRequest, scsi::kAscLbaOutOfRange);
    return;
  }
  sense_ = Sense{};
  complete_ok(regs);
}

// One data track (track 1, ADR 1, control 4: data, copy prohibited) from LBA
// 0, and the lead-out at the end of the medium.
void AtapiCdrom::cmd_read_toc(AtaRegisters& regs) {
  if (require_medium(regs)) return;
  const uint8_t* p = packet_.data();
  const bool msf = p[1] & 0x02;
  // MMC puts the format in byte 2; older SFF-8020 drivers in byte 9 bits 7:6.
  uint8_t format = p[2] & 0x0F;
  if (format == 0) format = p[9] >> 6;
  const uint8_t start_track = p[6];
  const uint64_t leadout = medium_->sector_count();
  std::vector<uint8_t> r = {0, 0, 1, 1};  // length (filled below), first and last track/session
  auto descriptor = [&](uint8_t track, uint64_t lba) {
    r.push_back(0);
    r.push_back(0x14);
    r.push_back(track);
    r.push_back(0);
    append_address(r, lba, msf);
  };
  switch (format) {
    case 0:  // TOC
      if (start_track > 1 && start_track != 0xAA) {
        check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
        return;
      }
      if (start_track <= 1) descriptor(1, 0);
      descriptor(0xAA, leadout);
      break;
    case 1:  // session information: the first track of the last session
      descriptor(1, 0);
      break;
    default:
      check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
      return;
  }
  put_be16(r, 0, static_cast<uint32_t>(r.size() - 2));
  send_reply(regs, std::move(r), be16(p + 7));
}

void AtapiCdrom::cmd_get_configuration(AtaRegisters& regs) {
  const uint8_t* p = packet_.data();
  const uint8_t rt = p[1] & 0x03;
  const uint16_t start = be16(p + 2);
  if (rt == 3) {
    check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
    return;
  }
  const bool medium = has_medium();
  struct Feature {
    uint16_t code;
    uint8_t version;
    bool current;
    std::vector<uint8_t> data;
  };
  const uint8_t loading = 0x20 | 0x08 | 0x01 | (prevent_removal_ ? 0x02 : 0);  // tray, eject, lock
  const std::vector<Feature> features = {
      {kFeatureProfileList, 0, true, {0x00, 0x08, static_cast<uint8_t>(medium ? 1 : 0), 0}},
      {kFeatureCore, 0, true, {0, 0, 0, 2}},  // physical interface: ATAPI
      {kFeatureMorphing, 0, true, {0, 0, 0, 0}},
      {kFeatureRemovableMedium, 0, true, {loading, 0, 0, 0}},
      {kFeatureRandomReadable, 0, medium, {0, 0, 0x08, 0x00, 0x00, 0x01, 0, 0}},  // 2048-byte blocks, blocking 1
      {kFeatureCdRead, 0, medium, {0, 0, 0, 0}},
  };
  std::vector<uint8_t> r(8, 0);
  put_be16(r, 6, medium ? kProfileCdRom : 0);
  for (const Feature& f : features) {
    if (f.code < start) continue;
    if (rt == 1 && !f.current) continue;
    if (rt == 2 && f.code != start) continue;
    append_be16(r, f.code);
    // Version in bits 5:2, persistent (1) for the always-current features, current (0).
    const bool persistent = f.code <= kFeatureRemovableMedium;
    r.push_back(static_cast<uint8_t>(f.version << 2 | (persistent ? 0x02 : 0) | (f.current ? 0x01 : 0)));
    r.push_back(static_cast<uint8_t>(f.data.size()));
    r.insert(r.end(), f.data.begin(), f.data.end());
  }
  put_be32(r, 0, static_cast<uint32_t>(r.size() - 4));
  send_reply(regs, std::move(r), be16(p + 7));
}

void AtapiCdrom::cmd_get_event_status(AtaRegisters& regs) {
  const uint8_t* p = packet_.data();
  if (!(p[1] & 0x01)) {  // asynchronous operation is not supported
    check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
    return;
  }
  constexpr uint8_t kMediaClass = 0x10;
  std::vector<uint8_t> r;
  if (p[4] & kMediaClass) {
    r = {0, 6, 4, kMediaClass};  // 6 bytes follow; media class event
    r.push_back(media_event_);
    r.push_back(static_cast<uint8_t>((has_medium() ? 0x02 : 0) | (tray_open_ ? 0x01 : 0)));
    r.push_back(0);
    r.push_back(0);
    media_event_ = 0;
  } else {
    r = {0, 2, 0x80, kMediaClass};  // no event available for the requested classes
  }
  send_reply(regs, std::move(r), be16(p + 7));
}

std::vector<uint8_t> AtapiCdrom::mode_page(uint8_t page, bool changeable) const {
  std::vector<uint8_t> r;
  if (page == 0x01) {  // read error recovery parameters
    r = {0x01, 0x0A, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};  // 5 read retries
  } else if (page == 0x2A) {  // CD capabilities and mechanical status
    r.assign(20, 0);
    r[0] = 0x2A;
    r[1] = 0x12;
    r[4] = 0x40;  // multi-session
    r[6] = static_cast<uint8_t>(0x20 | 0x08 | 0x01 | (prevent_removal_ ? 0x02 : 0));  // tray, eject, lock
    put_be16(r, 8, 1412);   // maximum read speed (kB/s, 8x)
    put_be16(r, 12, 512);   // buffer size (KiB)
    put_be16(r, 14, 1412);  // current read speed
  }
  if (changeable && !r.empty()) std::fill(r.begin() + 2, r.end(), 0);  // nothing can be changed
  return r;
}

void AtapiCdrom::cmd_mode_sense(AtaRegisters& regs) {
  const uint8_t* p = packet_.data();
  const uint8_t control = p[2] >> 6;
  const uint8_t page = p[2] & 0x3F;
  if (control == 3) {
    check_condition(regs, scsi::kIllegalRequest, scsi::kAscSavingNotSupported);
    return;
  }
  std::vector<uint8_t> r(8, 0);  // mode parameter header(10), no block descriptors
  r[2] = has_medium() ? 0x01 : 0x70;  // 120 mm CD-ROM data / door closed, no disc
  const bool changeable = control == 1;
  if (page == 0x3F) {
    for (uint8_t code : {uint8_t{0x01}, uint8_t{0x2A}}) {
      std::vector<uint8_t> pg = mode_page(code, changeable);
      r.insert(r.end(), pg.begin(), pg.end());
    }
  } else {
    std::vector<uint8_t> pg = mode_page(page, changeable);
    if (pg.empty()) {
      check_condition(regs, scsi::kIllegalRequest, scsi::kAscInvalidFieldInCdb);
      return;
    }
    r.insert(r.end(), pg.begin(), pg.end());
  }
  put_be16(r, 0, static_cast<uint32_t>(r.size() - 2));
  send_reply(regs, std::move(r), be16(p + 7));
}

}  // namespace popek
