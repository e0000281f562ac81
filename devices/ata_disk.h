// An ATA hard disk (ATA/ATAPI-5 command set subset, PIO only, LBA28 and
// CHS addressing) backed by a DiskImage.
//
// Commands:
//   0x10-0x1F RECALIBRATE                 no data, completes at once
//   0x20/0x21 READ SECTORS (with/without retry)
//   0x30/0x31 WRITE SECTORS (with/without retry)
//   0x40/0x41 READ VERIFY SECTORS         range check only, no data
//   0x90      EXECUTE DEVICE DIAGNOSTIC   (dispatched by the channel to both devices)
//   0x91      INITIALIZE DEVICE PARAMETERS  sets the CHS translation (heads, sectors/track)
//   0xC4/0xC5 READ/WRITE MULTIPLE         blocks of the SET MULTIPLE size
//   0xC6      SET MULTIPLE MODE           1..16 sectors (power of two), 0 disables
//   0xE0-0xE3, 0xE5 standby/idle/CHECK POWER MODE: accepted (always active)
//   0xE7      FLUSH CACHE                 fdatasync for write-through images
//   0xEC      IDENTIFY DEVICE
//   0xEF      SET FEATURES                accepted (no effect)
// Anything else (PACKET, IDENTIFY PACKET DEVICE, 48-bit, DMA...) aborts with
// ABRT, as the standard requires of unsupported commands.
//
// Where this model departs from the standard, and why:
//  - No DMA: IDENTIFY reports PIO modes 0-4 only.
//  - Errors are reported per block: a multi-sector command that runs off the
//    end of the disk transfers the blocks before the boundary and then ends
//    with IDNF, with the failing address in the command block (as real
//    drives do). A read-only image fails writes with ABRT.
//  - Multiple mode is disabled at power-on and kept across software reset;
//    the CHS translation returns to the default geometry on a hard reset only.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "devices/disk_image.h"
#include "devices/ide.h"

namespace popek {

class AtaDisk : public IdeDevice {
 public:
  static constexpr unsigned kSectorSize = DiskImage::kSectorSize;
  static constexpr unsigned kMaxMultiple = 16;  // sectors per READ/WRITE MULTIPLE block
  static constexpr uint64_t kMaxLba28 = 0x0FFFFFFF;

  explicit AtaDisk(std::unique_ptr<DiskImage> image, std::string serial = "POPEK-0001",
                   std::string model = "POPEK HARDDISK", std::string firmware = "1.0");

  void reset(AtaRegisters& regs, bool hard) override;
  void execute(uint8_t command, AtaRegisters& regs) override;
  uint32_t read_data(unsigned size, AtaRegisters& regs) override;
  void write_data(unsigned size, uint32_t value, AtaRegisters& regs) override;

  DiskImage& image() { return *image_; }
  // Sectors addressable by LBA28 commands.
  uint64_t capacity() const { return capacity_; }
  // Default (IDENTIFY words 1, 3, 6) and current (words 54-56) geometry.
  unsigned default_cylinders() const { return default_cylinders_; }
  unsigned default_heads() const { return default_heads_; }
  unsigned default_sectors() const { return default_sectors_; }
  unsigned current_cylinders() const { return cur_cylinders_; }
  unsigned current_heads() const { return cur_heads_; }
  unsigned current_sectors() const { return cur_sectors_; }
  unsigned multiple_sectors() const { return multiple_; }
  // The IDENTIFY DEVICE data as the host reads it (word i = bytes 2i, 2i+1).
  std::array<uint16_t, 256> identify_data() const;

 private:
  enum class Transfer : uint8_t { None, PioIn, PioOut };

  void read_write(AtaRegisters& regs, bool write, unsigned block_sectors);
  void read_verify(AtaRegisters& regs);
  void initialize_device_parameters(AtaRegisters& regs);
  void set_multiple_mode(AtaRegisters& regs);
  void identify();
  // Start LBA of a read/write/verify command; false when the CHS address is
  // not valid for the current translation.
  bool command_lba(const AtaRegisters& regs, uint64_t& lba) const;
  // Writes `lba` back into the command block in the addressing mode in use.
  void store_lba(AtaRegisters& regs, uint64_t lba) const;
  // PIO in: loads the next block into the buffer (or fails the command).
  void load_read_block(AtaRegisters& regs);
  // PIO out: opens the buffer for the next block (or fails the command).
  void open_write_block(AtaRegisters& regs);
  void block_read_done(AtaRegisters& regs);
  void block_written(AtaRegisters& regs);
  void complete(bool interrupt = true);
  // Ends the command with ERR set, `error` in the error register and the
  // failing address `lba` in the command block.
  void fail(uint8_t error, AtaRegisters& regs, uint64_t lba, bool device_fault = false);
  void abort_command();

  std::unique_ptr<DiskImage> image_;
  std::string serial_, model_, firmware_;
  uint64_t capacity_;

  // Geometry: the default translation and the one INITIALIZE DEVICE PARAMETERS set.
  unsigned default_cylinders_ = 0, default_heads_ = 0, default_sectors_ = 0;
  unsigned cur_cylinders_ = 0, cur_heads_ = 0, cur_sectors_ = 0;
  unsigned multiple_ = 0;  // SET MULTIPLE MODE block size, 0 = disabled

  // PIO transfer state. The buffer holds one block; pos_ <= end_ <= buffer size.
  Transfer transfer_ = Transfer::None;
  std::array<uint8_t, kMaxMultiple * kSectorSize> buffer_{};
  size_t pos_ = 0;             // next byte the host reads or writes
  size_t end_ = 0;             // bytes in the current block
  uint64_t next_lba_ = 0;      // first sector of the current block
  uint32_t remaining_ = 0;     // sectors left in the command, including the current block
  unsigned block_sectors_ = 1;  // sectors per DRQ block for this command
  unsigned current_block_ = 0;  // sectors in the current block
  bool lba_mode_ = true;       // the command used LBA addressing (else CHS)
  bool disk_transfer_ = false;  // the PIO transfer moves disk sectors (else IDENTIFY data)
};

}  // namespace popek
