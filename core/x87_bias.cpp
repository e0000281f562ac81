// Exponent-biased results for unmasked numeric overflow and underflow.
//
// SDM vol. 1, 8.5.4/8.5.5: with OE (UE) unmasked and a register
// destination, the x87 stores the correctly rounded result with its
// exponent divided (multiplied) by 2^24576, so that a handler can rescale
// it. The host can only deliver that through a trap, so it is recomputed
// here on the host with operands prescaled so that the exact result lands
// inside the 80-bit exponent range: the same rounding (PC/RC) then gives the
// same significand, PE and C1. Prescaling is exact (only exponents change):
//  - FMUL/FDIV: the 24576 is split between the two operands so both stay
//    normal (always possible when the true result overflows/underflows);
//  - FADD/FSUB: both operands move by 24576; an operand that would leave
//    the range is at least 100 binades below the other, so it only
//    contributes a sticky bit and is replaced by a tiny stand-in of the same
//    sign (same rounding in every mode);
//  - FSCALE: the integer scale is adjusted by 24576.
#include <algorithm>

#include "core/x87_model.h"

namespace popek::x87 {
namespace {

constexpr int kBias = 24576;
constexpr int kMinExp = -16382;
constexpr int kMaxExp = 16383;

// A finite non-zero value mant * 2^(exp - 63) with the integer bit set.
struct Unpacked {
  bool sign;
  int exp;
  uint64_t mant;
};

bool is_zero(const Float80& v) { return (v.sign_exponent & 0x7fff) == 0 && v.mantissa == 0; }

bool unpack(const Float80& v, Unpacked& u) {
  const int e = v.sign_exponent & 0x7fff;
  u.sign = v.sign_exponent & 0x8000;
  if (e == 0x7fff || v.mantissa == 0) return false;
  if (e == 0) {  // denormal or pseudo-denormal: exponent is that of the smallest normal
    const int shift = __builtin_clzll(v.mantissa);
    u.mant = v.mantissa << shift;
    u.exp = kMinExp - shift;
    return true;
  }
  if (!(v.mantissa >> 63)) return false;  // unnormal (an invalid operand on P6)
  u.mant = v.mantissa;
  u.exp = e - 16383;
  return true;
}

bool in_range(int e) { return e >= kMinExp && e <= kMaxExp; }

Float80 pack(bool sign, int exp, uint64_t mant) {
  Float80 v{};
  v.mantissa = mant;
  v.sign_exponent = static_cast<uint16_t>((sign ? 0x8000 : 0) | (exp + 16383));
  return v;
}

// FMUL (s_a + s_b = total) and FDIV (s_a - s_b = total).
bool split_scale(const Float80& a, const Float80& b, int total, bool divide, Float80& a2, Float80& b2) {
  Unpacked ua, ub;
  if (!unpack(a, ua) || !unpack(b, ub)) return false;
  int lo = kMinExp - ua.exp, hi = kMaxExp - ua.exp;
  const int blo = kMinExp - ub.exp, bhi = kMaxExp - ub.exp;
  if (divide) {
    lo = std::max(lo, blo + total);
    hi = std::min(hi, bhi + total);
  } else {
    lo = std::max(lo, total - bhi);
    hi = std::min(hi, total - blo);
  }
  if (lo > hi) return false;
  const int sa = std::clamp(total / 2, lo, hi);
  const int sb = divide ? sa - total : total - sa;
  a2 = pack(ua.sign, ua.exp + sa, ua.mant);
  b2 = pack(ub.sign, ub.exp + sb, ub.mant);
  return true;
}

// FADD/FSUB: both operands scaled by `total`.
bool joint_scale(const Float80& a, const Float80& b, int total, Float80& a2, Float80& b2) {
  Unpacked ua{}, ub{};
  const bool za = is_zero(a), zb = is_zero(b);
  if ((!za && !unpack(a, ua)) || (!zb && !unpack(b, ub))) return false;
  const int top = za ? ub.exp : zb ? ua.exp : std::max(ua.exp, ub.exp);
  auto one = [&](bool zero, const Float80& v, const Unpacked& u, Float80& out) {
    if (zero) {
      out = v;
      return true;
    }
    if (in_range(u.exp + total)) {
      out = pack(u.sign, u.exp + total, u.mant);
      return true;
    }
    if (u.exp < top - 100 && in_range(top + total - 200)) {
      out = pack(u.sign, top + total - 200, 1ull << 63);
      return true;
    }
    return false;
  };
  return one(za, a, ua, a2) && one(zb, b, ub, b2);
}

// FSCALE: ST(1) replaced by trunc(ST(1)) + total, as an exact integer.
bool scale_operand(const Float80& b, int total, Float80& b2) {
  int64_t n = 0;
  if (!is_zero(b)) {
    Unpacked ub;
    if (!unpack(b, ub) || ub.exp >= 62) return false;
    n = ub.exp < 0 ? 0 : static_cast<int64_t>(ub.mant >> (63 - ub.exp));
    if (ub.sign) n = -n;
  }
  n += total;
  const bool sign = n < 0;
  const uint64_t mag = static_cast<uint64_t>(sign ? -n : n);
  if (mag == 0) {
    b2 = Float80{};
    return true;
  }
  const int shift = __builtin_clzll(mag);
  b2 = pack(sign, 63 - shift, mag << shift);
  return true;
}

}  // namespace

bool biased_result(Arith op, const Float80& a, const Float80& b, uint16_t cw, bool overflow,
                   Float80& out, uint16_t& sw_bits) {
  const int total = overflow ? -kBias : kBias;
  Float80 a2{}, b2{};
  bool ok = false;
  uint8_t opcode = 0xD8, modrm = 0;
  switch (op) {
    case Arith::Add: case Arith::Sub: case Arith::SubR:
      ok = joint_scale(a, b, total, a2, b2);
      break;
    case Arith::Mul:
      ok = split_scale(a, b, total, false, a2, b2);
      break;
    case Arith::Div: case Arith::DivR: {
      // DIVR computes b / a: scale the dividend up by `total`.
      const bool reversed = op == Arith::DivR;
      ok = reversed ? split_scale(b, a, total, true, b2, a2) : split_scale(a, b, total, true, a2, b2);
      break;
    }
    case Arith::Scale:
      a2 = a;
      ok = scale_operand(b, total, b2);
      opcode = 0xD9;
      modrm = 0xFD;
      break;
    case Arith::None:
      break;
  }
  if (!ok) return false;
  if (opcode == 0xD8) {
    static constexpr uint8_t kReg[] = {0, 0, 1, 4, 5, 6, 7, 0};  // by Arith
    modrm = static_cast<uint8_t>(0xC1 | (kReg[static_cast<int>(op)] << 3));
  }
  HostFpuImage img{};
  img.cw = 0xffff0000u | cw | cwb::MASKS;
  img.sw = 0xffff0000u;
  img.tw = 0xfffffff0u;  // R0 = ST(0), R1 = ST(1) in use
  store80(a2, img.st[0]);
  store80(b2, img.st[1]);
  host_execute_reg(opcode, modrm, img, 0);
  if (img.sw & (swb::IE | swb::OE | swb::UE)) return false;
  out = load80(img.st[0]);
  sw_bits = static_cast<uint16_t>(img.sw & (swb::PE | swb::C1));
  return true;
}

}  // namespace popek::x87
