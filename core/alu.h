// Host-executed ALU primitives for the reference interpreter.
//
// Every integer operation whose flags the translator leaves to the host CPU
// (it emits the same instruction on host registers) is computed here by that
// same host instruction, through GCC inline asm. The guest's arithmetic flags
// are loaded into the host's RFLAGS first and read back afterwards, so:
//   - defined flags are exact;
//   - flags the SDM calls "undefined" get whatever this host produces, which
//     is what translated code produces too (the interpreter is the oracle the
//     translator is diffed against, so they must agree);
//   - flags an instruction leaves unchanged (INC/DEC's CF, a rotate's SF/ZF/
//     AF/PF, any shift by a count of 0) keep the guest's values.
// Shift and rotate counts are masked to 5 bits by the host itself (it does so
// for 8/16/32-bit operands in 64-bit mode, exactly as an i686 does).
//
// `bits` is the operand width: 8, 16 or 32 (16 or 32 where the instruction has
// no byte form). `flags_in` is the guest EFLAGS; only its arithmetic bits
// (flag::ARITH) are used. Returned flags are masked to flag::ARITH.
//
// Division never executes a faulting host DIV: divide() checks for a zero
// divisor and quotient overflow first and reports them, and the caller raises
// the guest's #DE.
#pragma once
#include <cstdint>

namespace popek::alu {

struct Result {
  uint32_t value;
  uint32_t flags;
};

// Two results: MUL/IMUL (lo, hi halves), DIV/IDIV (quotient, remainder),
// XADD (new destination, new source).
struct Pair {
  uint32_t first;
  uint32_t second;
  uint32_t flags;
};

// Same order as the ModRM.reg field of opcodes 80-83 (ADD OR ADC SBB AND SUB
// XOR CMP); TEST has no slot there.
enum class BinaryOp : uint8_t { Add, Or, Adc, Sbb, And, Sub, Xor, Cmp, Test };
// CMP and TEST return the first operand unchanged as `value`.
Result binary(BinaryOp op, unsigned bits, uint32_t a, uint32_t b, uint32_t flags_in);

enum class UnaryOp : uint8_t { Inc, Dec, Neg, Not };
Result unary(UnaryOp op, unsigned bits, uint32_t a, uint32_t flags_in);

// How a shift count or bit offset is encoded. Some flags the SDM leaves
// undefined come out differently for the different encodings of the same
// operation (e.g. the OF of a multi-bit rotate by imm8 vs by CL), so the
// guest's encoding is replayed exactly (see alu_shift.cpp).
enum class CountForm : uint8_t {
  Cl,    // D2/D3, SHLD/SHRD 0F A5/AD: count in CL
  One,   // D0/D1: by 1 (count ignored)
  Imm8,  // C0/C1 ib, SHLD/SHRD 0F A4/AC ib
};

// Same order as the ModRM.reg field of opcodes C0/C1/D0-D3 (SAL is the /6
// alias of SHL, kept distinct because it is replayed as encoded).
enum class ShiftOp : uint8_t { Rol, Ror, Rcl, Rcr, Shl, Shr, Sal, Sar };
// `memory`: the guest's destination is a memory operand (replayed as one).
Result shift(ShiftOp op, unsigned bits, uint32_t value, uint8_t count, uint32_t flags_in,
             CountForm form = CountForm::Cl, bool memory = false);

// SHLD (left) / SHRD: `dst` shifted by `count`, filled from `src`. 16/32 bits.
Result double_shift(bool left, unsigned bits, uint32_t dst, uint32_t src, uint8_t count,
                    uint32_t flags_in, CountForm form = CountForm::Cl, bool memory = false);

// One-operand MUL/IMUL: accumulator * src -> {low half, high half}. For 8 bits
// the product is AX, returned as {AL, AH}.
Pair multiply(bool is_signed, unsigned bits, uint32_t accumulator, uint32_t src,
              uint32_t flags_in);
// Two/three-operand IMUL (truncated product). 16/32 bits.
Result imul_truncated(unsigned bits, uint32_t a, uint32_t b, uint32_t flags_in);

// DIV/IDIV of `dividend` (AX, DX:AX or EDX:EAX as a zero-extended value) by
// `divisor`. Returns false, without touching the host divider, when the
// divisor is 0 or the quotient does not fit: the caller raises #DE.
bool divide(bool is_signed, unsigned bits, uint64_t dividend, uint32_t divisor, uint32_t flags_in,
            Pair& out);

// BT BTS BTR BTC on a register-sized value; `offset` is taken modulo `bits` by
// the host (callers resolve memory bit offsets beyond the operand first).
// `imm_form` replays the 0F BA /4-/7 ib encoding instead of 0F A3/AB/B3/BB;
// `memory` the memory-operand form (`value` is then the unit holding the bit).
enum class BitOp : uint8_t { Bt, Bts, Btr, Btc };
Result bit_test(BitOp op, unsigned bits, uint32_t value, uint32_t offset, uint32_t flags_in,
                bool imm_form = false, bool memory = false);

// BSF/BSR: `dst` is the destination's old value, returned unchanged when
// `src` is 0 (as the host does). 16/32 bits.
Result bit_scan(bool reverse, unsigned bits, uint32_t dst, uint32_t src, uint32_t flags_in);

// BSWAP. The 16-bit form is undefined in the SDM; this returns what the host's
// 66-prefixed BSWAP does (on current Intel and AMD parts the low 16 bits
// become 0). The caller writes only the low 16 bits.
uint32_t byte_swap(unsigned bits, uint32_t value);

// XADD: {dst + src, old dst}, with ADD's flags.
Pair exchange_add(unsigned bits, uint32_t dst, uint32_t src, uint32_t flags_in);

// CMPXCHG: compares the accumulator with dst. Equal: ZF=1, dst = src.
// Not equal: ZF=0, accumulator = dst. Flags as CMP accumulator, dst.
struct CompareExchange {
  uint32_t accumulator;
  uint32_t dst;
  uint32_t flags;
};
CompareExchange compare_exchange(unsigned bits, uint32_t accumulator, uint32_t dst, uint32_t src,
                                 uint32_t flags_in);

// CMPXCHG8B: compares EDX:EAX with the 64-bit `mem`. Equal: ZF=1, mem =
// ECX:EBX. Not equal: ZF=0, EDX:EAX = mem. Only ZF changes.
struct CompareExchange8b {
  uint64_t edx_eax;
  uint64_t mem;
  uint32_t flags;
};
CompareExchange8b compare_exchange_8b(uint64_t edx_eax, uint64_t ecx_ebx, uint64_t mem,
                                      uint32_t flags_in);

// ---- BCD (emulated in C++: these opcodes do not exist in 64-bit mode) ----
// Results and defined flags follow the SDM pseudo-code. The flags it leaves
// undefined are set as an Intel P6-or-later CPU sets them; this was measured
// by running every AX x AF x CF input (and every other input flag) natively
// in 32-bit mode on the development host, and the formulas below reproduce
// that table exactly.
struct BcdResult {
  uint16_t ax;
  uint32_t flags;  // arithmetic flags after the instruction
  bool divide_error;  // AAM with base 0
};
// DAA/DAS: AL adjusted; SF ZF PF from AL, AF CF per SDM; OF = 0.
BcdResult daa(uint16_t ax, uint32_t flags_in);
BcdResult das(uint16_t ax, uint32_t flags_in);
// AAA/AAS: AX adjusted (AX +/- 0x106 form), AF = CF per SDM; OF = SF = 0,
// ZF and PF from the final AL.
BcdResult aaa(uint16_t ax, uint32_t flags_in);
BcdResult aas(uint16_t ax, uint32_t flags_in);
// AAM: SF ZF PF from AL; OF = AF = CF = 0. Base 0 reports divide_error.
BcdResult aam(uint16_t ax, uint8_t base, uint32_t flags_in);
// AAD: all six flags are those of the 8-bit ADD AL + (AH * base).
BcdResult aad(uint16_t ax, uint8_t base, uint32_t flags_in);

}  // namespace popek::alu
