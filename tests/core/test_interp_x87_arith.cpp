// x87 arithmetic: bit-exact results and status flags against the host
// executing the same operation natively, over rounding and precision
// control, denormals, infinities, zeros and NaNs; constants; transcendentals.
#include <cmath>
#include <limits>

#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

using x87::swb::C1;

std::vector<long double> interesting_values() {
  const long double denormal = ld_from(0x0000000000012345ull, 0x0000);
  const long double pseudo_denormal = ld_from(0x8000000000000001ull, 0x0000);
  return {
      0.0L, -0.0L, 1.0L, -2.5L, 3.0L, 1.0L / 3.0L, 3.14159265358979323846L,
      std::numeric_limits<long double>::max(), -std::numeric_limits<long double>::max(),
      std::numeric_limits<long double>::min(), denormal, -denormal, pseudo_denormal,
      std::numeric_limits<long double>::infinity(), -std::numeric_limits<long double>::infinity(),
      ld_from(0xC000000000000001ull, 0x7fff),   // QNaN
      ld_from(0xC000000000000002ull, 0xffff),   // QNaN, larger significand, negative
      ld_from(0xA000000000000000ull, 0x7fff),   // SNaN
      ld_from(0x4000000000000000ull, 0x3fff),   // unnormal: invalid operand on P6
      1e4000L, 1e-4000L, 123456789.123456789L,
  };
}

constexpr uint16_t kPrecision[] = {0x000, 0x200, 0x300};   // PC 24, 53, 64 bits
constexpr uint16_t kRounding[] = {0x000, 0x400, 0x800, 0xC00};  // RN, RD, RU, RZ

struct BinaryCase {
  NativeOp op;
  unsigned reg;  // ModRM.reg of D8 /r
};
constexpr BinaryCase kBinary[] = {{NativeOp::Add, 0}, {NativeOp::Mul, 1}, {NativeOp::Sub, 4},
                                  {NativeOp::SubR, 5}, {NativeOp::Div, 6}, {NativeOp::DivR, 7}};

TEST_F(X87Test, BinaryRegisterFormsMatchHostBitForBit) {
  const auto values = interesting_values();
  int checked = 0;
  for (uint16_t pc : kPrecision) {
    for (uint16_t rc : kRounding) {
      const uint16_t cw = static_cast<uint16_t>(0x7f | pc | rc);
      for (const BinaryCase& bc : kBinary) {
        for (long double a : values) {
          for (long double b : values) {
            fninit();
            set_cw(cw);
            push(b);
            push(a);
            ok({0xD8, static_cast<uint8_t>(0xC1 | (bc.reg << 3))});  // Fop ST(0), ST(1)
            const NativeResult want = native(bc.op, a, b, cw);
            ASSERT_TRUE(bits_eq(st(0), f80(want.st0)))
                << "op " << bc.reg << " cw " << std::hex << cw << " a " << (double)a << " b " << (double)b;
            ASSERT_EQ(cpu.fpu.sw & (0x7f | C1), want.sw & (0x7f | C1))
                << "op " << bc.reg << " cw " << std::hex << cw << " a " << (double)a << " b " << (double)b;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST_F(X87Test, ReversedRegisterFormsAndPops) {
  push(10.0L);
  push(1.0L);
  ok({0xDC, 0xE9});  // FSUB ST(1), ST(0): ST(1) = 10 - 1
  EXPECT_EQ(st_ld(1), 9.0L);
  ok({0xDC, 0xE1});  // FSUBR ST(1), ST(0): ST(1) = 1 - 9
  EXPECT_EQ(st_ld(1), -8.0L);
  ok({0xDE, 0xF9});  // FDIVP ST(1), ST(0): ST(1) = -8 / 1, pop
  EXPECT_EQ(st_ld(0), -8.0L);
  EXPECT_EQ(top(), 7u);
  EXPECT_EQ(tag_st(1), x87::kTagEmpty);
  push(2.0L);
  ok({0xDE, 0xF1});  // FDIVRP ST(1), ST(0): ST(1) = 2 / -8, pop
  EXPECT_EQ(st_ld(0), -0.25L);
  push(4.0L);
  ok({0xDE, 0xC9});  // FMULP
  EXPECT_EQ(st_ld(0), -1.0L);
  push(3.0L);
  ok({0xDE, 0xE1});  // FSUBRP ST(1), ST(0): ST(1) = 3 - (-1)
  EXPECT_EQ(st_ld(0), 4.0L);
  push(1.0L);
  ok({0xDE, 0xE9});  // FSUBP ST(1), ST(0): ST(1) = 4 - 1
  EXPECT_EQ(st_ld(0), 3.0L);
  ok({0xD8, 0xC0});  // FADD ST(0), ST(0)
  EXPECT_EQ(st_ld(0), 6.0L);
}

TEST_F(X87Test, MemoryOperandForms) {
  put_float(kData, 0.1f);
  put_double(kData + 8, 0.1);
  mem.write16(kData + 16, static_cast<uint16_t>(-7));
  mem.write32(kData + 20, 100000);
  const uint16_t cw = 0x37f;
  push(1.0L);
  ok(m(0xD8, 0, kData));  // FADD m32
  EXPECT_TRUE(bits_eq(st(0), f80(native(NativeOp::Add, 1.0L, (long double)0.1f, cw).st0)));
  ok(m(0xDC, 1, kData + 8));  // FMUL m64
  EXPECT_TRUE(bits_eq(st(0), f80(native(NativeOp::Mul, 1.0L + (long double)0.1f, (long double)0.1, cw).st0)));
  fninit();
  push(2.0L);
  ok(m(0xDE, 0, kData + 16));  // FIADD m16
  EXPECT_EQ(st_ld(0), -5.0L);
  ok(m(0xDA, 7, kData + 20));  // FIDIVR m32: 100000 / -5
  EXPECT_EQ(st_ld(0), -20000.0L);
  ok(m(0xDA, 5, kData + 20));  // FISUBR m32: 100000 - (-20000)
  EXPECT_EQ(st_ld(0), 120000.0L);
  ok(m(0xDE, 4, kData + 16));  // FISUB m16
  EXPECT_EQ(st_ld(0), 120007.0L);
  EXPECT_EQ(top(), 7u);
}

TEST_F(X87Test, DenormalMemoryOperandRaisesDE) {
  put_float(kData, std::numeric_limits<float>::denorm_min());
  push(1.0L);
  ok(m(0xD8, 0, kData));  // FADD m32 (denormal single)
  EXPECT_EQ(sw_flags(), x87::swb::DE | x87::swb::PE);
  fninit();
  ok(m(0xD9, 0, kData));  // FLD m32 denormal: DE, loaded exactly (normalized in 80 bits)
  EXPECT_EQ(sw_flags(), x87::swb::DE);
  EXPECT_EQ(st_ld(0), (long double)std::numeric_limits<float>::denorm_min());
}

TEST_F(X87Test, NaNPropagation) {
  const long double q_small = ld_from(0xC000000000000001ull, 0x7fff);
  const long double q_big = ld_from(0xC000000000000010ull, 0xffff);
  const long double s_big = ld_from(0x8000000000000020ull, 0x7fff);
  // Two QNaNs: the larger significand wins, no exception.
  push(q_big);
  push(q_small);
  ok({0xD8, 0xC1});
  EXPECT_TRUE(bits_eq(st(0), f80(q_big)));
  EXPECT_EQ(sw_flags(), 0);
  // SNaN and QNaN: IE, and the result is the QNaN operand.
  fninit();
  push(s_big);
  push(q_small);
  ok({0xD8, 0xC9});  // FMUL
  EXPECT_EQ(sw_flags(), x87::swb::IE);
  EXPECT_TRUE(bits_eq(st(0), f80(native(NativeOp::Mul, q_small, s_big, 0x37f).st0)));
  EXPECT_EQ(st(0).mantissa >> 62, 3u);  // quiet
  // SNaN with a number: IE, the SNaN quieted.
  fninit();
  push(s_big);
  push(1.0L);
  ok({0xD8, 0xC1});
  EXPECT_EQ(sw_flags(), x87::swb::IE);
  EXPECT_EQ(st(0).mantissa, 0xC000000000000020ull);
  // Invalid operation (inf - inf): QNaN indefinite.
  fninit();
  push(std::numeric_limits<long double>::infinity());
  push(std::numeric_limits<long double>::infinity());
  ok({0xD8, 0xE1});
  EXPECT_EQ(sw_flags(), x87::swb::IE);
  EXPECT_TRUE(bits_eq(st(0), kIndefinite));
}

TEST_F(X87Test, DivideByZeroMasked) {
  push(0.0L);
  push(-3.0L);
  ok({0xD8, 0xF1});  // FDIV ST(0), ST(1)
  EXPECT_EQ(sw_flags(), x87::swb::ZE);
  EXPECT_EQ(st_ld(0), -std::numeric_limits<long double>::infinity());
}

TEST_F(X87Test, ConstantsFollowRoundingControl) {
  struct Constant {
    uint8_t modrm;
    NativeOp op;
  };
  const Constant constants[] = {{0xEB, NativeOp::LdPi}, {0xE9, NativeOp::LdL2t}, {0xEA, NativeOp::LdL2e},
                                {0xEC, NativeOp::LdLg2}, {0xED, NativeOp::LdLn2}};
  for (uint16_t rc : kRounding) {
    for (const Constant& k : constants) {
      fninit();
      set_cw(static_cast<uint16_t>(0x37f | rc));
      ok({0xD9, k.modrm});
      EXPECT_TRUE(bits_eq(st(0), f80(native(k.op, 0, 0, static_cast<uint16_t>(0x37f | rc)).st0)))
          << "rc " << rc << " modrm " << int(k.modrm);
    }
  }
  // The documented roundings of pi: up to ...C235 in RN/RU, down to ...C234 in RD/RZ.
  fninit();
  ok({0xD9, 0xEB});
  EXPECT_EQ(st(0).mantissa, 0xC90FDAA22168C235ull);
  set_cw(0xf7f);
  ok({0xD9, 0xEB});
  EXPECT_EQ(st(0).mantissa, 0xC90FDAA22168C234ull);
  ok({0xD9, 0xE8});  // FLD1
  EXPECT_EQ(st_ld(0), 1.0L);
  ok({0xD9, 0xEE});  // FLDZ
  EXPECT_EQ(st_ld(0), 0.0L);
  EXPECT_EQ(tag_st(0), x87::kTagZero);
  EXPECT_EQ(tag_st(1), x87::kTagValid);
}

struct UnaryCase {
  uint8_t modrm;  // D9 xx
  NativeOp op;
  int pushes;  // stack change: -1 pop, 0, +1 push
};

TEST_F(X87Test, TranscendentalsAndFriendsMatchHost) {
  const UnaryCase cases[] = {
      {0xFA, NativeOp::Sqrt, 0},   {0xFE, NativeOp::Sin, 0},    {0xFF, NativeOp::Cos, 0},
      {0xF2, NativeOp::Tan, 1},    {0xFB, NativeOp::SinCos, 1}, {0xF3, NativeOp::Atan, -1},
      {0xF1, NativeOp::Yl2x, -1},  {0xF9, NativeOp::Yl2xp1, -1}, {0xF0, NativeOp::F2xm1, 0},
      {0xFD, NativeOp::Scale, 0},  {0xF8, NativeOp::Prem, 0},   {0xF5, NativeOp::Prem1, 0},
      {0xFC, NativeOp::Rndint, 0}, {0xF4, NativeOp::Xtract, 1},
  };
  const long double operands[][2] = {
      {0.5L, 2.0L},     {-0.75L, 3.5L},  {1e-3000L, -7.25L}, {1e18L, 0.3L},  {2.5L, -1.5L},
      {-1e-10L, 1e5L},  {0.0L, 10.0L},   {100.125L, 7.0L},   {1e300L, 3.0L}, {0.25L, 1e-4000L},
      {std::numeric_limits<long double>::infinity(), 2.0L}, {ld_from(0xC000000000000001ull, 0x7fff), 1.0L},
      {0x1p70L, 1.0L},  // beyond 2^63: FSIN/FCOS/FPTAN report C2 and leave ST(0) alone
  };
  for (uint16_t rc : kRounding) {
    const uint16_t cw = static_cast<uint16_t>(0x37f | rc);
    for (const UnaryCase& uc : cases) {
      for (const auto& ab : operands) {
        fninit();
        set_cw(cw);
        push(ab[1]);
        push(ab[0]);
        ok({0xD9, uc.modrm});
        const NativeResult want = native(uc.op, ab[0], ab[1], cw);
        const bool incomplete = want.sw & x87::swb::C2;
        const int expected_top = (7 - 1 - ((uc.pushes == 1 && !incomplete) ? 1 : 0) + (uc.pushes == -1 ? 1 : 0)) & 7;
        ASSERT_EQ(static_cast<int>(top()), expected_top) << std::hex << int(uc.modrm) << " " << (double)ab[0];
        ASSERT_TRUE(bits_eq(st(0), f80(want.st0))) << std::hex << int(uc.modrm) << " " << (double)ab[0] << " rc " << rc;
        if (uc.pushes != -1) {
          ASSERT_TRUE(bits_eq(st(1), f80(want.st1))) << std::hex << int(uc.modrm) << " " << (double)ab[0];
        }
        ASSERT_EQ(cpu.fpu.sw & 0x477f, want.sw & 0x477f) << std::hex << int(uc.modrm) << " " << (double)ab[0];
      }
    }
  }
}

TEST_F(X87Test, FsinOutOfRangeSetsC2AndKeepsOperand) {
  push(0x1p64L);
  ok({0xD9, 0xFE});
  EXPECT_TRUE(c(2));
  EXPECT_EQ(st_ld(0), 0x1p64L);
  EXPECT_EQ(top(), 7u);
}

TEST_F(X87Test, FpremQuotientBitsInConditionCodes) {
  push(3.0L);
  push(23.0L);  // 23 = 7*3 + 2: quotient 7 = 0b111 -> C0=Q2=1, C3=Q1=1, C1=Q0=1
  ok({0xD9, 0xF8});
  EXPECT_EQ(st_ld(0), 2.0L);
  EXPECT_FALSE(c(2));
  EXPECT_TRUE(c(0));
  EXPECT_TRUE(c(3));
  EXPECT_TRUE(c(1));
  // FPREM1 rounds the quotient to nearest: 23/3 -> 8, remainder -1, Q = 0b000.
  fninit();
  push(3.0L);
  push(23.0L);
  ok({0xD9, 0xF5});
  EXPECT_EQ(st_ld(0), -1.0L);
  EXPECT_FALSE(c(0));
  EXPECT_FALSE(c(3));
  EXPECT_FALSE(c(1));
  // A huge ratio reduces only partially: C2=1.
  fninit();
  push(3.0L);
  push(1e4000L);
  ok({0xD9, 0xF8});
  EXPECT_TRUE(c(2));
}

TEST_F(X87Test, FrndintFollowsRoundingControl) {
  const long double in[] = {2.5L, -2.5L, 3.5L, -0.4L};
  const long double want[4][4] = {{2, -2, 4, -0.0L}, {2, -3, 3, -1}, {3, -2, 4, -0.0L}, {2, -2, 3, -0.0L}};
  for (int r = 0; r < 4; ++r) {
    for (int i = 0; i < 4; ++i) {
      fninit();
      set_cw(static_cast<uint16_t>(0x37f | kRounding[r]));
      push(in[i]);
      ok({0xD9, 0xFC});
      EXPECT_TRUE(bits_eq(st(0), f80(want[r][i]))) << r << " " << i;
      EXPECT_EQ(sw_flags(), x87::swb::PE);
    }
  }
}

TEST_F(X87Test, ChsAbsAndFxch) {
  push(-2.0L);
  push(5.0L);
  ok({0xD9, 0xE0});  // FCHS
  EXPECT_EQ(st_ld(0), -5.0L);
  ok({0xD9, 0xE1});  // FABS
  EXPECT_EQ(st_ld(0), 5.0L);
  ok({0xD9, 0xC9});  // FXCH ST(1)
  EXPECT_EQ(st_ld(0), -2.0L);
  EXPECT_EQ(st_ld(1), 5.0L);
  // FXCH with an empty register: IE|SF, the empty one becomes the indefinite.
  ok({0xD9, 0xCB});  // FXCH ST(3)
  EXPECT_EQ(sw_flags(), x87::swb::IE | x87::swb::SF);
  EXPECT_TRUE(bits_eq(st(0), kIndefinite));
  EXPECT_EQ(st_ld(3), -2.0L);
}

TEST_F(X87Test, PrecisionControlRoundsSignificand) {
  set_cw(0x07f);  // PC = 24 bits, RN
  push(3.0L);
  push(1.0L);
  ok({0xD8, 0xF1});  // 1/3
  EXPECT_EQ(st(0).mantissa, 0xAAAAAB0000000000ull);
  set_cw(0x27f);  // 53 bits
  push(3.0L);
  push(1.0L);
  ok({0xD8, 0xF1});
  EXPECT_EQ(st(0).mantissa, 0xAAAAAAAAAAAAA800ull);
}

}  // namespace
}  // namespace popek::test
