// Disk-image fuzzer: DiskImage::open on files of any size and shape
// (truncated, not a multiple of 512, empty, sparse with a hole before the
// data, oversized), in each mode, then a program of sector reads and writes
// at fuzzed addresses, including past the end.
//
// Invariants: open() either succeeds on a non-empty multiple of 512 bytes or
// fails with one line naming the file; reads and writes outside the image
// fail and touch nothing; a sector written reads back; a read-write image
// keeps its file size; the file is never modified in snapshot or read-only
// mode.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "devices/disk_image.h"
#include "tests/fuzz/fuzz_input.h"

using namespace popek;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_disk_image: %s\n", what.c_str());
  std::abort();
}

const std::string& scratch_path() {
  static const std::string path = [] {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/popek_fuzz_disk_" + std::to_string(::getpid()) + ".img";
  }();
  return path;
}

off_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  const uint8_t shape = in.u8();
  const auto mode = static_cast<DiskImage::Mode>(shape % 3);
  // A hole of up to 1 MiB (sparse file); an odd byte count makes the size invalid.
  const uint32_t hole = (shape & 0x04) ? (in.u16() % 2048u) * 512u + ((shape & 0x08) ? in.u8() : 0) : 0;
  const std::vector<uint8_t> content = in.bytes(in.u16() % 8192);
  const std::string& path = scratch_path();

  // The file: an optional hole (sparse), then the content.
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) return 0;
  if (hole) (void)!::ftruncate(fd, hole);
  if (!content.empty()) (void)!::pwrite(fd, content.data(), content.size(), hole);
  ::close(fd);
  const off_t size_before = file_size(path);

  DiskImage::OpenResult r = DiskImage::open(path, mode);
  const bool valid = size_before > 0 && size_before % 512 == 0;
  if (valid != static_cast<bool>(r.image)) fail("open of " + std::to_string(size_before) + " bytes: " + r.error);
  if (!r.image) {
    if (r.error.rfind(path, 0) != 0 || r.error.find('\n') != std::string::npos) fail("bad error: " + r.error);
    ::unlink(path.c_str());
    return 0;
  }
  DiskImage& disk = *r.image;
  if (disk.sector_count() != static_cast<uint64_t>(size_before) / 512) fail("wrong sector count");

  std::vector<uint8_t> buffer;
  unsigned ops = 0;
  while (!in.empty() && ops++ < 64) {
    const uint8_t op = in.u8();
    // Addresses near the end of the image and far beyond it.
    uint64_t lba = op & 0x80 ? in.u32() : disk.sector_count() - 1 + static_cast<int8_t>(in.u8());
    if (op & 0x40) lba |= uint64_t{in.u32()} << 32;
    const uint32_t count = op & 0x20 ? in.u32() : in.u8() % 20;
    const bool in_range = lba <= disk.sector_count() && count <= disk.sector_count() - lba;
    if (count > 256) {  // never allocate for huge counts: they must fail the range check
      if (in_range) continue;
      uint8_t dummy[512];
      if (disk.read(lba, count, dummy) || disk.write(lba, count, dummy)) fail("huge out-of-range access accepted");
      continue;
    }
    buffer.assign(size_t{count} * 512 + 1, 0xA5);
    if (op & 1) {
      const uint8_t fill = in.u8();
      std::memset(buffer.data(), fill, size_t{count} * 512);
      const bool ok = disk.write(lba, count, buffer.data());
      if (ok != (in_range && disk.writable())) fail("write at " + std::to_string(lba) + " returned " + std::to_string(ok));
      if (ok && count) {
        std::vector<uint8_t> back(size_t{count} * 512);
        if (!disk.read(lba, count, back.data())) fail("read-back failed");
        for (uint8_t b : back)
          if (b != fill) fail("read-back differs");
      }
    } else {
      const bool ok = disk.read(lba, count, buffer.data());
      if (ok != in_range) fail("read at " + std::to_string(lba) + " returned " + std::to_string(ok));
    }
    if (buffer.back() != 0xA5) fail("access wrote past its buffer");
  }
  disk.flush();
  r.image.reset();
  if (file_size(path) != size_before) fail("image file size changed");
  if (mode != DiskImage::Mode::ReadWrite) {
    // The file must still hold exactly what was written before open().
    std::vector<uint8_t> now(static_cast<size_t>(size_before));
    int rfd = ::open(path.c_str(), O_RDONLY);
    if (rfd < 0 || ::pread(rfd, now.data(), now.size(), 0) != static_cast<ssize_t>(now.size())) fail("reread");
    ::close(rfd);
    for (size_t i = 0; i < now.size(); ++i) {
      uint8_t want = i >= hole && i - hole < content.size() ? content[i - hole] : 0;
      if (now[i] != want) fail("snapshot/read-only image modified at byte " + std::to_string(i));
    }
  }
  ::unlink(path.c_str());
  return 0;
}
