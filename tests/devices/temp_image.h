// Test helpers shared by the storage device tests: a temporary file with
// given contents, and recognisable sector patterns to fill it with.
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace popek::test {

// A temporary file holding `bytes`, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes, const char* tag = "popek_test") {
    std::string name = std::string("/tmp/") + tag + "_XXXXXX";
    const int fd = ::mkstemp(name.data());
    path_ = name;
    if (fd >= 0) {
      if (!bytes.empty())
        EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
      ::close(fd);
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  std::vector<uint8_t> contents() const {
    std::ifstream in(path_, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path_;
};

// `sectors` sectors of `sector_size` bytes where byte i of sector s holds
// (s * step + i) & 0xFF; with `stamp`, bytes 0-3 hold s (little-endian)
// instead, so every sector is distinct and says where it came from.
inline std::vector<uint8_t> patterned_sectors(uint32_t sectors, size_t sector_size = 512, unsigned step = 7,
                                              bool stamp = true) {
  std::vector<uint8_t> bytes(size_t{sectors} * sector_size);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>((i / sector_size) * step + i % sector_size);
  for (uint32_t s = 0; stamp && s < sectors; ++s)
    for (int b = 0; b < 4 && b < static_cast<int>(sector_size); ++b)
      bytes[size_t{s} * sector_size + b] = static_cast<uint8_t>(s >> (8 * b));
  return bytes;
}

}  // namespace popek::test
