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
//  - FSCALE: the integer scale is adjusted by 24576; beyond that, a signed
//    infinity or zero (as measured on hardware);
//  - FPREM/FPREM1: the remainder is exact, so the masked (denormal) result
//    is rescaled;
//  - FSIN/FPTAN/FSINCOS/F2XM1 (underflow of a tiny argument) and
//    FYL2X/FYL2XP1/FPATAN (linear in ST(1)): the instruction is rerun with
//    the linear operand rescaled and the result scaled back.
// tests/core/test_interp_x87_trap*.cpp compare all of these with the
// hardware's own trapped results.
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

// FSCALE by more than the bias can absorb: hardware delivers a signed
// infinity (overflow, C1=1) or zero (underflow), inexact, whatever the
// rounding mode (measured; the SDM does not say).
bool beyond_bias(const Float80& a, bool overflow, Float80& out, uint16_t& sw_bits) {
  const uint16_t sign = a.sign_exponent & 0x8000;
  out = overflow ? Float80{0x8000000000000000ull, static_cast<uint16_t>(sign | 0x7fff), {}}
                 : Float80{0, sign, {}};
  sw_bits = static_cast<uint16_t>(swb::PE | (overflow ? swb::C1 : 0));
  return true;
}

}  // namespace

namespace {

// Runs (opcode, modrm) with ST(0)=a, ST(1)=b under `cw` (masked) and reads
// physical register `result_phys` (0: where ST(0) was, 1: where ST(1) was).
bool run_on_host(uint8_t opcode, uint8_t modrm, const Float80& a, const Float80& b, uint16_t cw,
                 unsigned result_phys, Float80& out, uint16_t& sw_bits) {
  HostFpuImage img{};
  img.cw = 0xffff0000u | cw | cwb::MASKS;
  img.sw = 0xffff0000u;
  img.tw = 0xfffffff0u;  // R0 = ST(0), R1 = ST(1) in use
  store80(a, img.st[0]);
  store80(b, img.st[1]);
  host_execute_reg(opcode, modrm, img, 0);
  if (img.sw & (swb::IE | swb::OE | swb::UE)) return false;
  const unsigned top = (img.sw >> 11) & 7;
  out = load80(img.st[(result_phys - top) & 7]);
  sw_bits = static_cast<uint16_t>(img.sw & (swb::PE | swb::C1));
  return true;
}

// v * 2^by, exactly; false if v is zero/special or the result leaves the range.
bool rescale(const Float80& v, int by, Float80& out) {
  Unpacked u;
  if (!unpack(v, u) || !in_range(u.exp + by)) return false;
  out = pack(u.sign, u.exp + by, u.mant);
  return true;
}

bool biased_two_operand(const BiasInput& in, int total, Float80& out, uint16_t& sw_bits) {
  Float80 a2{}, b2{};
  bool ok = false;
  switch (in.op) {
    case Arith::Add: case Arith::Sub: case Arith::SubR:
      ok = joint_scale(in.a, in.b, total, a2, b2);
      break;
    case Arith::Mul:
      ok = split_scale(in.a, in.b, total, false, a2, b2);
      break;
    case Arith::DivR:  // b / a: scale the dividend up by `total`
      ok = split_scale(in.b, in.a, total, true, b2, a2);
      break;
    default:
      ok = split_scale(in.a, in.b, total, true, a2, b2);
      break;
  }
  if (!ok) return false;
  static constexpr uint8_t kReg[] = {0, 0, 1, 4, 5, 6, 7};  // D8 /reg by Arith
  const uint8_t modrm = static_cast<uint8_t>(0xC1 | (kReg[static_cast<int>(in.op)] << 3));
  return run_on_host(0xD8, modrm, a2, b2, in.cw, 0, out, sw_bits);
}

// FSIN, FPTAN, FSINCOS, F2XM1 of a tiny ST(0): f(x * 2^k) / 2^k, with
// x * 2^k still tiny enough (2^-1000) for f to be linear to far beyond
// 64 bits, so the rounding is that of f(x) with an unbounded exponent.
bool biased_tiny_argument(const BiasInput& in, Float80& out, uint16_t& sw_bits) {
  Unpacked x;
  if (in.overflow || !unpack(in.a, x)) return false;
  const int k = -1000 - x.exp;
  Float80 r;
  if (!run_on_host(in.opcode, in.modrm, pack(x.sign, -1000, x.mant), in.b, in.cw, 0, r, sw_bits)) return false;
  return rescale(r, kBias - k, out);
}

// FYL2X, FYL2XP1 (ST(1) * g(ST(0))) and FPATAN (atan(ST(1) / ST(0))): the
// result is linear in ST(1), which is scaled back into range; FYL2XP1 is
// also linear in a tiny ST(0) (log2(1 + x) ~ x / ln 2), scaled to 2^-1000.
bool biased_factor(const BiasInput& in, int total, Float80& out, uint16_t& sw_bits) {
  Unpacked y, x;
  if (!unpack(in.b, y)) return false;
  int ky = -y.exp, kx = 0;  // ST(1) near 1
  Float80 a2 = in.a;
  if (in.modrm == 0xF3) {  // FPATAN: keep ST(1)/ST(0) tiny (2^-1000)
    if (in.overflow || !unpack(in.a, x)) return false;
    ky = x.exp - 1000 - y.exp;
  } else if (in.modrm == 0xF9 && unpack(in.a, x) && x.exp < -1000) {
    kx = -1000 - x.exp;
    a2 = pack(x.sign, -1000, x.mant);
  }
  if (!in_range(y.exp + ky)) return false;
  Float80 r;
  if (!run_on_host(in.opcode, in.modrm, a2, pack(y.sign, y.exp + ky, y.mant), in.cw, 1, r, sw_bits))
    return false;
  return rescale(r, total - ky - kx, out);
}

}  // namespace

bool biased_result(const BiasInput& in, Float80& out, uint16_t& sw_bits) {
  const int total = in.overflow ? -kBias : kBias;
  switch (in.op) {
    case Arith::None:
      return false;
    case Arith::Scale: {
      Float80 b2;
      if (!scale_operand(in.b, total, b2) || !run_on_host(0xD9, 0xFD, in.a, b2, in.cw, 0, out, sw_bits))
        return beyond_bias(in.a, in.overflow, out, sw_bits);
      return true;
    }
    case Arith::Remainder:  // exact: the masked (denormal) remainder, rescaled
      sw_bits = 0;
      return !in.overflow && rescale(in.masked, kBias, out);
    case Arith::TinyArgument:
      return biased_tiny_argument(in, out, sw_bits);
    case Arith::Factor:
      return biased_factor(in, total, out, sw_bits);
    default:
      return biased_two_operand(in, total, out, sw_bits);
  }
}

}  // namespace popek::x87
