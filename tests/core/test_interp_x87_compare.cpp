// x87 comparisons and classification (FCOM family, FCOMI family with
// EFLAGS, FTST, FXAM), FCMOVcc, and the stack-management instructions.
#include <limits>

#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

using namespace x87::swb;

const long double kQNaN = ld_from(0xC000000000000000ull, 0x7fff);
const long double kSNaN = ld_from(0xA000000000000000ull, 0x7fff);

unsigned cc(const X87Test& t) { return (t.cpu.fpu.sw >> 8) & 0x47; }  // C3 (bit 6) C2 C1 C0
constexpr unsigned kGreater = 0x00, kLess = 0x01, kEqual = 0x40, kUnordered = 0x45;

TEST_F(X87Test, FcomConditionCodes) {
  struct Case {
    long double a, b;
    unsigned want;
  };
  const Case cases[] = {{2, 1, kGreater}, {1, 2, kLess}, {1, 1, kEqual}, {0.0L, -0.0L, kEqual},
                        {1, kQNaN, kUnordered}};
  for (const Case& k : cases) {
    fninit();
    push(k.b);
    push(k.a);
    ok({0xD8, 0xD1});  // FCOM ST(1)
    EXPECT_EQ(cc(*this) & 0x45, k.want) << (double)k.a << " " << (double)k.b;
  }
  // FCOM signals IE on a QNaN; FUCOM does not (but does on an SNaN).
  EXPECT_EQ(sw_flags(), IE);
  fninit();
  push(kQNaN);
  push(1.0L);
  ok({0xDD, 0xE1});  // FUCOM ST(1)
  EXPECT_EQ(cc(*this) & 0x45, kUnordered);
  EXPECT_EQ(sw_flags(), 0);
  fninit();
  push(kSNaN);
  push(1.0L);
  ok({0xDD, 0xE9});  // FUCOMP ST(1)
  EXPECT_EQ(sw_flags(), IE);
  EXPECT_EQ(top(), 7u);
}

TEST_F(X87Test, FcompAndFcomppPop) {
  push(1.0L);
  push(2.0L);
  push(3.0L);
  ok({0xD8, 0xD9});  // FCOMP ST(1): 3 > 2
  EXPECT_EQ(cc(*this) & 0x45, kGreater);
  EXPECT_EQ(top(), 6u);
  ok({0xDE, 0xD9});  // FCOMPP: 2 > 1
  EXPECT_EQ(top(), 0u);
  EXPECT_EQ(cpu.fpu.tw, 0xffff);
  push(5.0L);
  mem.write16(kData, 7);
  ok(m(0xDE, 2, kData));  // FICOM m16: 5 < 7
  EXPECT_EQ(cc(*this) & 0x45, kLess);
  put_double(kData, 5.0);
  ok(m(0xDC, 3, kData));  // FCOMP m64: equal, pop
  EXPECT_EQ(cc(*this) & 0x45, kEqual);
  EXPECT_EQ(top(), 0u);
}

TEST_F(X87Test, FtstAndEmptyCompare) {
  push(-0.5L);
  ok({0xD9, 0xE4});
  EXPECT_EQ(cc(*this) & 0x45, kLess);
  fninit();
  ok({0xD9, 0xE4});  // FTST on an empty ST(0): underflow, unordered
  EXPECT_EQ(sw_flags(), IE | SF);
  EXPECT_EQ(cc(*this) & 0x45, kUnordered);
  EXPECT_FALSE(c(1));
}

TEST_F(X87Test, FcomiSetsZfPfCfAndClearsOfSfAf) {
  struct Case {
    long double a, b;
    uint32_t want;
  };
  const Case cases[] = {{2, 1, 0}, {1, 2, flag::CF}, {1, 1, flag::ZF}, {1, kQNaN, flag::ZF | flag::PF | flag::CF}};
  for (const Case& k : cases) {
    fninit();
    push(k.b);
    push(k.a);
    cpu.eflags |= flag::OF | flag::SF | flag::AF;
    ok({0xDB, 0xE9});  // FUCOMI ST(0), ST(1)
    EXPECT_EQ(arith_flags(), k.want) << (double)k.a << " " << (double)k.b;
    EXPECT_EQ(sw_flags(), 0);
  }
  // FCOMI signals IE on a QNaN (masked: flags unordered).
  cpu.eflags &= ~flag::ARITH;
  ok({0xDB, 0xF1});
  EXPECT_EQ(arith_flags(), flag::ZF | flag::PF | flag::CF);
  EXPECT_EQ(sw_flags(), IE);
  // FCOMIP pops; FUCOMIP too.
  ok({0xDF, 0xF1});
  EXPECT_EQ(top(), 7u);
  // Unmasked IE: no pop, but EFLAGS are still written (unordered), as
  // hardware does (the SDM says they are not).
  fninit();
  set_cw(0x37e);
  push(kQNaN);
  push(1.0L);
  cpu.eflags = (cpu.eflags & ~flag::ARITH) | flag::OF;
  ok({0xDF, 0xF1});  // FCOMIP
  EXPECT_EQ(arith_flags(), flag::ZF | flag::PF | flag::CF);
  EXPECT_EQ(top(), 6u);
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
}

TEST_F(X87Test, FxamClasses) {
  struct Case {
    Float80 v;
    unsigned want;  // C3 C2 C0 as bits 6, 2, 0 of (sw >> 8)
    bool negative;
  };
  const Case cases[] = {
      {f80(1.5L), 0x04, false},                                  // normal
      {f80(-1.5L), 0x04, true},
      {f80(0.0L), 0x40, false},                                  // zero
      {f80(-0.0L), 0x40, true},
      {Float80{0x12345, 0, {}}, 0x44, false},                    // denormal
      {f80(-std::numeric_limits<long double>::infinity()), 0x05, true},  // infinity
      {f80(kQNaN), 0x01, false},                                 // NaN
      {f80(kSNaN), 0x01, false},
      {Float80{0x4000000000000000ull, 0x3fff, {}}, 0x00, false}, // unnormal: unsupported
  };
  for (const Case& k : cases) {
    fninit();
    push(k.v);
    ok({0xD9, 0xE5});
    EXPECT_EQ(cc(*this) & 0x45, k.want) << std::hex << k.v.sign_exponent << ":" << k.v.mantissa;
    EXPECT_EQ(c(1), k.negative);
    EXPECT_EQ(sw_flags(), 0);
  }
  fninit();
  ok({0xD9, 0xE5});  // empty
  EXPECT_EQ(cc(*this) & 0x45, 0x41);
}

TEST_F(X87Test, FcmovFollowsEflags) {
  push(7.0L);
  push(1.0L);
  cpu.eflags |= flag::CF;
  ok({0xDB, 0xC1});  // FCMOVNB: CF=1, no move
  EXPECT_EQ(st_ld(0), 1.0L);
  ok({0xDA, 0xC1});  // FCMOVB: move
  EXPECT_EQ(st_ld(0), 7.0L);
  ok({0xD9, 0xE8});  // FLD1
  cpu.eflags = (cpu.eflags & ~flag::ARITH) | flag::ZF;
  ok({0xDA, 0xD1});  // FCMOVBE: ZF=1
  EXPECT_EQ(st_ld(0), 7.0L);
  ok({0xD9, 0xE8});
  ok({0xDA, 0xD9});  // FCMOVU: PF=0, no move
  EXPECT_EQ(st_ld(0), 1.0L);
  cpu.eflags |= flag::PF;
  ok({0xDA, 0xD9});
  EXPECT_EQ(st_ld(0), 7.0L);
  ok({0xDB, 0xC9});  // FCMOVNE: ZF=1, no move
  ok({0xDA, 0xC9});  // FCMOVE
  EXPECT_EQ(st_ld(0), 7.0L);
  // An empty source: stack underflow even when the condition is false.
  ok({0xDB, 0xC7});  // FCMOVNB ST(0), ST(7)
  EXPECT_EQ(sw_flags(), IE | SF);
}

TEST_F(X87Test, StackManagement) {
  push(1.0L);
  push(2.0L);
  ok({0xDD, 0xC1});  // FFREE ST(1)
  EXPECT_EQ(tag_st(1), x87::kTagEmpty);
  EXPECT_EQ(top(), 6u);
  ok({0xD9, 0xF7});  // FINCSTP
  EXPECT_EQ(top(), 7u);
  EXPECT_EQ(tag_st(7), x87::kTagValid);  // 2.0 still tagged, now ST(7)
  ok({0xD9, 0xF6});  // FDECSTP
  EXPECT_EQ(top(), 6u);
  EXPECT_EQ(st_ld(0), 2.0L);
  ok({0xDF, 0xC0});  // FFREEP ST(0): free and pop
  EXPECT_EQ(top(), 7u);
  EXPECT_EQ(cpu.fpu.tw, 0xffff);
  ok({0xD9, 0xD0});  // FNOP
  EXPECT_EQ(sw_flags(), 0);
}

TEST_F(X87Test, RegisterLoadsAndStores) {
  push(3.0L);
  push(4.0L);
  ok({0xD9, 0xC1});  // FLD ST(1)
  EXPECT_EQ(st_ld(0), 3.0L);
  EXPECT_EQ(top(), 5u);
  ok({0xDD, 0xD2});  // FST ST(2): ST(2) = 3
  EXPECT_EQ(st_ld(2), 3.0L);
  ok({0xDD, 0xD9});  // FSTP ST(1): ST(1) = 3, pop
  EXPECT_EQ(top(), 6u);
  EXPECT_EQ(st_ld(0), 3.0L);
  ok({0xD9, 0xD9});  // FSTP1 (FSTPNCE) ST(1)
  EXPECT_EQ(top(), 7u);
  EXPECT_EQ(st_ld(0), 3.0L);
  // FLD ST(7) with ST(7) non-empty: stack overflow.
  for (int i = 0; i < 7; ++i) push(static_cast<long double>(i));
  ok({0xD9, 0xC7});
  EXPECT_EQ(sw_flags(), IE | SF);
  EXPECT_TRUE(c(1));
}

TEST_F(X87Test, MemoryStoresRoundPerControlWord) {
  push(1.0L / 3.0L);
  ok(m(0xD9, 2, kData));  // FST m32, RN
  EXPECT_EQ(mem.read32(kData), 0x3eaaaaabu);
  set_cw(0x77f);  // RD
  ok(m(0xD9, 2, kData));
  EXPECT_EQ(mem.read32(kData), 0x3eaaaaaau);
  ok(m(0xDD, 2, kData));  // FST m64
  EXPECT_EQ(get64(kData), 0x3fd5555555555555ull);
  ok(m(0xDB, 7, kData));  // FSTP m80: exact
  EXPECT_TRUE(bits_eq(get80(kData), f80(1.0L / 3.0L)));
  EXPECT_EQ(top(), 0u);
  // An SNaN stored as a double is quieted with IE.
  push(kSNaN);
  ok(m(0xDD, 3, kData));
  EXPECT_EQ(get64(kData), 0x7ffc000000000000ull);
  EXPECT_TRUE(sw_flags() & IE);
}

}  // namespace
}  // namespace popek::test
