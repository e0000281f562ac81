// CdromImage: the medium in an emulated CD-ROM drive, a raw ISO image of
// 2048-byte sectors (what `genisoimage`, `xorriso -as mkisofs` and
// `dd if=/dev/cdrom` produce; no raw 2352-byte sectors, no cue sheets).
//
// open() checks the file before the machine starts, so the user gets one
// line naming the file and the problem instead of a guest that cannot boot:
//   - missing, unreadable, a directory, locked by a writer;
//   - empty, or a size that is not a multiple of 2048 bytes;
//   - no volume recognition at sector 16: an ISO 9660 image has a volume
//     descriptor there ("CD001"), a UDF image a volume structure descriptor
//     ("BEA01", "NSR02", "NSR03", "TEA01", "BOOT2" or "CDW02", ECMA-167).
//     This catches the common mistake of passing a hard disk image as
//     --cdrom.
// The file is opened read-only with a shared flock(), so it can be shared
// with other readers but not with an emulator writing it as a hard disk.
//
// Every read is range-checked before any I/O; nothing here throws or aborts
// on a guest-controlled value.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace popek {

class CdromImage {
 public:
  static constexpr uint32_t kSectorSize = 2048;
  // Sector 16 holds the first volume descriptor; an image must reach it.
  static constexpr uint32_t kVolumeDescriptorSector = 16;

  struct OpenResult {
    std::unique_ptr<CdromImage> image;  // null on failure
    std::string error;                  // "disc.iso: size 1000 is not a multiple of 2048 bytes"
  };
  static OpenResult open(const std::string& path);
  // An image held in memory (tests); `bytes` is padded with zeros to a
  // whole number of sectors. No volume descriptor check.
  static std::unique_ptr<CdromImage> from_memory(std::vector<uint8_t> bytes);

  ~CdromImage();
  CdromImage(const CdromImage&) = delete;
  CdromImage& operator=(const CdromImage&) = delete;

  // Number of 2048-byte sectors (the last LBA is sector_count() - 1).
  uint64_t sector_count() const { return sectors_; }
  const std::string& path() const { return path_; }
  // Reads `count` sectors from `lba` into `buffer` (count * 2048 bytes).
  // Returns false, touching nothing, when the range is outside the image or
  // host I/O failed (last_error() says why).
  bool read(uint64_t lba, uint32_t count, uint8_t* buffer);
  const std::string& last_error() const { return last_error_; }

 private:
  CdromImage(std::string path, int fd, uint64_t sectors);
  bool in_range(uint64_t lba, uint32_t count) const { return lba <= sectors_ && count <= sectors_ - lba; }

  std::string path_;
  int fd_;                     // -1 for an in-memory image
  uint64_t sectors_;
  std::vector<uint8_t> data_;  // in-memory image
  std::string last_error_;
};

// True when `sector` (2048 bytes, sector 16 of a disc) starts with an ISO
// 9660 volume descriptor or an ECMA-167 (UDF) volume structure descriptor.
bool has_volume_recognition(const uint8_t* sector);

}  // namespace popek
