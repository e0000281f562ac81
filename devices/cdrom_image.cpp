#include "devices/cdrom_image.h"
#include "devices/disk_image.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace popek {

namespace {
std::string io_error_text() { return errno ? std::strerror(errno) : "unexpected end of file"; }
}  // namespace

bool has_volume_recognition(const uint8_t* sector) {
  // Bytes 1-5 of a descriptor hold its standard identifier.
  static constexpr const char* kIdentifiers[] = {"CD001", "BEA01", "NSR02", "NSR03", "TEA01", "BOOT2", "CDW02"};
  for (const char* id : kIdentifiers)
    if (std::memcmp(sector + 1, id, 5) == 0) return true;
  return false;
}

CdromImage::CdromImage(std::string path, int fd, uint64_t sectors)
    : path_(std::move(path)), fd_(fd), sectors_(sectors) {}

CdromImage::~CdromImage() {
  if (fd_ >= 0) ::close(fd_);
}

CdromImage::OpenResult CdromImage::open(const std::string& path) {
  OpenResult result;
  auto fail = [&](const std::string& problem, int fd) {
    if (fd >= 0) ::close(fd);
    result.error = path + ": " + problem;
    return std::move(result);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot open: ") + std::strerror(errno), -1);
  // A shared lock: other readers are fine, a writer (an emulator using the
  // file as a hard disk) is not.
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    return fail("image is locked by another user", fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) return fail("not a regular file or block device", fd);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return fail(std::string("cannot determine size: ") + std::strerror(errno), fd);
  if (size == 0) return fail("image is empty", fd);
  if (size % kSectorSize != 0)
    return fail("size " + std::to_string(size) + " is not a multiple of 2048 bytes (not an ISO image)", fd);
  const uint64_t sectors = static_cast<uint64_t>(size) / kSectorSize;
  if (sectors <= kVolumeDescriptorSector)
    return fail("too small for an ISO image (" + std::to_string(sectors) +
                    " sectors; the volume descriptors start at sector 16)", fd);
  uint8_t sector[kSectorSize];
  if (!pread_all(fd, sector, kSectorSize, off_t{kVolumeDescriptorSector} * kSectorSize))
    return fail("read error at sector 16: " + io_error_text(), fd);
  if (!has_volume_recognition(sector))
    return fail("not an ISO 9660 or UDF image (no volume descriptor at sector 16)", fd);
  result.image.reset(new CdromImage(path, fd, sectors));
  return result;
}

std::unique_ptr<CdromImage> CdromImage::from_memory(std::vector<uint8_t> bytes) {
  const uint64_t sectors = (bytes.size() + kSectorSize - 1) / kSectorSize;
  bytes.resize(sectors * kSectorSize, 0);
  std::unique_ptr<CdromImage> image(new CdromImage("(memory)", -1, sectors));
  image->data_ = std::move(bytes);
  return image;
}

bool CdromImage::read(uint64_t lba, uint32_t count, uint8_t* buffer) {
  if (!in_range(lba, count)) {
    last_error_ = path_ + ": read of sectors " + std::to_string(lba) + "+" + std::to_string(count) +
                  " outside the image";
    return false;
  }
  const size_t bytes = size_t{count} * kSectorSize;
  if (fd_ < 0) {
    std::memcpy(buffer, data_.data() + lba * kSectorSize, bytes);
    return true;
  }
  if (!pread_all(fd_, buffer, bytes, static_cast<off_t>(lba * kSectorSize))) {
    last_error_ = path_ + ": read error at sector " + std::to_string(lba) + ": " + io_error_text();
    return false;
  }
  return true;
}

}  // namespace popek
