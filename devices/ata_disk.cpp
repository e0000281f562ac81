#include "devices/ata_disk.h"

#include <algorithm>
#include <cstdio>

namespace popek {

namespace {
constexpr uint8_t kReady = ata::kStatusDrdy | ata::kStatusDsc;

uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }

// ATA strings: two characters per word, the first in the high byte, padded
// with spaces to `words` words.
void put_string(std::array<uint16_t, 256>& id, unsigned first_word, unsigned words, const std::string& text) {
  for (unsigned i = 0; i < 2 * words; ++i) {
    const uint8_t c = i < text.size() ? static_cast<uint8_t>(text[i]) : ' ';
    uint16_t& w = id[first_word + i / 2];
    w = static_cast<uint16_t>(i % 2 == 0 ? (w & 0x00FF) | c << 8 : (w & 0xFF00) | c);
  }
}
}  // namespace

AtaDisk::AtaDisk(std::unique_ptr<DiskImage> image, std::string serial, std::string model,
                 std::string firmware)
    : image_(std::move(image)),
      serial_(std::move(serial)),
      model_(std::move(model)),
      firmware_(std::move(firmware)),
      capacity_(std::min<uint64_t>(image_ ? image_->sector_count() : 0, kMaxLba28)) {
  // Default translation: the classic 16 heads x 63 sectors, capped at 16383
  // cylinders; tiny disks get one head so that they keep a valid geometry.
  if (capacity_ >= 16 * 63) {
    default_heads_ = 16;
    default_sectors_ = 63;
    default_cylinders_ = static_cast<unsigned>(std::min<uint64_t>(capacity_ / (16 * 63), 16383));
  } else {
    default_heads_ = 1;
    default_sectors_ = static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(63, capacity_)));
    default_cylinders_ = static_cast<unsigned>(capacity_ / default_sectors_);
  }
  cur_cylinders_ = default_cylinders_;
  cur_heads_ = default_heads_;
  cur_sectors_ = default_sectors_;
}

void AtaDisk::reset(AtaRegisters& regs, bool hard) {
  transfer_ = Transfer::None;
  pos_ = end_ = 0;
  remaining_ = 0;
  status_ = kReady;
  error_ = ata::kDiagnosticPassed;
  intrq_ = false;
  if (hard) {
    cur_cylinders_ = default_cylinders_;
    cur_heads_ = default_heads_;
    cur_sectors_ = default_sectors_;
    multiple_ = 0;
  }
  // ATA device signature.
  regs.sector_count = 0x01;
  regs.lba_low = 0x01;
  regs.lba_mid = 0x00;
  regs.lba_high = 0x00;
  regs.device = 0x00;
}

void AtaDisk::complete(bool interrupt) {
  transfer_ = Transfer::None;
  status_ = kReady;
  error_ = 0;
  intrq_ = interrupt;
}

void AtaDisk::abort_command() {
  transfer_ = Transfer::None;
  status_ = kReady | ata::kStatusErr;
  error_ = ata::kErrorAbrt;
  intrq_ = true;
}

void AtaDisk::fail(uint8_t error, AtaRegisters& regs, uint64_t lba, bool device_fault) {
  transfer_ = Transfer::None;
  status_ = static_cast<uint8_t>(kReady | ata::kStatusErr | (device_fault ? ata::kStatusDf : 0));
  error_ = error;
  intrq_ = true;
  store_lba(regs, lba);
  regs.sector_count = static_cast<uint8_t>(remaining_);
}

void AtaDisk::execute(uint8_t command, AtaRegisters& regs) {
  // A new command abandons any transfer still in progress.
  transfer_ = Transfer::None;
  switch (command) {
    case 0x20: case 0x21: read_write(regs, /*write=*/false, 1); return;  // READ SECTORS
    case 0x30: case 0x31: read_write(regs, /*write=*/true, 1); return;   // WRITE SECTORS
    case 0x40: case 0x41: read_verify(regs); return;                     // READ VERIFY SECTORS
    case 0x90:  // EXECUTE DEVICE DIAGNOSTIC: the channel reset us already
      complete();
      error_ = ata::kDiagnosticPassed;  // diagnostic code, not an error
      return;
    case 0x91: initialize_device_parameters(regs); return;
    case 0xC4:  // READ MULTIPLE
    case 0xC5:  // WRITE MULTIPLE
      if (multiple_ == 0) {
        abort_command();  // multiple mode not enabled
        return;
      }
      read_write(regs, command == 0xC5, multiple_);
      return;
    case 0xC6: set_multiple_mode(regs); return;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: complete(); return;  // STANDBY/IDLE (IMMEDIATE)
    case 0xE5: regs.sector_count = 0xFF; complete(); return;          // CHECK POWER MODE: active
    case 0xE7:                                                        // FLUSH CACHE
      if (!image_ || !image_->flush()) {
        if (image_) log(image_->last_error());
        abort_command();
        return;
      }
      complete();
      return;
    case 0xEC: identify(); return;
    case 0xEF: complete(); return;  // SET FEATURES: every subcommand accepted, none has an effect
    default:
      if ((command & 0xF0) == 0x10) {  // RECALIBRATE (0x10-0x1F)
        complete();
        return;
      }
      char message[64];
      std::snprintf(message, sizeof message, "ata: unsupported command 0x%02x aborted", command);
      log(message);
      abort_command();
      return;
  }
}

bool AtaDisk::command_lba(const AtaRegisters& regs, uint64_t& lba) const {
  if (regs.device & ata::kDeviceLba) {
    lba = uint64_t{regs.device & 0x0Fu} << 24 | uint64_t{regs.lba_high} << 16 | uint64_t{regs.lba_mid} << 8 |
          regs.lba_low;
    return true;
  }
  const unsigned cylinder = regs.lba_high << 8 | regs.lba_mid;
  const unsigned head = regs.device & 0x0Fu;
  const unsigned sector = regs.lba_low;
  if (sector == 0 || sector > cur_sectors_ || head >= cur_heads_ || cylinder >= cur_cylinders_) return false;
  lba = (uint64_t{cylinder} * cur_heads_ + head) * cur_sectors_ + (sector - 1);
  return true;
}

void AtaDisk::store_lba(AtaRegisters& regs, uint64_t lba) const {
  if (lba_mode_) {
    regs.lba_low = static_cast<uint8_t>(lba);
    regs.lba_mid = static_cast<uint8_t>(lba >> 8);
    regs.lba_high = static_cast<uint8_t>(lba >> 16);
    regs.device = static_cast<uint8_t>((regs.device & 0xF0) | (lba >> 24 & 0x0F));
    return;
  }
  if (cur_heads_ == 0 || cur_sectors_ == 0) return;
  const uint64_t cylinder = lba / (uint64_t{cur_heads_} * cur_sectors_);
  const unsigned head = static_cast<unsigned>(lba / cur_sectors_ % cur_heads_);
  const unsigned sector = static_cast<unsigned>(lba % cur_sectors_) + 1;
  regs.lba_low = static_cast<uint8_t>(sector);
  regs.lba_mid = static_cast<uint8_t>(cylinder);
  regs.lba_high = static_cast<uint8_t>(cylinder >> 8);
  regs.device = static_cast<uint8_t>((regs.device & 0xF0) | head);
}

void AtaDisk::read_write(AtaRegisters& regs, bool write, unsigned block_sectors) {
  lba_mode_ = regs.device & ata::kDeviceLba;
  remaining_ = regs.sector_count ? regs.sector_count : 256;
  uint64_t lba = 0;
  if (!command_lba(regs, lba)) {
    // A CHS address outside the current translation: nothing to point at.
    transfer_ = Transfer::None;
    status_ = kReady | ata::kStatusErr;
    error_ = ata::kErrorIdnf;
    intrq_ = true;
    return;
  }
  if (write && (!image_ || !image_->writable())) {
    log("ata: write to a read-only image aborted");
    abort_command();
    return;
  }
  next_lba_ = lba;
  block_sectors_ = std::clamp(block_sectors, 1u, kMaxMultiple);
  disk_transfer_ = true;
  if (write) {
    open_write_block(regs);  // the first DRQ of a PIO-out command comes without an interrupt
  } else {
    load_read_block(regs);
  }
}

void AtaDisk::load_read_block(AtaRegisters& regs) {
  const unsigned n = std::min<unsigned>(block_sectors_, remaining_);
  if (next_lba_ + n > capacity_) {
    fail(ata::kErrorIdnf, regs, std::max(next_lba_, capacity_));
    return;
  }
  if (!image_->read(next_lba_, n, buffer_.data())) {
    log(image_->last_error());
    fail(ata::kErrorUnc, regs, next_lba_);
    return;
  }
  current_block_ = n;
  pos_ = 0;
  end_ = size_t{n} * kSectorSize;
  transfer_ = Transfer::PioIn;
  status_ = kReady | ata::kStatusDrq;
  error_ = 0;
  intrq_ = true;
}

void AtaDisk::open_write_block(AtaRegisters& regs) {
  const unsigned n = std::min<unsigned>(block_sectors_, remaining_);
  if (next_lba_ + n > capacity_) {
    fail(ata::kErrorIdnf, regs, std::max(next_lba_, capacity_));
    return;
  }
  current_block_ = n;
  pos_ = 0;
  end_ = size_t{n} * kSectorSize;
  transfer_ = Transfer::PioOut;
  status_ = kReady | ata::kStatusDrq;
  error_ = 0;
}

void AtaDisk::block_read_done(AtaRegisters& regs) {
  transfer_ = Transfer::None;
  if (!disk_transfer_) {  // IDENTIFY data
    status_ = kReady;
    return;
  }
  remaining_ -= current_block_;
  next_lba_ += current_block_;
  store_lba(regs, next_lba_ - 1);
  regs.sector_count = static_cast<uint8_t>(remaining_);
  if (remaining_ == 0) {
    status_ = kReady;  // no interrupt after the last PIO-in block
    return;
  }
  load_read_block(regs);
}

void AtaDisk::block_written(AtaRegisters& regs) {
  transfer_ = Transfer::None;
  if (!image_->write(next_lba_, current_block_, buffer_.data())) {
    log(image_->last_error());
    fail(ata::kErrorAbrt, regs, next_lba_, /*device_fault=*/true);
    return;
  }
  remaining_ -= current_block_;
  next_lba_ += current_block_;
  store_lba(regs, next_lba_ - 1);
  regs.sector_count = static_cast<uint8_t>(remaining_);
  if (remaining_ == 0) {
    complete();
    return;
  }
  open_write_block(regs);
  intrq_ = true;  // each further block (or the error) is announced with an interrupt
}

uint32_t AtaDisk::read_data(unsigned size, AtaRegisters& regs) {
  if (transfer_ != Transfer::PioIn) return all_ones(size);
  uint32_t value = 0;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    const uint32_t byte = pos_ < end_ && pos_ < buffer_.size() ? buffer_[pos_++] : 0xFF;
    value |= byte << (8 * i);
  }
  if (pos_ >= end_) block_read_done(regs);
  return value;
}

void AtaDisk::write_data(unsigned size, uint32_t value, AtaRegisters& regs) {
  if (transfer_ != Transfer::PioOut) return;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    if (pos_ < end_ && pos_ < buffer_.size()) buffer_[pos_++] = static_cast<uint8_t>(value >> (8 * i));
  }
  if (pos_ >= end_) block_written(regs);
}

void AtaDisk::read_verify(AtaRegisters& regs) {
  lba_mode_ = regs.device & ata::kDeviceLba;
  remaining_ = regs.sector_count ? regs.sector_count : 256;
  uint64_t lba = 0;
  if (!command_lba(regs, lba)) {
    status_ = kReady | ata::kStatusErr;
    error_ = ata::kErrorIdnf;
    intrq_ = true;
    return;
  }
  if (lba + remaining_ > capacity_) {
    remaining_ = static_cast<uint32_t>(lba >= capacity_ ? remaining_ : lba + remaining_ - capacity_);
    fail(ata::kErrorIdnf, regs, std::max(lba, capacity_));
    return;
  }
  store_lba(regs, lba + remaining_ - 1);
  remaining_ = 0;
  regs.sector_count = 0;
  complete();
}

void AtaDisk::initialize_device_parameters(AtaRegisters& regs) {
  const unsigned sectors = regs.sector_count;
  const unsigned heads = (regs.device & 0x0Fu) + 1;
  if (sectors == 0) {
    abort_command();
    return;
  }
  cur_sectors_ = sectors;
  cur_heads_ = heads;
  cur_cylinders_ = static_cast<unsigned>(std::min<uint64_t>(capacity_ / (uint64_t{heads} * sectors), 65535));
  complete();
}

void AtaDisk::set_multiple_mode(AtaRegisters& regs) {
  const unsigned n = regs.sector_count;
  if (n != 0 && (n > kMaxMultiple || (n & (n - 1)) != 0)) {
    abort_command();
    return;
  }
  multiple_ = n;  // 0 disables multiple mode
  complete();
}

std::array<uint16_t, 256> AtaDisk::identify_data() const {
  std::array<uint16_t, 256> id{};
  const uint64_t chs_capacity = uint64_t{cur_cylinders_} * cur_heads_ * cur_sectors_;
  id[0] = 0x0040;  // fixed (non-removable) ATA device
  id[1] = static_cast<uint16_t>(default_cylinders_);
  id[3] = static_cast<uint16_t>(default_heads_);
  id[4] = static_cast<uint16_t>(kSectorSize * default_sectors_);  // obsolete: bytes per track
  id[5] = kSectorSize;                                            // obsolete: bytes per sector
  id[6] = static_cast<uint16_t>(default_sectors_);
  put_string(id, 10, 10, serial_);
  id[20] = 3;    // obsolete: buffer type (dual ported, read cache)
  id[21] = 512;  // obsolete: buffer size in sectors
  id[22] = 4;    // obsolete: ECC bytes on READ/WRITE LONG
  put_string(id, 23, 4, firmware_);
  put_string(id, 27, 20, model_);
  id[47] = static_cast<uint16_t>(0x8000 | kMaxMultiple);  // READ/WRITE MULTIPLE: up to 16 sectors
  id[48] = 0x0001;  // 32-bit data transfers (host-controller dependent; QEMU reports it too)
  id[49] = 0x0A00;  // LBA supported (bit 9), IORDY supported (bit 11); no DMA
  id[50] = 0x4000;  // bit 14 shall be one
  id[51] = 0x0200;  // obsolete: PIO data transfer cycle timing mode 2
  id[53] = 0x0003;  // words 54-58 and 64-70 are valid
  id[54] = static_cast<uint16_t>(cur_cylinders_);
  id[55] = static_cast<uint16_t>(cur_heads_);
  id[56] = static_cast<uint16_t>(cur_sectors_);
  id[57] = static_cast<uint16_t>(chs_capacity);
  id[58] = static_cast<uint16_t>(chs_capacity >> 16);
  id[59] = static_cast<uint16_t>(0x0100 | multiple_);  // current multiple setting is valid
  id[60] = static_cast<uint16_t>(capacity_);
  id[61] = static_cast<uint16_t>(capacity_ >> 16);
  id[64] = 0x0003;  // advanced PIO modes 3 and 4
  id[65] = 120;     // minimum multiword DMA cycle time (ns)
  id[66] = 120;     // recommended multiword DMA cycle time
  id[67] = 120;     // minimum PIO cycle time without flow control
  id[68] = 120;     // minimum PIO cycle time with IORDY
  id[80] = 0x003E;  // ATA-1 through ATA-5
  id[82] = 0x0000;  // no optional feature sets (SMART, security, ...)
  id[83] = 0x5000;  // bit 14 shall be one; FLUSH CACHE supported (bit 12)
  id[84] = 0x4000;  // bit 14 shall be one
  id[85] = 0x0000;
  id[86] = 0x1000;  // FLUSH CACHE
  id[87] = 0x4000;  // bit 14 shall be one
  // Integrity word: signature 0xA5 and a checksum making all 512 bytes sum to 0.
  unsigned sum = 0xA5;
  for (unsigned i = 0; i < 255; ++i) sum += (id[i] & 0xFF) + (id[i] >> 8);
  id[255] = static_cast<uint16_t>(0x00A5 | ((-sum) & 0xFF) << 8);
  return id;
}

void AtaDisk::identify() {
  const std::array<uint16_t, 256> id = identify_data();
  for (unsigned i = 0; i < 256; ++i) {
    buffer_[2 * i] = static_cast<uint8_t>(id[i]);
    buffer_[2 * i + 1] = static_cast<uint8_t>(id[i] >> 8);
  }
  disk_transfer_ = false;
  remaining_ = 0;
  pos_ = 0;
  end_ = kSectorSize;
  transfer_ = Transfer::PioIn;
  status_ = kReady | ata::kStatusDrq;
  error_ = 0;
  intrq_ = true;
}

}  // namespace popek
