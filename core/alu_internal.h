// Inline-asm conventions shared by alu.cpp and alu_shift.cpp (private to them).
//
// Each primitive is the guest instruction itself, run on host registers
// between a load of the guest's arithmetic flags into RFLAGS and a read-back.
// The pushfq/popfq pair runs 128 bytes below RSP so that it never overwrites
// the System V red zone, where the compiler may keep locals of a leaf function;
// for the same reason every operand is a register (never an RSP-relative
// memory operand, whose displacement the RSP adjustment would invalidate).
// The asm operands must be named [fin] (guest flags in) and [fout] (out).
#pragma once
#include <cstdint>

namespace popek::alu::detail {

constexpr uint32_t kArith = 0x8d5;  // CF PF AF ZF SF OF

// ~0x8d5 as a sign-extended imm32: keeps the host's non-arithmetic flags.
#define POPEK_FLAGS_IN            \
  "lea -128(%%rsp), %%rsp\n\t"    \
  "pushfq\n\t"                    \
  "andq $-2262, (%%rsp)\n\t"      \
  "orq %[fin], (%%rsp)\n\t"       \
  "popfq\n\t"
#define POPEK_FLAGS_OUT  \
  "\n\tpushfq\n\t"       \
  "popq %[fout]\n\t"     \
  "lea 128(%%rsp), %%rsp"

// Expands MACRO(mnemonic, AT&T size suffix, operand-modifier) for the width
// held in a variable named `bits`.
#define POPEK_BY_WIDTH(MACRO, mn)            \
  switch (bits) {                            \
    case 8: MACRO(mn, "b", "b"); break;      \
    case 16: MACRO(mn, "w", "w"); break;     \
    default: MACRO(mn, "l", "k"); break;     \
  }
#define POPEK_BY_WIDTH_16_32(MACRO, mn)      \
  switch (bits) {                            \
    case 16: MACRO(mn, "w", "w"); break;     \
    default: MACRO(mn, "l", "k"); break;     \
  }

inline uint32_t mask_of(unsigned bits) { return bits >= 32 ? 0xffffffffu : (1u << bits) - 1; }
inline uint64_t flags_arg(uint32_t flags_in) { return flags_in & kArith; }
inline uint32_t flags_ret(uint64_t host) { return static_cast<uint32_t>(host) & kArith; }

}  // namespace popek::alu::detail
