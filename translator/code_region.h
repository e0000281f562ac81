// CodeRegion: the host memory of the translation cache, and the only code
// that writes to it.
//
// W^X. No page of the region is ever writable and executable in one
// mapping (WxMode::Dual, the default): one memfd is mapped twice, a
// read+execute view that generated code runs from (every address emitted
// into code, every Block::code, is in it) and a read+write view that
// write() copies through. The write view is placed at a random address,
// so its distance from the execute view is not predictable from a leaked
// code address. WxMode::Mprotect keeps one read+execute mapping and makes
// the written pages read+write (not executable) for the duration of each
// write(); WxMode::Off maps the region read+write+execute (the original
// behaviour, kept to measure the cost of the other two).
//
// Layout of each view (guards are PROT_NONE and never backed by memory):
//
//   [guard][runtime area][guard][block area][guard]
//
// so a run off either end of an area, or from the block area into the
// run-time routines, faults instead of executing or overwriting neighbours.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace popek::dbt {

enum class WxMode : uint8_t { Dual, Mprotect, Off };
const char* to_string(WxMode mode);
// "dual", "mprotect" or "off"; false for anything else.
bool parse_wx_mode(std::string_view text, WxMode& out);

class CodeRegion {
 public:
  static constexpr size_t kPageBytes = 4096;
  static constexpr size_t kGuardBytes = 16 * kPageBytes;

  // Throws std::bad_alloc when the address space cannot be reserved, and
  // std::runtime_error (naming the system call) when a mapping fails.
  CodeRegion(size_t runtime_bytes, size_t block_bytes, WxMode mode = WxMode::Dual);
  ~CodeRegion();
  CodeRegion(const CodeRegion&) = delete;
  CodeRegion& operator=(const CodeRegion&) = delete;

  // Addresses in the execute view.
  uint8_t* runtime_base() const { return exec_ + kGuardBytes; }
  size_t runtime_bytes() const { return runtime_bytes_; }
  uint8_t* block_base() const { return exec_ + kGuardBytes + runtime_span_ + kGuardBytes; }
  size_t block_bytes() const { return block_bytes_; }
  WxMode mode() const { return mode_; }
  // Inside the run-time area or the block area of the execute view.
  bool contains(const void* p) const { return in_runtime(p, 1) || in_blocks(p, 1); }

  // Copies `size` bytes to `dst` (an execute-view address) through the
  // write view. [dst, dst + size) must lie inside one area; anything else
  // is a translator bug and throws std::logic_error, writing nothing.
  void write(const void* dst, const void* src, size_t size);

  // The whole reservation of each view, guards included (tests).
  const uint8_t* exec_reservation() const { return exec_; }
  const uint8_t* write_reservation() const { return write_; }
  size_t reservation_bytes() const { return reserved_; }

 private:
  bool in_runtime(const void* p, size_t n) const;
  bool in_blocks(const void* p, size_t n) const;
  void map_views();

  WxMode mode_;
  size_t runtime_bytes_, block_bytes_;  // as asked
  size_t runtime_span_, block_span_;    // rounded to pages
  size_t reserved_ = 0;                 // guard + runtime + guard + blocks + guard
  uint8_t* exec_ = nullptr;             // reservation of the execute view
  uint8_t* write_ = nullptr;            // reservation of the write view (Dual), else exec_
};

}  // namespace popek::dbt
