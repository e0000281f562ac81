// Support for the targeted differential tests: one short instruction
// sequence per case, run from a chosen state on Popek, Unicorn and the real
// CPU, with the same masks as the random campaign. A suite collects every
// divergence of its cases and fails with counts per comparison and the
// first few full reports.
#pragma once
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "tests/diff/campaign.h"

namespace popek::diff::targeted {

// Edge values for operands of each width.
inline const std::vector<uint32_t>& edges32() {
  static const std::vector<uint32_t> v = {0,          1,          2,          0x7f,       0x80,       0xff,
                                          0x100,      0x7fff,     0x8000,     0xffff,     0x10000,    0x12345678,
                                          0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff};
  return v;
}
inline const std::vector<uint32_t>& edges16() {
  static const std::vector<uint32_t> v = {0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff};
  return v;
}
inline const std::vector<uint32_t>& edges8() {
  static const std::vector<uint32_t> v = {0, 1, 2, 0x0f, 0x10, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff};
  return v;
}
inline const std::vector<uint32_t>& edges(unsigned bits) {
  return bits == 8 ? edges8() : bits == 16 ? edges16() : edges32();
}

// A deterministic starting state: registers zero except ESP (stack middle)
// and EBX/ESI/EDI/EBP pointing into the data area, data and stack patterned.
GuestState base_state();

class Suite {
 public:
  explicit Suite(const char* name) : name_(name) {}
  // Runs one case. `native_only`: the result is architecturally undefined
  // (e.g. 16-bit BSWAP), so only the real CPU can judge Popek.
  void run(const std::vector<uint8_t>& code, const GuestState& init, bool native_only = false);
  // Fails the current test if any case diverged.
  void expect_clean();
  uint64_t cases() const { return cases_; }

 private:
  struct PairLog {
    uint64_t divergent = 0;
    std::map<std::string, uint64_t> by_culprit;
    std::vector<std::string> reports;
  };
  const char* name_;
  uint64_t cases_ = 0;
  uint64_t unicorn_skipped_ = 0;
  PairLog pu_, pn_, un_;
};

// The process-wide harness (one Popek, Unicorn and native runner).
DiffHarness& harness();

// Byte-vector concatenation for building cases.
inline std::vector<uint8_t> bytes(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace popek::diff::targeted
