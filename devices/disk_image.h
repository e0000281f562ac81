// DiskImage: the backing store of an emulated disk, in 512-byte sectors.
//
// Three ways to open a raw image file:
//   ReadWrite  guest writes go straight to the file (pwrite, write-through);
//   ReadOnly   guest writes fail (the drive reports an error);
//   Snapshot   the file is opened read-only and guest writes go to an
//              in-memory overlay of sectors; the file is never modified.
// A blank in-memory image (no file, all zero) serves tests and scratch disks.
// A ReadWrite image holds an exclusive flock() on the file, the other modes a
// shared one, so two emulators cannot write the same image at once.
//
// Every access is range-checked against the image size before any I/O:
// nothing outside [0, sector_count) is ever read or written. Errors are
// returned as values (false, or a message for open()); nothing here throws
// or aborts on a guest-controlled value.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <sys/types.h>

namespace popek {

// pread/pwrite the whole range, retrying short transfers and EINTR. After a
// failed pread, errno is 0 if the read ran into the end of the file.
// Shared by the disk and CD-ROM images.
bool pread_all(int fd, uint8_t* buffer, size_t length, off_t offset);
bool pwrite_all(int fd, const uint8_t* buffer, size_t length, off_t offset);

class DiskImage {
 public:
  static constexpr uint32_t kSectorSize = 512;
  enum class Mode : uint8_t { ReadWrite, ReadOnly, Snapshot };

  struct OpenResult {
    std::unique_ptr<DiskImage> image;  // null on failure
    std::string error;                 // "disk.img: size 1000 is not a multiple of 512 bytes"
  };
  // Opens `path`. The size must be a non-zero multiple of 512 bytes.
  static OpenResult open(const std::string& path, Mode mode);
  // A zero-filled image of `sectors` sectors held in memory (writable).
  static std::unique_ptr<DiskImage> blank(uint64_t sectors);

  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  uint64_t sector_count() const { return sectors_; }
  Mode mode() const { return mode_; }
  bool writable() const { return mode_ != Mode::ReadOnly; }
  const std::string& path() const { return path_; }

  // Reads/writes `count` sectors starting at `lba` into/from `buffer`
  // (count * 512 bytes). Returns false, touching nothing, when the range is
  // outside the image, the image is read-only (writes), or host I/O failed.
  bool read(uint64_t lba, uint32_t count, uint8_t* buffer);
  bool write(uint64_t lba, uint32_t count, const uint8_t* buffer);
  // Makes written data durable (fdatasync in ReadWrite mode).
  bool flush();

  // Sectors held in the snapshot overlay (Snapshot and blank images).
  size_t overlay_sectors() const { return overlay_.size(); }
  // The last host I/O error, for logs.
  const std::string& last_error() const { return last_error_; }

 private:
  DiskImage(std::string path, Mode mode, int fd, uint64_t sectors);
  bool in_range(uint64_t lba, uint32_t count) const { return lba <= sectors_ && count <= sectors_ - lba; }
  bool read_base(uint64_t lba, uint8_t* sector);

  std::string path_;
  Mode mode_;
  int fd_;  // -1 for a blank in-memory image
  uint64_t sectors_;
  std::unordered_map<uint64_t, std::array<uint8_t, kSectorSize>> overlay_;  // Snapshot/blank writes
  std::string last_error_;
};

}  // namespace popek
