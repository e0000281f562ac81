// Host-executed ALU primitives (see alu.h for the contract; the inline-asm
// conventions are in alu_internal.h). Shifts, rotates, double shifts and bit
// tests, whose undefined flags depend on the encoding, are in alu_shift.cpp.
#include "core/alu.h"

#include <climits>

#include "core/alu_internal.h"

namespace popek::alu {

using namespace detail;

namespace {

constexpr uint32_t CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80;

}  // namespace

// ---------------------------------------------------------------- ADD..TEST

#define POPEK_ASM_BINARY(mn, sfx, m)                                            \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[b], %" m "[a]" POPEK_FLAGS_OUT             \
      : [a] "+r"(a), [fout] "=r"(fout)                                         \
      : [b] "r"(b), [fin] "r"(fin)                                             \
      : "cc")

Result binary(BinaryOp op, unsigned bits, uint32_t a, uint32_t b, uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  const uint32_t original = a;
  switch (op) {
    case BinaryOp::Add: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "add"); break;
    case BinaryOp::Or: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "or"); break;
    case BinaryOp::Adc: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "adc"); break;
    case BinaryOp::Sbb: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "sbb"); break;
    case BinaryOp::And: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "and"); break;
    case BinaryOp::Sub: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "sub"); break;
    case BinaryOp::Xor: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "xor"); break;
    case BinaryOp::Cmp: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "cmp"); a = original; break;
    case BinaryOp::Test: POPEK_BY_WIDTH(POPEK_ASM_BINARY, "test"); a = original; break;
  }
  return {a & mask_of(bits), flags_ret(fout)};
}

// ---------------------------------------------------------------- INC DEC NEG NOT

#define POPEK_ASM_UNARY(mn, sfx, m)                                  \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[a]" POPEK_FLAGS_OUT             \
      : [a] "+r"(a), [fout] "=r"(fout)                              \
      : [fin] "r"(fin)                                              \
      : "cc")

Result unary(UnaryOp op, unsigned bits, uint32_t a, uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  switch (op) {
    case UnaryOp::Inc: POPEK_BY_WIDTH(POPEK_ASM_UNARY, "inc"); break;
    case UnaryOp::Dec: POPEK_BY_WIDTH(POPEK_ASM_UNARY, "dec"); break;
    case UnaryOp::Neg: POPEK_BY_WIDTH(POPEK_ASM_UNARY, "neg"); break;
    case UnaryOp::Not: POPEK_BY_WIDTH(POPEK_ASM_UNARY, "not"); break;
  }
  return {a & mask_of(bits), flags_ret(fout)};
}

// ---------------------------------------------------------------- multiply

// 8-bit: AL * src -> AX (hi stays unused). 16/32-bit: (E)AX * src -> (E)DX:(E)AX.
#define POPEK_ASM_MULTIPLY(mn, sfx, m)                               \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[s]" POPEK_FLAGS_OUT             \
      : "+a"(lo), "+d"(hi), [fout] "=r"(fout)                       \
      : [s] "r"(src), [fin] "r"(fin)                                \
      : "cc")

Pair multiply(bool is_signed, unsigned bits, uint32_t accumulator, uint32_t src, uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  uint32_t lo = accumulator, hi = 0;
  if (is_signed) {
    POPEK_BY_WIDTH(POPEK_ASM_MULTIPLY, "imul");
  } else {
    POPEK_BY_WIDTH(POPEK_ASM_MULTIPLY, "mul");
  }
  if (bits == 8) return {lo & 0xff, (lo >> 8) & 0xff, flags_ret(fout)};
  return {lo & mask_of(bits), hi & mask_of(bits), flags_ret(fout)};
}

#define POPEK_ASM_IMUL2(mn, sfx, m)                                  \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[b], %" m "[a]" POPEK_FLAGS_OUT  \
      : [a] "+r"(a), [fout] "=r"(fout)                              \
      : [b] "r"(b), [fin] "r"(fin)                                  \
      : "cc")

Result imul_truncated(unsigned bits, uint32_t a, uint32_t b, uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  POPEK_BY_WIDTH_16_32(POPEK_ASM_IMUL2, "imul");
  return {a & mask_of(bits), flags_ret(fout)};
}

// ---------------------------------------------------------------- divide

namespace {

// Whether the guest's DIV/IDIV would raise #DE (the host's would SIGFPE).
bool divide_faults(bool is_signed, unsigned bits, uint64_t dividend, uint32_t divisor) {
  if ((divisor & mask_of(bits)) == 0) return true;
  if (!is_signed) return dividend / (divisor & mask_of(bits)) > mask_of(bits);
  const unsigned wide = bits * 2;
  // Sign-extend the 2*bits-wide dividend and the bits-wide divisor.
  int64_t n = wide == 64 ? static_cast<int64_t>(dividend)
                         : static_cast<int64_t>(dividend << (64 - wide)) >> (64 - wide);
  int64_t d = static_cast<int64_t>(static_cast<uint64_t>(divisor) << (64 - bits)) >> (64 - bits);
  if (n == INT64_MIN && d == -1) return true;
  int64_t q = n / d;
  const int64_t max = (int64_t{1} << (bits - 1)) - 1, min = -(int64_t{1} << (bits - 1));
  return q > max || q < min;
}

}  // namespace

#define POPEK_ASM_DIVIDE(mn, sfx, m)                                 \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[s]" POPEK_FLAGS_OUT             \
      : "+a"(lo), "+d"(hi), [fout] "=r"(fout)                       \
      : [s] "r"(divisor), [fin] "r"(fin)                            \
      : "cc")

bool divide(bool is_signed, unsigned bits, uint64_t dividend, uint32_t divisor, uint32_t flags_in,
            Pair& out) {
  dividend &= bits == 32 ? ~uint64_t{0} : (uint64_t{1} << (2 * bits)) - 1;
  if (divide_faults(is_signed, bits, dividend, divisor)) return false;
  uint64_t fin = flags_arg(flags_in), fout = 0;
  uint32_t lo, hi;
  if (bits == 8) {
    lo = static_cast<uint32_t>(dividend);  // AX
    hi = 0;
  } else {
    lo = static_cast<uint32_t>(dividend) & mask_of(bits);
    hi = static_cast<uint32_t>(dividend >> bits);
  }
  if (is_signed) {
    POPEK_BY_WIDTH(POPEK_ASM_DIVIDE, "idiv");
  } else {
    POPEK_BY_WIDTH(POPEK_ASM_DIVIDE, "div");
  }
  if (bits == 8) out = {lo & 0xff, (lo >> 8) & 0xff, flags_ret(fout)};
  else out = {lo & mask_of(bits), hi & mask_of(bits), flags_ret(fout)};
  return true;
}

// ---------------------------------------------------------------- bit scan, byte swap

#define POPEK_ASM_BIT_SCAN(mn, sfx, m)                               \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[s], %" m "[d]" POPEK_FLAGS_OUT  \
      : [d] "+r"(dst), [fout] "=r"(fout)                            \
      : [s] "r"(src), [fin] "r"(fin)                                \
      : "cc")

Result bit_scan(bool reverse, unsigned bits, uint32_t dst, uint32_t src, uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  if (reverse) {
    POPEK_BY_WIDTH_16_32(POPEK_ASM_BIT_SCAN, "bsr");
  } else {
    POPEK_BY_WIDTH_16_32(POPEK_ASM_BIT_SCAN, "bsf");
  }
  return {dst & mask_of(bits), flags_ret(fout)};
}

uint32_t byte_swap(unsigned bits, uint32_t value) {
  if (bits == 16) {
    // BSWAP AX (66 0F C8): the assembler refuses the undefined form.
    asm(".byte 0x66, 0x0f, 0xc8" : "+a"(value));
    return value & 0xffff;
  }
  asm("bswap %k[v]" : [v] "+r"(value));
  return value;
}

// ---------------------------------------------------------------- XADD, CMPXCHG

#define POPEK_ASM_XADD(mn, sfx, m)                                   \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[s], %" m "[d]" POPEK_FLAGS_OUT  \
      : [d] "+r"(dst), [s] "+r"(src), [fout] "=r"(fout)             \
      : [fin] "r"(fin)                                              \
      : "cc")

Pair exchange_add(unsigned bits, uint32_t dst, uint32_t src, uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  POPEK_BY_WIDTH(POPEK_ASM_XADD, "xadd");
  return {dst & mask_of(bits), src & mask_of(bits), flags_ret(fout)};
}

#define POPEK_ASM_CMPXCHG(mn, sfx, m)                                \
  asm(POPEK_FLAGS_IN mn sfx " %" m "[s], %" m "[d]" POPEK_FLAGS_OUT  \
      : "+a"(accumulator), [d] "+r"(dst), [fout] "=r"(fout)         \
      : [s] "r"(src), [fin] "r"(fin)                                \
      : "cc")

CompareExchange compare_exchange(unsigned bits, uint32_t accumulator, uint32_t dst, uint32_t src,
                                 uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  POPEK_BY_WIDTH(POPEK_ASM_CMPXCHG, "cmpxchg");
  return {accumulator & mask_of(bits), dst & mask_of(bits), flags_ret(fout)};
}

CompareExchange8b compare_exchange_8b(uint64_t edx_eax, uint64_t ecx_ebx, uint64_t mem,
                                      uint32_t flags_in) {
  uint64_t fin = flags_arg(flags_in), fout = 0;
  uint32_t eax = static_cast<uint32_t>(edx_eax), edx = static_cast<uint32_t>(edx_eax >> 32);
  uint64_t* p = &mem;
  asm(POPEK_FLAGS_IN "cmpxchg8b (%[p])" POPEK_FLAGS_OUT
      : "+a"(eax), "+d"(edx), [fout] "=r"(fout)
      : [p] "r"(p), "b"(static_cast<uint32_t>(ecx_ebx)), "c"(static_cast<uint32_t>(ecx_ebx >> 32)),
        [fin] "r"(fin)
      : "cc", "memory");
  return {(uint64_t{edx} << 32) | eax, mem, flags_ret(fout)};
}

// ---------------------------------------------------------------- BCD

namespace {

uint32_t szp_of(uint8_t v) {
  uint32_t f = 0;
  if (v == 0) f |= ZF;
  if (v & 0x80) f |= SF;
  if (!__builtin_parity(v)) f |= PF;
  return f;
}

BcdResult with_al(uint16_t ax, uint8_t al, uint32_t flags) {
  return {static_cast<uint16_t>((ax & 0xff00) | al), flags, false};
}

}  // namespace

BcdResult daa(uint16_t ax, uint32_t flags_in) {
  const uint8_t old_al = ax & 0xff;
  const bool old_cf = flags_in & CF;
  uint8_t al = old_al;
  uint32_t f = 0;
  if ((al & 0x0f) > 9 || (flags_in & AF)) {
    al = static_cast<uint8_t>(al + 6);
    f |= AF;
  }
  if (old_al > 0x99 || old_cf) {
    al = static_cast<uint8_t>(al + 0x60);
    f |= CF;
  }
  return with_al(ax, al, f | szp_of(al));
}

BcdResult das(uint16_t ax, uint32_t flags_in) {
  const uint8_t old_al = ax & 0xff;
  const bool old_cf = flags_in & CF;
  uint8_t al = old_al;
  uint32_t f = 0;
  if ((al & 0x0f) > 9 || (flags_in & AF)) {
    if (old_cf || al < 6) f |= CF;  // unlike DAA, this borrow survives below
    al = static_cast<uint8_t>(al - 6);
    f |= AF;
  }
  if (old_al > 0x99 || old_cf) {
    al = static_cast<uint8_t>(al - 0x60);
    f |= CF;
  }
  return with_al(ax, al, f | szp_of(al));
}

BcdResult aaa(uint16_t ax, uint32_t flags_in) {
  uint32_t f = 0;
  if ((ax & 0x0f) > 9 || (flags_in & AF)) {
    ax = static_cast<uint16_t>(ax + 0x106);
    f = AF | CF;
  }
  ax &= 0xff0f;
  return {ax, f | (szp_of(ax & 0xff) & (ZF | PF)), false};
}

BcdResult aas(uint16_t ax, uint32_t flags_in) {
  uint32_t f = 0;
  if ((ax & 0x0f) > 9 || (flags_in & AF)) {
    ax = static_cast<uint16_t>(ax - 6);
    ax = static_cast<uint16_t>(ax - 0x100);
    f = AF | CF;
  }
  ax &= 0xff0f;
  return {ax, f | (szp_of(ax & 0xff) & (ZF | PF)), false};
}

BcdResult aam(uint16_t ax, uint8_t base, uint32_t flags_in) {
  if (base == 0) return {ax, flags_in & kArith, true};
  const uint8_t al = ax & 0xff;
  const uint8_t quotient = al / base, remainder = al % base;
  return {static_cast<uint16_t>((quotient << 8) | remainder), szp_of(remainder), false};
}

BcdResult aad(uint16_t ax, uint8_t base, uint32_t flags_in) {
  // The CPU adds AH * base into AL with an 8-bit ADD and keeps its flags.
  const uint8_t product = static_cast<uint8_t>((ax >> 8) * base);
  const Result sum = binary(BinaryOp::Add, 8, ax & 0xff, product, flags_in);
  return {static_cast<uint16_t>(sum.value), sum.flags, false};
}

}  // namespace popek::alu
