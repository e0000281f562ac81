#include "devices/disk_image.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace popek {

bool pread_all(int fd, uint8_t* buffer, size_t length, off_t offset) {
  errno = 0;  // a short read at end of file leaves errno alone
  while (length > 0) {
    ssize_t n = ::pread(fd, buffer, length, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer += n;
    length -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

bool pwrite_all(int fd, const uint8_t* buffer, size_t length, off_t offset) {
  while (length > 0) {
    ssize_t n = ::pwrite(fd, buffer, length, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer += n;
    length -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

DiskImage::DiskImage(std::string path, Mode mode, int fd, uint64_t sectors)
    : path_(std::move(path)), mode_(mode), fd_(fd), sectors_(sectors) {}

DiskImage::~DiskImage() {
  if (fd_ >= 0) ::close(fd_);
}

DiskImage::OpenResult DiskImage::open(const std::string& path, Mode mode) {
  OpenResult result;
  const int flags = (mode == Mode::ReadWrite ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    result.error = path + ": cannot open " + (mode == Mode::ReadWrite ? "read-write" : "read-only") +
                   ": " + std::strerror(errno);
    return result;
  }
  // Advisory lock, as QEMU takes one: a writer excludes everyone, readers
  // (read-only and snapshot users) share. File systems without flock
  // support are not an error.
  if (::flock(fd, (mode == Mode::ReadWrite ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    result.error = path + ": image is locked by another user" +
                   (mode == Mode::ReadWrite ? " (open it with --snapshot to share it)" : "");
    ::close(fd);
    return result;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    result.error = path + ": not a regular file or block device";
    ::close(fd);
    return result;
  }
  // lseek to the end works for regular files and block devices alike.
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    result.error = path + ": cannot determine size: " + std::strerror(errno);
    ::close(fd);
    return result;
  }
  if (size == 0) {
    result.error = path + ": image is empty";
    ::close(fd);
    return result;
  }
  if (size % kSectorSize != 0) {
    result.error = path + ": size " + std::to_string(size) + " is not a multiple of 512 bytes";
    ::close(fd);
    return result;
  }
  result.image.reset(new DiskImage(path, mode, fd, static_cast<uint64_t>(size) / kSectorSize));
  return result;
}

std::unique_ptr<DiskImage> DiskImage::blank(uint64_t sectors) {
  return std::unique_ptr<DiskImage>(new DiskImage("(blank)", Mode::Snapshot, -1, sectors));
}

bool DiskImage::read_base(uint64_t lba, uint8_t* sector) {
  if (fd_ < 0) {
    std::memset(sector, 0, kSectorSize);
    return true;
  }
  if (!pread_all(fd_, sector, kSectorSize, static_cast<off_t>(lba * kSectorSize))) {
    last_error_ = path_ + ": read error at sector " + std::to_string(lba) + ": " +
                  (errno ? std::strerror(errno) : "unexpected end of file");
    return false;
  }
  return true;
}

bool DiskImage::read(uint64_t lba, uint32_t count, uint8_t* buffer) {
  if (!in_range(lba, count)) return false;
  if (mode_ != Mode::Snapshot && fd_ >= 0) {
    if (!pread_all(fd_, buffer, size_t{count} * kSectorSize, static_cast<off_t>(lba * kSectorSize))) {
      last_error_ = path_ + ": read error at sector " + std::to_string(lba) + ": " +
                    (errno ? std::strerror(errno) : "unexpected end of file");
      return false;
    }
    return true;
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* sector = buffer + size_t{i} * kSectorSize;
    auto it = overlay_.find(lba + i);
    if (it != overlay_.end()) {
      std::memcpy(sector, it->second.data(), kSectorSize);
    } else if (!read_base(lba + i, sector)) {
      return false;
    }
  }
  return true;
}

bool DiskImage::write(uint64_t lba, uint32_t count, const uint8_t* buffer) {
  if (!in_range(lba, count) || mode_ == Mode::ReadOnly) return false;
  if (mode_ == Mode::ReadWrite) {
    if (!pwrite_all(fd_, buffer, size_t{count} * kSectorSize, static_cast<off_t>(lba * kSectorSize))) {
      last_error_ = path_ + ": write error at sector " + std::to_string(lba) + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  for (uint32_t i = 0; i < count; ++i)
    std::memcpy(overlay_[lba + i].data(), buffer + size_t{i} * kSectorSize, kSectorSize);
  return true;
}

bool DiskImage::flush() {
  if (mode_ != Mode::ReadWrite || fd_ < 0) return true;
  if (::fdatasync(fd_) != 0) {
    last_error_ = path_ + ": flush failed: " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace popek
