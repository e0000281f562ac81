// Host-executed ALU primitives (core/alu.h) and the BCD adjusts, checked
// against values and flags worked out from the SDM.
#include <gtest/gtest.h>

#include "core/alu.h"
#include "core/cpu_state.h"
#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using alu::BinaryOp;
using alu::ShiftOp;
using namespace flag;

constexpr uint32_t kAll = ARITH;

TEST(IntegerAlu, AddSetsCarryOverflowAuxSignZeroParity) {
  auto r = alu::binary(BinaryOp::Add, 8, 0x7f, 0x01, 0);
  EXPECT_EQ(r.value, 0x80u);
  EXPECT_EQ(r.flags, OF | SF | AF);  // 0x80 has odd parity: PF=0
  r = alu::binary(BinaryOp::Add, 8, 0xff, 0x01, 0);
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.flags, CF | ZF | AF | PF);
  r = alu::binary(BinaryOp::Add, 16, 0xffff, 0x0001, 0);
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.flags, CF | ZF | AF | PF);
  r = alu::binary(BinaryOp::Add, 32, 0x7fffffff, 1, 0);
  EXPECT_EQ(r.value, 0x80000000u);
  EXPECT_EQ(r.flags, OF | SF | AF | PF);
}

TEST(IntegerAlu, AdcSbbUseIncomingCarry) {
  EXPECT_EQ(alu::binary(BinaryOp::Adc, 32, 1, 1, CF).value, 3u);
  EXPECT_EQ(alu::binary(BinaryOp::Adc, 32, 1, 1, 0).value, 2u);
  auto r = alu::binary(BinaryOp::Sbb, 16, 0, 0, CF);
  EXPECT_EQ(r.value, 0xffffu);
  EXPECT_EQ(r.flags & (CF | SF | ZF), CF | SF);
  r = alu::binary(BinaryOp::Adc, 8, 0xff, 0x00, CF);
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.flags & (CF | ZF), CF | ZF);
}

TEST(IntegerAlu, CmpAndTestDoNotChangeTheOperand) {
  auto r = alu::binary(BinaryOp::Cmp, 32, 5, 7, 0);
  EXPECT_EQ(r.value, 5u);
  EXPECT_EQ(r.flags & (CF | SF | ZF), CF | SF);
  r = alu::binary(BinaryOp::Test, 8, 0xf0, 0x0f, kAll);
  EXPECT_EQ(r.value, 0xf0u);
  EXPECT_EQ(r.flags & (CF | OF | ZF | PF | SF), ZF | PF);
}

TEST(IntegerAlu, IncDecKeepCarry) {
  auto r = alu::unary(alu::UnaryOp::Inc, 8, 0xff, CF);
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.flags & (CF | ZF), CF | ZF);
  r = alu::unary(alu::UnaryOp::Dec, 32, 0, 0);
  EXPECT_EQ(r.value, 0xffffffffu);
  EXPECT_EQ(r.flags & (CF | SF), SF);
  r = alu::unary(alu::UnaryOp::Neg, 16, 0, kAll);
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.flags & (CF | ZF), ZF);
  r = alu::unary(alu::UnaryOp::Neg, 16, 1, 0);
  EXPECT_EQ(r.value, 0xffffu);
  EXPECT_EQ(r.flags & CF, CF);
}

TEST(IntegerAlu, ShiftCountZeroLeavesFlagsAndValue) {
  for (auto op : {ShiftOp::Rol, ShiftOp::Ror, ShiftOp::Rcl, ShiftOp::Rcr, ShiftOp::Shl, ShiftOp::Shr, ShiftOp::Sar}) {
    auto r = alu::shift(op, 32, 0x12345678, 0, OF | CF | ZF);
    EXPECT_EQ(r.value, 0x12345678u);
    EXPECT_EQ(r.flags, OF | CF | ZF);
    r = alu::shift(op, 8, 0x81, 32, SF | PF);  // masked to 0
    EXPECT_EQ(r.value, 0x81u);
    EXPECT_EQ(r.flags, SF | PF);
  }
}

TEST(IntegerAlu, ShiftsAndRotates) {
  auto r = alu::shift(ShiftOp::Shl, 8, 0x81, 1, 0);
  EXPECT_EQ(r.value, 0x02u);
  EXPECT_EQ(r.flags & (CF | OF), CF | OF);
  r = alu::shift(ShiftOp::Sar, 16, 0x8000, 15, 0);
  EXPECT_EQ(r.value, 0xffffu);
  r = alu::shift(ShiftOp::Shr, 32, 0x80000001, 1, 0);
  EXPECT_EQ(r.value, 0x40000000u);
  EXPECT_EQ(r.flags & (CF | OF), CF | OF);  // OF = old MSB for SHR by 1
  // ROL keeps SF/ZF/PF/AF.
  r = alu::shift(ShiftOp::Rol, 8, 0x80, 1, ZF | SF);
  EXPECT_EQ(r.value, 0x01u);
  EXPECT_EQ(r.flags & (CF | ZF | SF), CF | ZF | SF);
  // RCL through carry: 9-bit rotate for bytes.
  r = alu::shift(ShiftOp::Rcl, 8, 0x00, 1, CF);
  EXPECT_EQ(r.value, 0x01u);
  EXPECT_EQ(r.flags & CF, 0u);
  r = alu::shift(ShiftOp::Rcr, 8, 0x01, 9, 0);  // 9 mod 9 = 0 rotations of value, but count != 0
  EXPECT_EQ(r.value, 0x01u);
  r = alu::shift(ShiftOp::Rcr, 16, 0x0001, 1, CF);
  EXPECT_EQ(r.value, 0x8000u);
  EXPECT_EQ(r.flags & CF, CF);
  // Count masked to 5 bits: 33 → 1.
  EXPECT_EQ(alu::shift(ShiftOp::Shl, 32, 1, 33, 0).value, 2u);
}

TEST(IntegerAlu, DoubleShifts) {
  auto r = alu::double_shift(true, 32, 0x12345678, 0x9abcdef0, 8, 0);
  EXPECT_EQ(r.value, 0x3456789au);
  r = alu::double_shift(false, 16, 0x1234, 0xabcd, 4, 0);
  EXPECT_EQ(r.value, 0xd123u);
  r = alu::double_shift(true, 32, 0x80000000, 0, 1, 0);
  EXPECT_EQ(r.flags & CF, CF);
  r = alu::double_shift(true, 32, 0x1, 0, 32, SF);  // count 0 after masking
  EXPECT_EQ(r.value, 1u);
  EXPECT_EQ(r.flags, SF);
}

TEST(IntegerAlu, MultiplyWidths) {
  auto p = alu::multiply(false, 8, 0x80, 0x04, 0);
  EXPECT_EQ(p.first, 0x00u);
  EXPECT_EQ(p.second, 0x02u);
  EXPECT_EQ(p.flags & (CF | OF), CF | OF);
  p = alu::multiply(true, 8, 0xff, 0x02, 0);  // -1 * 2 = -2 fits in AL
  EXPECT_EQ(p.first, 0xfeu);
  EXPECT_EQ(p.second, 0xffu);
  EXPECT_EQ(p.flags & (CF | OF), 0u);
  p = alu::multiply(false, 32, 0xffffffff, 0xffffffff, 0);
  EXPECT_EQ(p.first, 1u);
  EXPECT_EQ(p.second, 0xfffffffeu);
  p = alu::multiply(true, 16, 0x8000, 0x8000, 0);
  EXPECT_EQ(p.first, 0u);
  EXPECT_EQ(p.second, 0x4000u);
  auto r = alu::imul_truncated(16, 0x4000, 2, 0);
  EXPECT_EQ(r.value, 0x8000u);
  EXPECT_EQ(r.flags & (CF | OF), CF | OF);
  r = alu::imul_truncated(32, 0xfffffffe, 0xfffffffd, 0);  // -2 * -3
  EXPECT_EQ(r.value, 6u);
  EXPECT_EQ(r.flags & (CF | OF), 0u);
}

TEST(IntegerAlu, DivideDetectsFaultsBeforeTheHost) {
  alu::Pair p{};
  EXPECT_FALSE(alu::divide(false, 32, 1, 0, 0, p));
  EXPECT_FALSE(alu::divide(false, 8, 0x0100, 1, 0, p));   // 256/1 does not fit AL
  EXPECT_FALSE(alu::divide(true, 32, 0x8000000000000000ull, 0xffffffff, 0, p));
  EXPECT_FALSE(alu::divide(true, 32, 0xffffffff80000000ull, 0xffffffff, 0, p));  // -2^31 / -1
  ASSERT_TRUE(alu::divide(true, 32, 0x0000000080000000ull, 0xffffffff, 0, p));    // 2^31 / -1 fits
  EXPECT_EQ(p.first, 0x80000000u);
  EXPECT_FALSE(alu::divide(true, 8, 0x0080, 0x01, 0, p));  // 128 / 1 > 127
  ASSERT_TRUE(alu::divide(true, 8, 0xff80, 0x01, 0, p));   // -128 / 1 fits
  EXPECT_EQ(p.first, 0x80u);
  EXPECT_EQ(p.second, 0u);
  ASSERT_TRUE(alu::divide(false, 16, 0x00010005, 0x10, 0, p));
  EXPECT_EQ(p.first, 0x1000u);
  EXPECT_EQ(p.second, 5u);
  ASSERT_TRUE(alu::divide(true, 32, static_cast<uint64_t>(-7), 2, 0, p));
  EXPECT_EQ(p.first, static_cast<uint32_t>(-3));
  EXPECT_EQ(p.second, static_cast<uint32_t>(-1));
  ASSERT_TRUE(alu::divide(false, 32, 0xfffffffe00000001ull, 0xffffffff, 0, p));
  EXPECT_EQ(p.first, 0xffffffffu);
  EXPECT_EQ(p.second, 0u);
}

TEST(IntegerAlu, BitOps) {
  auto r = alu::bit_test(alu::BitOp::Bts, 32, 0, 35, 0);  // 35 mod 32 = 3
  EXPECT_EQ(r.value, 8u);
  EXPECT_EQ(r.flags & CF, 0u);
  r = alu::bit_test(alu::BitOp::Btr, 16, 0xffff, 15, 0);
  EXPECT_EQ(r.value, 0x7fffu);
  EXPECT_EQ(r.flags & CF, CF);
  r = alu::bit_test(alu::BitOp::Btc, 32, 1, 0, 0);
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(r.flags & CF, CF);
  r = alu::bit_scan(false, 32, 0xdead, 0x00100000, 0);
  EXPECT_EQ(r.value, 20u);
  EXPECT_EQ(r.flags & ZF, 0u);
  r = alu::bit_scan(true, 16, 0xdead, 0x0101, 0);
  EXPECT_EQ(r.value, 8u);
  r = alu::bit_scan(true, 32, 0xdeadbeef, 0, 0);
  EXPECT_EQ(r.value, 0xdeadbeefu);  // unchanged
  EXPECT_EQ(r.flags & ZF, ZF);
}

TEST(IntegerAlu, ByteSwapXaddCmpxchg) {
  EXPECT_EQ(alu::byte_swap(32, 0x12345678), 0x78563412u);
  auto p = alu::exchange_add(8, 0xf0, 0x20, 0);
  EXPECT_EQ(p.first, 0x10u);
  EXPECT_EQ(p.second, 0xf0u);
  EXPECT_EQ(p.flags & CF, CF);
  auto c = alu::compare_exchange(32, 5, 5, 9, 0);
  EXPECT_EQ(c.dst, 9u);
  EXPECT_EQ(c.accumulator, 5u);
  EXPECT_EQ(c.flags & ZF, ZF);
  c = alu::compare_exchange(16, 5, 7, 9, ZF);
  EXPECT_EQ(c.dst, 7u);
  EXPECT_EQ(c.accumulator, 7u);
  EXPECT_EQ(c.flags & (ZF | CF), CF);  // 5 - 7 borrows
  auto e = alu::compare_exchange_8b(0x1111222233334444ull, 0xaaaabbbbccccddddull, 0x1111222233334444ull, CF);
  EXPECT_EQ(e.mem, 0xaaaabbbbccccddddull);
  EXPECT_EQ(e.flags, CF | ZF);
  e = alu::compare_exchange_8b(1, 2, 3, CF | ZF);
  EXPECT_EQ(e.mem, 3u);
  EXPECT_EQ(e.edx_eax, 3u);
  EXPECT_EQ(e.flags, CF);
}

// ---------------------------------------------------------------- BCD reference
// Written straight from the SDM pseudo-code, independently of core/alu.cpp.

struct BcdRef {
  uint16_t ax;
  bool af, cf;
};

BcdRef sdm_daa(uint16_t ax, bool af, bool cf) {
  uint8_t al = ax & 0xff;
  const uint8_t old_al = al;
  const bool old_cf = cf;
  cf = false;
  if ((al & 0x0f) > 9 || af) {
    const unsigned sum = al + 6u;
    al = static_cast<uint8_t>(sum);
    cf = old_cf || sum > 0xff;
    af = true;
  } else {
    af = false;
  }
  if (old_al > 0x99 || old_cf) {
    al = static_cast<uint8_t>(al + 0x60);
    cf = true;
  } else {
    cf = false;
  }
  return {static_cast<uint16_t>((ax & 0xff00) | al), af, cf};
}

BcdRef sdm_das(uint16_t ax, bool af, bool cf) {
  uint8_t al = ax & 0xff;
  const uint8_t old_al = al;
  const bool old_cf = cf;
  cf = false;
  if ((al & 0x0f) > 9 || af) {
    cf = old_cf || al < 6;
    al = static_cast<uint8_t>(al - 6);
    af = true;
  } else {
    af = false;
  }
  if (old_al > 0x99 || old_cf) {
    al = static_cast<uint8_t>(al - 0x60);
    cf = true;
  }
  return {static_cast<uint16_t>((ax & 0xff00) | al), af, cf};
}

BcdRef sdm_aaa(uint16_t ax, bool af) {
  if ((ax & 0x0f) > 9 || af) {
    ax = static_cast<uint16_t>(ax + 0x106);
    af = true;
  } else {
    af = false;
  }
  ax = static_cast<uint16_t>((ax & 0xff00) | (ax & 0x0f));
  return {ax, af, af};
}

BcdRef sdm_aas(uint16_t ax, bool af) {
  if ((ax & 0x0f) > 9 || af) {
    ax = static_cast<uint16_t>(ax - 6);
    const uint8_t ah = static_cast<uint8_t>((ax >> 8) - 1);
    ax = static_cast<uint16_t>((ah << 8) | (ax & 0xff));
    af = true;
  } else {
    af = false;
  }
  ax = static_cast<uint16_t>((ax & 0xff00) | (ax & 0x0f));
  return {ax, af, af};
}

uint32_t szp(uint8_t v) {
  uint32_t f = 0;
  if (v == 0) f |= ZF;
  if (v & 0x80) f |= SF;
  if (!__builtin_parity(v)) f |= PF;
  return f;
}

// Runs the one-byte BCD opcode in real mode for every AL x AF x CF (and a few
// AH values) and compares the result with the SDM reference.
class IntegerBcd : public IntegerTest {
 protected:
  template <typename Ref, typename Check>
  void sweep(uint8_t opcode, Ref ref, Check check_flags) {
    for (uint16_t ah : {0x00, 0x05, 0xff}) {
      for (unsigned al = 0; al < 256; ++al) {
        for (unsigned fl = 0; fl < 4; ++fl) {
          real_mode();
          load(kCode, {opcode});
          const bool af = fl & 1, cf = fl & 2;
          cpu.regs[EAX] = 0xabcd0000u | (ah << 8) | al;
          cpu.eflags = FIXED1 | (af ? AF : 0) | (cf ? CF : 0) | OF;
          step();
          const BcdRef want = ref(static_cast<uint16_t>((ah << 8) | al), af, cf);
          SCOPED_TRACE(testing::Message() << "AX=" << std::hex << ((ah << 8) | al) << " AF=" << af << " CF=" << cf);
          ASSERT_EQ(cpu.regs[EAX], 0xabcd0000u | want.ax);
          ASSERT_EQ(bool(cpu.eflags & AF), want.af);
          ASSERT_EQ(bool(cpu.eflags & CF), want.cf);
          check_flags(static_cast<uint8_t>(want.ax));
          ASSERT_EQ(cpu.eip, kCode + 1);
        }
      }
    }
  }
};

TEST_F(IntegerBcd, DaaMatchesSdmForAllInputs) {
  sweep(0x27, sdm_daa, [&](uint8_t al) {
    ASSERT_EQ(cpu.eflags & (SF | ZF | PF), szp(al));
    ASSERT_EQ(cpu.eflags & OF, 0u);  // documented choice for the undefined OF
  });
}

TEST_F(IntegerBcd, DasMatchesSdmForAllInputs) {
  sweep(0x2f, sdm_das, [&](uint8_t al) {
    ASSERT_EQ(cpu.eflags & (SF | ZF | PF), szp(al));
    ASSERT_EQ(cpu.eflags & OF, 0u);
  });
}

TEST_F(IntegerBcd, AaaMatchesSdmForAllInputs) {
  sweep(0x37, [](uint16_t ax, bool af, bool) { return sdm_aaa(ax, af); },
        [&](uint8_t al) { ASSERT_EQ(cpu.eflags & (ZF | PF | SF | OF), szp(al) & (ZF | PF)); });
}

TEST_F(IntegerBcd, AasMatchesSdmForAllInputs) {
  sweep(0x3f, [](uint16_t ax, bool af, bool) { return sdm_aas(ax, af); },
        [&](uint8_t al) { ASSERT_EQ(cpu.eflags & (ZF | PF | SF | OF), szp(al) & (ZF | PF)); });
}

TEST_F(IntegerBcd, AamAndAadWithBases) {
  for (unsigned al = 0; al < 256; ++al) {
    for (uint8_t base : {10, 16, 7}) {
      real_mode();
      cpu.eflags |= ARITH;  // AAM clears the undefined OF, AF, CF
      cpu.regs[EAX] = 0x1234ff00u | al;
      exec({0xd4, base});  // AAM base
      ASSERT_EQ(cpu.regs[EAX], 0x12340000u | ((al / base) << 8) | (al % base));
      ASSERT_EQ(cpu.eflags & ARITH, szp(static_cast<uint8_t>(al % base)));
      real_mode();
      cpu.regs[EAX] = 0x12340300u | al;
      exec({0xd5, base});  // AAD base
      const uint8_t product = static_cast<uint8_t>(3 * base);
      const uint8_t want = static_cast<uint8_t>(al + product);
      ASSERT_EQ(cpu.regs[EAX], 0x12340000u | want);
      ASSERT_EQ(cpu.eflags & (SF | ZF | PF), szp(want));
      // The undefined flags are those of the 8-bit addition (measured on hardware).
      ASSERT_EQ(bool(cpu.eflags & CF), al + product > 0xff);
      ASSERT_EQ(bool(cpu.eflags & AF), ((al ^ product ^ want) & 0x10) != 0);
      ASSERT_EQ(bool(cpu.eflags & OF), (~(al ^ product) & (al ^ want) & 0x80) != 0);
    }
  }
}

TEST_F(IntegerBcd, AamZeroRaisesDivideErrorThroughTheIvt) {
  real_mode();
  set_ivt(0, 0x0000, 0x3000);
  cpu.regs[EAX] = 0x1234;
  cpu.eflags = FIXED1 | CF;
  exec({0xd4, 0x00});
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(cpu.regs[EAX], 0x1234u);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 6);
  EXPECT_EQ(mem.read16(0x8000 - 6), kCode);  // faulting IP pushed
}

}  // namespace
}  // namespace popek::test

namespace popek::test {
namespace {

// Reference value of a group-2 operation (count already masked to 5 bits).
uint32_t reference_shift(alu::ShiftOp op, unsigned bits, uint32_t v, unsigned n, bool cf) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t x = v & mask;
  switch (op) {
    case ShiftOp::Rol: n %= bits; return static_cast<uint32_t>(((x << n) | (x >> (bits - n))) & mask);
    case ShiftOp::Ror: n %= bits; return static_cast<uint32_t>(((x >> n) | (x << (bits - n))) & mask);
    case ShiftOp::Rcl:
    case ShiftOp::Rcr: {
      n %= bits + 1;
      uint64_t wide = x | (uint64_t{cf} << bits);  // bits+1 wide
      const uint64_t wmask = (uint64_t{1} << (bits + 1)) - 1;
      if (op == ShiftOp::Rcl) wide = ((wide << n) | (wide >> (bits + 1 - n))) & wmask;
      else wide = ((wide >> n) | (wide << (bits + 1 - n))) & wmask;
      return static_cast<uint32_t>(wide & mask);
    }
    case ShiftOp::Shl:
    case ShiftOp::Sal: return n >= bits ? 0 : static_cast<uint32_t>((x << n) & mask);
    case ShiftOp::Shr: return n >= bits ? 0 : static_cast<uint32_t>(x >> n);
    case ShiftOp::Sar: {
      const int64_t s = static_cast<int64_t>(x << (64 - bits)) >> (64 - bits);
      return static_cast<uint32_t>((s >> (n >= bits ? bits - 1 : n)) & static_cast<int64_t>(mask));
    }
  }
  return 0;
}

// Every operation, width, count and encoding (CL, by-1, imm8) gives the
// architectural value, and the encodings agree on CF wherever it is defined.
TEST(IntegerAlu, ShiftEncodingsAgreeOnValuesAndDefinedFlags) {
  const uint32_t samples[] = {0x00000000, 0x80000001, 0x12345678, 0xfedcba98, 0x0000ffff};
  for (unsigned opi = 0; opi < 8; ++opi) {
    const auto op = static_cast<ShiftOp>(opi);
    for (unsigned bits : {8u, 16u, 32u}) {
      for (uint32_t v : samples) {
        for (unsigned n = 0; n < 32; ++n) {
          for (uint32_t fin : {0u, CF | OF | ZF}) {
            SCOPED_TRACE(testing::Message() << "op " << opi << " bits " << bits << " v " << std::hex << v << " n " << n);
            const auto cl = alu::shift(op, bits, v, static_cast<uint8_t>(n), fin, alu::CountForm::Cl);
            const auto imm = alu::shift(op, bits, v, static_cast<uint8_t>(n), fin, alu::CountForm::Imm8);
            const auto cl_mem = alu::shift(op, bits, v, static_cast<uint8_t>(n), fin, alu::CountForm::Cl, true);
            const auto imm_mem = alu::shift(op, bits, v, static_cast<uint8_t>(n), fin, alu::CountForm::Imm8, true);
            const uint32_t want = reference_shift(op, bits, v, n, fin & CF);
            ASSERT_EQ(cl.value, want);
            ASSERT_EQ(imm.value, want);
            ASSERT_EQ(cl_mem.value, want);
            ASSERT_EQ(imm_mem.value, want);
            ASSERT_EQ(cl_mem.flags & CF, cl.flags & CF);
            if (n == 0) {
              ASSERT_EQ(cl.flags, fin);
              ASSERT_EQ(imm.flags, fin);
            }
            const bool shift_cf_defined = opi >= 4 ? n < bits : true;
            if (shift_cf_defined) {
              ASSERT_EQ(cl.flags & CF, imm.flags & CF);
            }
            if (n == 1) {
              const auto one = alu::shift(op, bits, v, 1, fin, alu::CountForm::One);
              const auto one_mem = alu::shift(op, bits, v, 1, fin, alu::CountForm::One, true);
              ASSERT_EQ(one.value, want);
              ASSERT_EQ(one_mem.value, want);
              ASSERT_EQ(one.flags & (CF | OF), cl.flags & (CF | OF));
            }
          }
        }
      }
    }
  }
}

TEST(IntegerAlu, DoubleShiftAndBitTestEncodingsAgree) {
  for (unsigned bits : {16u, 32u}) {
    for (unsigned n = 0; n < 32; ++n) {
      for (bool left : {true, false}) {
        const auto cl = alu::double_shift(left, bits, 0x12345678, 0x9abcdef0, static_cast<uint8_t>(n), SF, alu::CountForm::Cl);
        const auto imm = alu::double_shift(left, bits, 0x12345678, 0x9abcdef0, static_cast<uint8_t>(n), SF, alu::CountForm::Imm8);
        const auto imm_mem =
            alu::double_shift(left, bits, 0x12345678, 0x9abcdef0, static_cast<uint8_t>(n), SF, alu::CountForm::Imm8, true);
        if (n < bits) {  // larger 16-bit counts leave the result undefined
          ASSERT_EQ(cl.value, imm.value) << bits << " " << n;
          ASSERT_EQ(cl.value, imm_mem.value) << bits << " " << n;
          ASSERT_EQ(cl.flags & CF, imm.flags & CF);
        }
        if (n == 0) {
          ASSERT_EQ(imm.flags, SF);
        }
      }
      for (unsigned opi = 0; opi < 4; ++opi) {
        const auto op = static_cast<alu::BitOp>(opi);
        const auto reg = alu::bit_test(op, bits, 0xa5a5c3c3, n, 0, false);
        const auto imm = alu::bit_test(op, bits, 0xa5a5c3c3, n, 0, true);
        const auto reg_mem = alu::bit_test(op, bits, 0xa5a5c3c3, n, 0, false, true);
        const auto imm_mem = alu::bit_test(op, bits, 0xa5a5c3c3, n, 0, true, true);
        ASSERT_EQ(reg.value, imm.value);
        ASSERT_EQ(reg.value, reg_mem.value);
        ASSERT_EQ(reg.value, imm_mem.value);
        ASSERT_EQ(reg_mem.flags & CF, imm_mem.flags & CF);
        ASSERT_EQ(reg.flags & CF, imm.flags & CF);
        ASSERT_EQ(bool(imm.flags & CF), bool((0xa5a5c3c3u >> (n % bits)) & 1));
      }
    }
  }
  // SHLD 32 by imm 8 (the table really encodes the count).
  EXPECT_EQ(alu::double_shift(true, 32, 0x12345678, 0x9abcdef0, 8, 0, alu::CountForm::Imm8).value, 0x3456789au);
  EXPECT_EQ(alu::double_shift(false, 16, 0x1234, 0xabcd, 4, 0, alu::CountForm::Imm8).value, 0xd123u);
}

}  // namespace
}  // namespace popek::test
