// Shifts, rotates, SHLD/SHRD and BT/BTS/BTR/BTC with the guest's exact
// encoding.
//
// The flags the SDM leaves undefined for these instructions depend on the
// encoding on real hardware: on current Intel parts a multi-bit ROR by an
// immediate leaves OF alone while the same ROR by CL recomputes it, and the
// imm8 forms of BT* differ from the register-offset forms. The translator
// replays the guest's own encoding, so the interpreter must too; and a
// memory destination behaves differently from a register (a multi-bit
// rotate by imm8 of a memory operand recomputes OF). The instruction is
// therefore emitted as raw bytes with the guest's opcode and ModRM.reg (so
// the SAL alias /6 stays SAL) on fixed operands: the value in EAX or, for a
// memory destination, in a local copy addressed by [RSI]; the SHLD/SHRD
// source or BT* offset in EDX; the count in CL. An immediate count comes
// from a table with one instantiation per count 0..31 (the CPU masks counts
// to 5 bits before using them).
#include <array>
#include <cstddef>
#include <utility>

#include "core/alu.h"
#include "core/alu_internal.h"

namespace popek::alu {

using namespace detail;

namespace {

// value op= count, where the value is EAX (register form) or the dword at
// [RSI] (memory form, a copy of the guest's operand: some undefined flags
// differ between the two forms too). `arg` is the count for CL forms, the
// source (EDX) for double shifts. Returns the host RFLAGS.
using HostOp = uint64_t (*)(uint32_t& value, uint32_t arg, uint64_t fin);
using CountTable = std::array<HostOp, 32>;

// ModRM byte selecting EAX (mod 11, r/m 000) or [RSI] (mod 00, r/m 110).
constexpr unsigned modrm_for(bool mem, unsigned reg) { return mem ? ((reg << 3) | 6) : (0xc0 | (reg << 3)); }

// Runs `bytes` (a string literal using %c[m] for the ModRM byte and, where
// needed, %c[n] for an immediate) on `value` in EAX or [RSI].
#define POPEK_ENCODED(bytes, ...)                                                               \
  do {                                                                                          \
    uint32_t cell = value;                                                                      \
    uint32_t* ptr = &cell;                                                                      \
    asm(POPEK_FLAGS_IN bytes POPEK_FLAGS_OUT                                                    \
        : "+a"(value), [fout] "=r"(fout)                                                        \
        : "S"(ptr), [fin] "r"(fin), __VA_ARGS__                                                 \
        : "cc", "memory");                                                                      \
    if (Mem) value = cell;                                                                      \
  } while (0)

// ---------------------------------------------------------------- group 2 (C0 C1 D0-D3)

template <unsigned Bits, bool Mem, unsigned Reg, unsigned Count>
uint64_t shift_imm(uint32_t& value, uint32_t, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, Reg);
  if constexpr (Bits == 8) POPEK_ENCODED(".byte 0xc0, %c[m], %c[n]", [m] "i"(m), [n] "i"(Count));
  else if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0xc1, %c[m], %c[n]", [m] "i"(m), [n] "i"(Count));
  else POPEK_ENCODED(".byte 0xc1, %c[m], %c[n]", [m] "i"(m), [n] "i"(Count));
  return fout;
}

template <unsigned Bits, bool Mem, unsigned Reg>
uint64_t shift_one(uint32_t& value, uint32_t, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, Reg);
  if constexpr (Bits == 8) POPEK_ENCODED(".byte 0xd0, %c[m]", [m] "i"(m));
  else if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0xd1, %c[m]", [m] "i"(m));
  else POPEK_ENCODED(".byte 0xd1, %c[m]", [m] "i"(m));
  return fout;
}

template <unsigned Bits, bool Mem, unsigned Reg>
uint64_t shift_cl(uint32_t& value, uint32_t count, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, Reg);
  if constexpr (Bits == 8) POPEK_ENCODED(".byte 0xd2, %c[m]", [m] "i"(m), "c"(count));
  else if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0xd3, %c[m]", [m] "i"(m), "c"(count));
  else POPEK_ENCODED(".byte 0xd3, %c[m]", [m] "i"(m), "c"(count));
  return fout;
}

// ---------------------------------------------------------------- SHLD/SHRD (0F A4/A5, 0F AC/AD)

// ModRM reg = EDX (the source), r/m = EAX or [RSI] (the destination).
template <unsigned Bits, bool Mem, bool Left, unsigned Count>
uint64_t double_shift_imm(uint32_t& value, uint32_t src, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, 2), o = Left ? 0xa4 : 0xac;
  if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0x0f, %c[o], %c[m], %c[n]", [o] "i"(o), [m] "i"(m), [n] "i"(Count), "d"(src));
  else POPEK_ENCODED(".byte 0x0f, %c[o], %c[m], %c[n]", [o] "i"(o), [m] "i"(m), [n] "i"(Count), "d"(src));
  return fout;
}

template <unsigned Bits, bool Mem, bool Left>
uint64_t double_shift_cl(uint32_t& value, uint32_t src, uint8_t count, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, 2), o = Left ? 0xa5 : 0xad;
  if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0x0f, %c[o], %c[m]", [o] "i"(o), [m] "i"(m), "d"(src), "c"(count));
  else POPEK_ENCODED(".byte 0x0f, %c[o], %c[m]", [o] "i"(o), [m] "i"(m), "d"(src), "c"(count));
  return fout;
}

// ---------------------------------------------------------------- BT*

// 0F BA /4-/7 ib.
template <unsigned Bits, bool Mem, unsigned Reg, unsigned Offset>
uint64_t bit_test_imm(uint32_t& value, uint32_t, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, Reg);
  if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0x0f, 0xba, %c[m], %c[n]", [m] "i"(m), [n] "i"(Offset));
  else POPEK_ENCODED(".byte 0x0f, 0xba, %c[m], %c[n]", [m] "i"(m), [n] "i"(Offset));
  return fout;
}

// 0F A3/AB/B3/BB /r with the offset in EDX (ModRM reg 2). For the memory
// form the caller has already located the word/dword holding the bit, so
// the offset is in range and [RSI] is that unit.
template <unsigned Bits, bool Mem, unsigned Opcode>
uint64_t bit_test_reg(uint32_t& value, uint32_t offset, uint64_t fin) {
  uint64_t fout;
  constexpr unsigned m = modrm_for(Mem, 2);
  if constexpr (Bits == 16) POPEK_ENCODED(".byte 0x66, 0x0f, %c[o], %c[m]", [o] "i"(Opcode), [m] "i"(m), "d"(offset));
  else POPEK_ENCODED(".byte 0x0f, %c[o], %c[m]", [o] "i"(Opcode), [m] "i"(m), "d"(offset));
  return fout;
}

// ---------------------------------------------------------------- tables
// Index order: [memory form][operation (ModRM.reg or BitOp)][count].

template <unsigned Bits, bool Mem, unsigned Reg, std::size_t... N>
constexpr CountTable shift_row(std::index_sequence<N...>) {
  return {{&shift_imm<Bits, Mem, Reg, N>...}};
}
template <unsigned Bits, bool Mem, std::size_t... R>
constexpr std::array<CountTable, 8> shift_rows(std::index_sequence<R...>) {
  return {{shift_row<Bits, Mem, R>(std::make_index_sequence<32>{})...}};
}
template <unsigned Bits, bool Mem, std::size_t... R>
constexpr std::array<HostOp, 8> one_row(std::index_sequence<R...>) {
  return {{&shift_one<Bits, Mem, R>...}};
}
template <unsigned Bits, bool Mem, std::size_t... R>
constexpr std::array<HostOp, 8> cl_row(std::index_sequence<R...>) {
  return {{&shift_cl<Bits, Mem, R>...}};
}
template <unsigned Bits, bool Mem, bool Left, std::size_t... N>
constexpr CountTable double_shift_row(std::index_sequence<N...>) {
  return {{&double_shift_imm<Bits, Mem, Left, N>...}};
}
template <unsigned Bits, bool Mem, unsigned Reg, std::size_t... N>
constexpr CountTable bit_test_row(std::index_sequence<N...>) {
  return {{&bit_test_imm<Bits, Mem, Reg, N>...}};
}
template <unsigned Bits, bool Mem, std::size_t... R>
constexpr std::array<CountTable, 4> bit_test_rows(std::index_sequence<R...>) {
  return {{bit_test_row<Bits, Mem, 4 + R>(std::make_index_sequence<32>{})...}};
}

constexpr auto kOps8 = std::make_index_sequence<8>{};
constexpr auto kOps4 = std::make_index_sequence<4>{};
constexpr auto kCounts = std::make_index_sequence<32>{};

template <unsigned Bits>
struct WidthTables {
  std::array<CountTable, 8> imm[2] = {shift_rows<Bits, false>(kOps8), shift_rows<Bits, true>(kOps8)};
  std::array<HostOp, 8> one[2] = {one_row<Bits, false>(kOps8), one_row<Bits, true>(kOps8)};
  std::array<HostOp, 8> cl[2] = {cl_row<Bits, false>(kOps8), cl_row<Bits, true>(kOps8)};
};
const WidthTables<8> kShift8;
const WidthTables<16> kShift16;
const WidthTables<32> kShift32;

template <unsigned Bits>
struct DoubleShiftTables {
  CountTable left[2] = {double_shift_row<Bits, false, true>(kCounts), double_shift_row<Bits, true, true>(kCounts)};
  CountTable right[2] = {double_shift_row<Bits, false, false>(kCounts), double_shift_row<Bits, true, false>(kCounts)};
};
const DoubleShiftTables<16> kDouble16;
const DoubleShiftTables<32> kDouble32;

template <unsigned Bits>
struct BitTestTables {
  std::array<CountTable, 4> imm[2] = {bit_test_rows<Bits, false>(kOps4), bit_test_rows<Bits, true>(kOps4)};
  std::array<HostOp, 4> reg[2] = {
      {{&bit_test_reg<Bits, false, 0xa3>, &bit_test_reg<Bits, false, 0xab>, &bit_test_reg<Bits, false, 0xb3>,
        &bit_test_reg<Bits, false, 0xbb>}},
      {{&bit_test_reg<Bits, true, 0xa3>, &bit_test_reg<Bits, true, 0xab>, &bit_test_reg<Bits, true, 0xb3>,
        &bit_test_reg<Bits, true, 0xbb>}}};
};
const BitTestTables<16> kBitTest16;
const BitTestTables<32> kBitTest32;

}  // namespace

Result shift(ShiftOp op, unsigned bits, uint32_t value, uint8_t count, uint32_t flags_in, CountForm form,
             bool memory) {
  const unsigned reg = static_cast<unsigned>(op) & 7, mem = memory ? 1 : 0;
  HostOp f;
  switch (form) {
    case CountForm::One:
      f = bits == 8 ? kShift8.one[mem][reg] : bits == 16 ? kShift16.one[mem][reg] : kShift32.one[mem][reg];
      break;
    case CountForm::Imm8:
      f = bits == 8 ? kShift8.imm[mem][reg][count & 31]
          : bits == 16 ? kShift16.imm[mem][reg][count & 31] : kShift32.imm[mem][reg][count & 31];
      break;
    default:
      f = bits == 8 ? kShift8.cl[mem][reg] : bits == 16 ? kShift16.cl[mem][reg] : kShift32.cl[mem][reg];
      break;
  }
  const uint64_t fout = f(value, count, flags_arg(flags_in));
  return {value & mask_of(bits), flags_ret(fout)};
}

Result double_shift(bool left, unsigned bits, uint32_t dst, uint32_t src, uint8_t count, uint32_t flags_in,
                    CountForm form, bool memory) {
  const uint64_t fin = flags_arg(flags_in);
  const unsigned mem = memory ? 1 : 0;
  uint64_t fout;
  if (form == CountForm::Imm8) {
    const CountTable& t = bits == 16 ? (left ? kDouble16.left[mem] : kDouble16.right[mem])
                                     : (left ? kDouble32.left[mem] : kDouble32.right[mem]);
    fout = t[count & 31](dst, src, fin);
  } else {
    using ClOp = uint64_t (*)(uint32_t&, uint32_t, uint8_t, uint64_t);
    static constexpr ClOp kCl[2][2][2] = {  // [32-bit][memory][left]
        {{&double_shift_cl<16, false, false>, &double_shift_cl<16, false, true>},
         {&double_shift_cl<16, true, false>, &double_shift_cl<16, true, true>}},
        {{&double_shift_cl<32, false, false>, &double_shift_cl<32, false, true>},
         {&double_shift_cl<32, true, false>, &double_shift_cl<32, true, true>}}};
    fout = kCl[bits == 32][mem][left](dst, src, count, fin);
  }
  return {dst & mask_of(bits), flags_ret(fout)};
}

Result bit_test(BitOp op, unsigned bits, uint32_t value, uint32_t offset, uint32_t flags_in, bool imm_form,
                bool memory) {
  const unsigned o = static_cast<unsigned>(op) & 3, mem = memory ? 1 : 0;
  HostOp f;
  if (imm_form) f = bits == 16 ? kBitTest16.imm[mem][o][offset & 31] : kBitTest32.imm[mem][o][offset & 31];
  else f = bits == 16 ? kBitTest16.reg[mem][o] : kBitTest32.reg[mem][o];
  // A register-form offset is used modulo the operand size by the CPU; for
  // the memory form the caller passes the offset within the unit.
  const uint64_t fout = f(value, imm_form ? 0 : (offset & (bits - 1)), flags_arg(flags_in));
  return {value & mask_of(bits), flags_ret(fout)};
}

}  // namespace popek::alu
