// Shared scaffolding for the x87 tests (test_interp_x87*.cpp): encoders for
// the x87 forms the tests use, guest memory helpers for 80/64/32-bit values,
// and a native reference that runs an operation on the host x87 directly
// (written independently of core/x87_host.cpp, with GCC's own mnemonics).
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <optional>
#include <vector>

#include "core/x87_model.h"
#include "tests/core/interp_fixture.h"

namespace popek::test {

using Bytes = std::vector<uint8_t>;

inline long double ld_from(uint64_t mantissa, uint16_t sign_exponent) {
  long double v = 0;
  std::memcpy(&v, &mantissa, 8);
  std::memcpy(reinterpret_cast<uint8_t*>(&v) + 8, &sign_exponent, 2);
  return v;
}
inline Float80 f80(long double v) {
  Float80 f{};
  std::memcpy(&f.mantissa, &v, 8);
  std::memcpy(&f.sign_exponent, reinterpret_cast<uint8_t*>(&v) + 8, 2);
  return f;
}
inline bool same_bits(const Float80& a, const Float80& b) {
  return a.mantissa == b.mantissa && a.sign_exponent == b.sign_exponent;
}
inline ::testing::AssertionResult bits_eq(const Float80& got, const Float80& want) {
  if (same_bits(got, want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << std::hex << "got " << got.sign_exponent << ":" << got.mantissa
                                       << " want " << want.sign_exponent << ":" << want.mantissa;
}

constexpr Float80 kIndefinite{0xC000000000000000ull, 0xFFFF, {}};

inline bool same_state(const X87State& a, const X87State& b) {
  if (a.cw != b.cw || a.sw != b.sw || a.tw != b.tw || a.fop != b.fop || a.fip != b.fip || a.fcs != b.fcs ||
      a.fds != b.fds || a.fdp != b.fdp)
    return false;
  for (int i = 0; i < 8; ++i)
    if (!same_bits(a.st[i], b.st[i])) return false;
  return true;
}

// Native reference: `op` with ST(0)=a, ST(1)=b under control word `cw`
// (exceptions forced masked), returning ST(0), ST(1) and the status word
// right after the instruction.
struct NativeResult {
  long double st0;
  long double st1;
  uint16_t sw;
};
enum class NativeOp {
  Add, Sub, SubR, Mul, Div, DivR,                                       // ST(0) = ST(0) op ST(1)
  Sqrt, Sin, Cos, Tan, SinCos, Atan, Yl2x, Yl2xp1, F2xm1, Scale, Prem, Prem1, Rndint, Xtract,
  LdPi, LdL2t, LdL2e, LdLg2, LdLn2,                                    // constants (pushed)
};
NativeResult native(NativeOp op, long double a, long double b, uint16_t cw);

class X87Test : public ::testing::Test, public InterpFixture {
 protected:
  static constexpr uint32_t kData = 0x3000;  // scratch operands

  // Flat 32-bit protected mode with CR0.NE and MP set and the FPU
  // initialized (the reset state has CW=0040h: every exception unmasked).
  void SetUp() override {
    flat32();
    cpu.cr0 |= cr0::NE | cr0::MP;
    fninit();
  }
  X87State& fpu() { return cpu.fpu; }
  unsigned top() const { return (cpu.fpu.sw >> 11) & 7; }
  const Float80& st(unsigned i) const { return cpu.fpu.st[(top() + i) & 7]; }
  long double st_ld(unsigned i) const { return ld_from(st(i).mantissa, st(i).sign_exponent); }
  unsigned tag_st(unsigned i) const { return (cpu.fpu.tw >> (2 * ((top() + i) & 7))) & 3; }
  uint16_t sw_flags() const { return cpu.fpu.sw & 0x7f; }
  bool c(unsigned n) const {  // condition code C0..C3
    static constexpr uint16_t bit[] = {x87::swb::C0, x87::swb::C1, x87::swb::C2, x87::swb::C3};
    return cpu.fpu.sw & bit[n];
  }

  // Executes the one instruction `code` at CS:EIP through its handler
  // without delivering a fault; returns the fault if one was raised.
  // Code stays in [1000h, 2010h) so that it never overwrites test data.
  std::optional<GuestFault> run(const Bytes& code) {
    if (cpu.eip >= 0x2000) cpu.eip = 0x1000;
    load(cpu.seg[CS].base + cpu.eip, code);
    return interp.execute_one();
  }
  void ok(const Bytes& code) {
    auto f = run(code);
    ASSERT_FALSE(f.has_value()) << "unexpected fault " << int(f->vector);
  }
  uint8_t fault(const Bytes& code) {
    auto f = run(code);
    return f ? f->vector : 0xff;
  }

  // ESC opcode with a memory operand at absolute `addr` (disp32 in 32-bit
  // code, disp16 in 16-bit code).
  Bytes m(uint8_t opcode, unsigned reg, uint32_t addr, const Bytes& prefix = {}) const {
    Bytes b(prefix);
    if (interp.code32()) {
      b.insert(b.end(), {opcode, static_cast<uint8_t>((reg << 3) | 5)});
      for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(addr >> (8 * i)));
    } else {
      b.insert(b.end(), {opcode, static_cast<uint8_t>((reg << 3) | 6), static_cast<uint8_t>(addr),
                         static_cast<uint8_t>(addr >> 8)});
    }
    return b;
  }

  void put80(uint32_t a, long double v) { mem.write_bytes(a, reinterpret_cast<uint8_t*>(&v), 10); }
  void put80(uint32_t a, const Float80& v) {
    mem.write_bytes(a, reinterpret_cast<const uint8_t*>(&v.mantissa), 8);
    mem.write16(a + 8, v.sign_exponent);
  }
  Float80 get80(uint32_t a) {
    Float80 v{};
    mem.read_bytes(a, reinterpret_cast<uint8_t*>(&v.mantissa), 8);
    v.sign_exponent = mem.read16(a + 8);
    return v;
  }
  uint64_t get64(uint32_t a) { return mem.read32(a) | (uint64_t(mem.read32(a + 4)) << 32); }
  void put64(uint32_t a, uint64_t v) {
    mem.write32(a, static_cast<uint32_t>(v));
    mem.write32(a + 4, static_cast<uint32_t>(v >> 32));
  }
  void put_float(uint32_t a, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    mem.write32(a, bits);
  }
  void put_double(uint32_t a, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put64(a, bits);
  }

  // Pushes an 80-bit value with FLD m80 from DS:2F00 (through the interpreter).
  void push(long double v) { push(f80(v)); }
  void push(const Float80& v) {
    put80(cpu.seg[DS].base + 0x2f00, v);
    ok(m(0xDB, 5, 0x2f00));
  }
  // FLDCW from DS:2FF0.
  void set_cw(uint16_t cw) {
    mem.write16(cpu.seg[DS].base + 0x2ff0, cw);
    ok(m(0xD9, 5, 0x2ff0));
  }
  void fninit() { ok({0xDB, 0xE3}); }
};

}  // namespace popek::test
