// Types shared by the differential-testing harness: the guest state a
// snippet starts from and ends in, the result of one run on one executor,
// and the snippet itself (instructions with symbolic forward targets, so a
// snippet can be re-assembled truncated when a divergence is localized).
//
// All three executors (Popek's interpreter, Unicorn, the real CPU through
// tests/native/native_runner) see the same flat 32-bit user-mode layout,
// defined in tests/native/native_protocol.h.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/native/native_protocol.h"

namespace popek::diff {

constexpr uint32_t kDataBase = DIFF_DATA_BASE;
constexpr uint32_t kDataSize = DIFF_DATA_SIZE;
constexpr uint32_t kStackBase = DIFF_STACK_BASE;
constexpr uint32_t kStackSize = DIFF_STACK_SIZE;
constexpr uint32_t kCodeBase = DIFF_CODE_BASE;
constexpr uint32_t kCodeMax = DIFF_CODE_MAX;
constexpr uint32_t kInitialEsp = kStackBase + kStackSize / 2;

// EFLAGS bits a snippet can observe or change in user mode and that the
// harness compares: CF PF AF ZF SF OF, DF, IF (always 1 at CPL 3), NT, ID.
constexpr uint32_t kComparedFlags = 0x00204ed5u;
constexpr uint32_t kArithFlags = 0x000008d5u;

struct GuestState {
  std::array<uint32_t, 8> regs{};  // EAX ECX EDX EBX ESP EBP ESI EDI
  uint32_t eflags = 0x202;
  std::array<uint8_t, kDataSize> data{};
  std::array<uint8_t, kStackSize> stack{};
};

struct RunResult {
  GuestState state;        // at the end, or before the faulting instruction
  bool faulted = false;
  uint8_t vector = 0;      // exception vector when faulted
  uint32_t eip = 0;        // snippet end, or the faulting instruction
  bool hung = false;       // ran out of its step budget
  bool unicorn_unrunnable = false;  // Unicorn was stopped before a form that would crash it
  std::string note;        // executor-specific detail ("no handler", "unicorn: ...")
};

// One generated instruction. Branches and label-valued immediates carry a
// fixup resolved at assembly time against the instruction index `target`
// (an index equal to the instruction count, or beyond a truncation point,
// means the snippet end).
struct SnippetInsn {
  enum class Fixup : uint8_t { None, Rel8, Rel32, Abs32 };
  std::vector<uint8_t> bytes;
  Fixup fixup = Fixup::None;
  uint8_t fixup_at = 0;  // byte offset of the fixup field
  int target = -1;
};

struct Snippet {
  std::vector<SnippetInsn> insns;
  GuestState init;

  // Machine code of the first `count` instructions (all when count is
  // larger than the snippet), loaded at kCodeBase. Short Jcc/JMP whose
  // target is out of rel8 range are widened to rel32. `offsets` receives
  // each instruction's address and, last, the end address.
  std::vector<uint8_t> assemble(size_t count = SIZE_MAX, std::vector<uint32_t>* offsets = nullptr) const;
};

}  // namespace popek::diff
