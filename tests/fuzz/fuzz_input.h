// A cursor over a libFuzzer input: typed reads that return 0 once the bytes
// run out, so a harness never reads past the end and every input is valid.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace popek::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | u8() << 8); }
  uint32_t u32() { return u16() | static_cast<uint32_t>(u16()) << 16; }
  // Up to `n` bytes (fewer at the end of the input).
  std::vector<uint8_t> bytes(size_t n) {
    n = n < remaining() ? n : remaining();
    std::vector<uint8_t> out(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return out;
  }
  // The rest of the input.
  std::vector<uint8_t> rest() { return bytes(remaining()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace popek::fuzz
