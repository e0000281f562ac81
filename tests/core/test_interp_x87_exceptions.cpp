// x87 exceptions: stack overflow/underflow (masked responses, C1), unmasked
// exceptions (nothing stored, biased OE/UE results), deferred #MF, #NM,
// guest memory faults, and the last-instruction pointers.
#include <limits>

#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

using namespace x87::swb;

TEST_F(X87Test, StackOverflowMaskedPushesIndefinite) {
  for (int i = 0; i < 8; ++i) push(static_cast<long double>(i));
  EXPECT_EQ(top(), 0u);
  ok({0xD9, 0xE8});  // FLD1 onto a full stack
  EXPECT_EQ(sw_flags(), IE | SF);
  EXPECT_TRUE(c(1));  // C1=1: overflow
  EXPECT_EQ(top(), 7u);
  EXPECT_TRUE(bits_eq(st(0), kIndefinite));
  EXPECT_EQ(tag_st(0), x87::kTagSpecial);
  EXPECT_FALSE(cpu.fpu.sw & x87::swb::ES);
}

TEST_F(X87Test, StackOverflowUnmaskedLeavesStackAndDefersMF) {
  set_cw(0x37e);  // IM=0
  for (int i = 0; i < 8; ++i) push(static_cast<long double>(i));
  const X87State before = cpu.fpu;
  ok({0xD9, 0xE8});  // FLD1: the fault is only flagged
  EXPECT_EQ(sw_flags(), IE | SF);
  EXPECT_TRUE(c(1));
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  EXPECT_TRUE(cpu.fpu.sw & B);
  EXPECT_EQ(top(), 0u);
  EXPECT_EQ(cpu.fpu.tw, before.tw);
  EXPECT_TRUE(bits_eq(st(0), before.st[0]));
  // Non-waiting instructions run; the next waiting one raises #MF.
  ok({0xDF, 0xE0});  // FNSTSW AX
  EXPECT_EQ(cpu.regs[EAX] & 0xffff, cpu.fpu.sw);
  const uint32_t eip = cpu.eip;
  EXPECT_EQ(fault({0xD9, 0xE8}), vec::MF);
  EXPECT_EQ(cpu.eip, eip);
  EXPECT_EQ(fault({0x9B}), vec::MF);  // FWAIT
  ok({0xDB, 0xE2});                   // FNCLEX
  EXPECT_EQ(cpu.fpu.sw & 0x80ff, 0);
  ok({0x9B});
}

TEST_F(X87Test, StackUnderflowMaskedResponse) {
  push(2.0L);
  ok({0xD8, 0xC1});  // FADD ST(0), ST(1): ST(1) empty
  EXPECT_EQ(sw_flags(), IE | SF);
  EXPECT_FALSE(c(1));  // C1=0: underflow
  EXPECT_TRUE(bits_eq(st(0), kIndefinite));
  // FSTP m64 of an empty ST(0) stores the double indefinite and pops.
  fninit();
  ok(m(0xDD, 3, kData));
  EXPECT_EQ(get64(kData), 0xFFF8000000000000ull);
  EXPECT_EQ(top(), 1u);
}

TEST_F(X87Test, StackUnderflowUnmaskedStoresNothing) {
  set_cw(0x37e);
  put64(kData, 0x1122334455667788ull);
  ok(m(0xDD, 3, kData));  // FSTP m64 with ST(0) empty
  EXPECT_EQ(get64(kData), 0x1122334455667788ull);
  EXPECT_EQ(top(), 0u);
  EXPECT_EQ(sw_flags(), IE | SF);
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
}

TEST_F(X87Test, UnmaskedZeroDivideKeepsDestinationAndRaisesMFLater) {
  set_cw(0x37b);  // ZM=0
  push(0.0L);
  push(1.0L);
  ok({0xDE, 0xF9});  // FDIVP ST(1), ST(0): 0/1 fine
  push(0.0L);
  push(1.0L);
  ok({0xD8, 0xF1});  // FDIV ST(0), ST(1): 1/0
  EXPECT_EQ(st_ld(0), 1.0L);
  EXPECT_EQ(top(), 5u);
  EXPECT_EQ(sw_flags(), ZE);
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  EXPECT_EQ(fault({0xD8, 0xC1}), vec::MF);
  EXPECT_EQ(st_ld(0), 1.0L);  // the faulting FADD did nothing
  // CR0.NE=0: no #MF (no FERR#/IRQ13 path); the instruction executes.
  cpu.cr0 &= ~cr0::NE;
  ok({0xD8, 0xC1});
  EXPECT_EQ(st_ld(0), 1.0L);
}

TEST_F(X87Test, UnmaskedDenormalAndInvalidOperandsStoreNothing) {
  set_cw(0x37d);  // DM=0
  const long double denormal = ld_from(0x0000000000000001ull, 0);
  push(denormal);
  push(1.0L);
  ok({0xD8, 0xC1});
  EXPECT_EQ(st_ld(0), 1.0L);
  EXPECT_EQ(sw_flags(), DE);
  fninit();
  set_cw(0x37e);  // IM=0
  push(ld_from(0xA000000000000000ull, 0x7fff));  // SNaN
  push(1.0L);
  ok({0xD8, 0xC9});
  EXPECT_EQ(st_ld(0), 1.0L);
  EXPECT_EQ(sw_flags(), IE);
  // FLD m32 of an SNaN with IM=0: nothing pushed.
  ok({0xDB, 0xE2});  // FNCLEX (the IE above is pending)
  mem.write32(kData, 0x7f800001);
  ok(m(0xD9, 0, kData));
  EXPECT_EQ(top(), 6u);
}

TEST_F(X87Test, UnmaskedPrecisionStoresResult) {
  set_cw(0x35f);  // PM=0
  push(3.0L);
  push(1.0L);
  ok({0xD8, 0xF1});
  EXPECT_EQ(st(0).mantissa, 0xAAAAAAAAAAAAAAABull);
  EXPECT_EQ(sw_flags(), PE);
  EXPECT_TRUE(c(1));  // rounded up
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
}

TEST_F(X87Test, UnmaskedOverflowStoresBiasedResult) {
  set_cw(0x377);  // OM=0
  push(ld_from(0xA000000000000000ull, 16383 + 16000));  // 1.25 * 2^16000
  push(ld_from(0xC000000000000000ull, 16383 + 16000));  // 1.5 * 2^16000
  ok({0xD8, 0xC9});                                     // FMUL: 1.875 * 2^32000
  EXPECT_TRUE(bits_eq(st(0), Float80{0xF000000000000000ull, 16383 + 32000 - 24576, {}}));
  EXPECT_EQ(sw_flags(), OE);
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  // FADD of max + max: 2 * max biased.
  fninit();
  set_cw(0x377);
  const long double mx = std::numeric_limits<long double>::max();
  push(mx);
  push(mx);
  ok({0xDE, 0xC1});  // FADDP
  EXPECT_TRUE(bits_eq(st(0), Float80{0xFFFFFFFFFFFFFFFFull, 16383 + 16384 - 24576, {}}));
  EXPECT_EQ(top(), 7u);
  EXPECT_EQ(sw_flags(), OE);
  // FDIVR: ST(0) = ST(1) / ST(0) = 2^16000 / 2^-1000.
  fninit();
  set_cw(0x377);
  push(ld_from(0x8000000000000000ull, 16383 + 16000));
  push(ld_from(0x8000000000000000ull, 16383 - 1000));
  ok({0xD8, 0xF9});
  EXPECT_TRUE(bits_eq(st(0), Float80{0x8000000000000000ull, 16383 + 17000 - 24576, {}}));
  // FSCALE: 1 * 2^20000.
  fninit();
  set_cw(0x377);
  push(20000.0L);
  push(1.0L);
  ok({0xD9, 0xFD});
  EXPECT_TRUE(bits_eq(st(0), Float80{0x8000000000000000ull, 16383 + 20000 - 24576, {}}));
  EXPECT_EQ(sw_flags(), OE);
}

TEST_F(X87Test, UnmaskedOverflowRoundsBiasedResultPerControlWord) {
  // (1 + 2^-63) * (1 + 2^-63) * 2^17000: inexact; RZ truncates, RU rounds up.
  const Float80 a{0x8000000000000001ull, 16383 + 8500, {}};
  for (uint16_t rc : {0x000, 0xC00, 0x800}) {
    fninit();
    set_cw(static_cast<uint16_t>(0x377 | rc));
    push(a);
    push(a);
    ok({0xD8, 0xC9});
    const Float80 small_a{0x8000000000000001ull, 16383 + 8500 - 12288, {}};
    const long double ref = native(NativeOp::Mul, ld_from(small_a.mantissa, small_a.sign_exponent),
                                   ld_from(small_a.mantissa, small_a.sign_exponent), static_cast<uint16_t>(0x37f | rc)).st0;
    EXPECT_TRUE(bits_eq(st(0), f80(ref))) << rc;
    EXPECT_EQ(sw_flags(), OE | PE);
    EXPECT_EQ(st(0).mantissa, rc == 0x800 ? 0x8000000000000003ull : 0x8000000000000002ull);
    EXPECT_EQ(c(1), rc == 0x800);  // rounded up only in RU
  }
}

TEST_F(X87Test, UnmaskedUnderflowStoresBiasedResult) {
  set_cw(0x36f);  // UM=0
  push(ld_from(0x8000000000000000ull, 16383 - 1000));
  push(ld_from(0xC000000000000000ull, 16383 - 16000));
  ok({0xD8, 0xC9});  // 1.5 * 2^-17000
  EXPECT_TRUE(bits_eq(st(0), Float80{0xC000000000000000ull, 16383 - 17000 + 24576, {}}));
  EXPECT_EQ(sw_flags(), UE);
  // An exact tiny result (a representable denormal) still underflows when
  // UE is unmasked, although the masked response would flag nothing.
  fninit();
  set_cw(0x36f);
  push(ld_from(0x8000000000000000ull, 16383 - 390));
  push(ld_from(0x8000000000000000ull, 16383 - 16000));
  ok({0xD8, 0xC9});  // 2^-16390
  EXPECT_TRUE(bits_eq(st(0), Float80{0x8000000000000000ull, 16383 - 16390 + 24576, {}}));
  EXPECT_EQ(sw_flags(), UE);
  // ... while masked, it is just the denormal, no flag.
  fninit();
  push(ld_from(0x8000000000000000ull, 16383 - 390));
  push(ld_from(0x8000000000000000ull, 16383 - 16000));
  ok({0xD8, 0xC9});
  EXPECT_TRUE(bits_eq(st(0), Float80{1ull << 55, 0, {}}));
  EXPECT_EQ(sw_flags(), 0);
}

TEST_F(X87Test, UnmaskedOverflowOnMemoryStoreWritesNothing) {
  set_cw(0x377);
  put64(kData, 0xdeadbeefdeadbeefull);
  push(1e300L);
  ok(m(0xD9, 3, kData));  // FSTP m32: overflow
  EXPECT_EQ(mem.read32(kData), 0xdeadbeefu);
  EXPECT_EQ(top(), 7u);
  EXPECT_EQ(st_ld(0), 1e300L);
  EXPECT_EQ(sw_flags(), OE);  // no PE with an unmasked OE on a memory destination
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  // Masked: +inf stored, popped.
  fninit();
  push(1e300L);
  ok(m(0xD9, 3, kData));
  EXPECT_EQ(mem.read32(kData), 0x7f800000u);
  EXPECT_EQ(sw_flags(), OE | PE);
  EXPECT_EQ(top(), 0u);
}

TEST_F(X87Test, UnmaskedUnderflowOnExactDenormalStore) {
  set_cw(0x36f);
  mem.write32(kData, 0x12345678);
  push((long double)std::numeric_limits<float>::denorm_min());  // exact as a single denormal
  ok(m(0xD9, 2, kData));                                        // FST m32
  EXPECT_EQ(mem.read32(kData), 0x12345678u);
  EXPECT_EQ(sw_flags(), UE);
  fninit();
  push((long double)std::numeric_limits<float>::denorm_min());
  ok(m(0xD9, 2, kData));
  EXPECT_EQ(mem.read32(kData), 1u);
  EXPECT_EQ(sw_flags(), 0);
}

TEST_F(X87Test, FistOverflowGivesIntegerIndefinite) {
  push(40000.0L);
  ok(m(0xDF, 2, kData));  // FIST m16
  EXPECT_EQ(mem.read16(kData), 0x8000);
  EXPECT_EQ(sw_flags(), IE);
  push(1e10L);
  ok(m(0xDB, 3, kData));  // FISTP m32
  EXPECT_EQ(mem.read32(kData), 0x80000000u);
  push(1e19L);
  ok(m(0xDF, 7, kData));  // FISTP m64
  EXPECT_EQ(get64(kData), 0x8000000000000000ull);
  push(std::numeric_limits<long double>::quiet_NaN());
  ok(m(0xDB, 2, kData));
  EXPECT_EQ(mem.read32(kData), 0x80000000u);
  // Unmasked: memory untouched, no pop.
  fninit();
  set_cw(0x37e);
  mem.write32(kData, 0x55aa55aa);
  push(1e10L);
  ok(m(0xDB, 3, kData));
  EXPECT_EQ(mem.read32(kData), 0x55aa55aau);
  EXPECT_EQ(top(), 7u);
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
}

TEST_F(X87Test, FistRoundsPerControlWord) {
  const int16_t want[4][2] = {{2, -2}, {2, -3}, {3, -2}, {2, -2}};  // RN RD RU RZ of 2.5 and -2.5
  const uint16_t rcs[] = {0x000, 0x400, 0x800, 0xC00};
  for (int r = 0; r < 4; ++r) {
    fninit();
    set_cw(static_cast<uint16_t>(0x37f | rcs[r]));
    push(-2.5L);
    push(2.5L);
    ok(m(0xDF, 3, kData));      // FISTP m16
    ok(m(0xDF, 3, kData + 2));  // FISTP m16
    EXPECT_EQ(static_cast<int16_t>(mem.read16(kData)), want[r][0]) << r;
    EXPECT_EQ(static_cast<int16_t>(mem.read16(kData + 2)), want[r][1]) << r;
    EXPECT_EQ(sw_flags(), PE);
  }
}

TEST_F(X87Test, FildAndFbldLoadExactly) {
  put64(kData, 0x8000000000000000ull);  // INT64_MIN
  ok(m(0xDF, 5, kData));                // FILD m64
  EXPECT_EQ(st_ld(0), -9223372036854775808.0L);
  const uint8_t bcd[10] = {0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80};
  mem.write_bytes(kData, bcd, 10);
  ok(m(0xDF, 4, kData));  // FBLD
  EXPECT_EQ(st_ld(0), -123456789012345678.0L);
  ok(m(0xDF, 6, kData + 16));  // FBSTP round trip
  uint8_t out[10];
  mem.read_bytes(kData + 16, out, 10);
  EXPECT_EQ(0, std::memcmp(out, bcd, 10));
}

TEST_F(X87Test, FbstpOfLargeValuesGivesBcdIndefinite) {
  push(1e18L);  // 19 digits: out of range
  ok(m(0xDF, 6, kData));
  const uint8_t indefinite[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
  uint8_t out[10];
  mem.read_bytes(kData, out, 10);
  EXPECT_EQ(0, std::memcmp(out, indefinite, 10));
  EXPECT_EQ(sw_flags(), IE);
  EXPECT_EQ(top(), 0u);
  // The largest representable value is fine (rounded per RC first).
  push(999999999999999999.0L);
  ok(m(0xDF, 6, kData));
  mem.read_bytes(kData, out, 10);
  const uint8_t nines[10] = {0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00};
  EXPECT_EQ(0, std::memcmp(out, nines, 10));
}

TEST_F(X87Test, NMWithTaskSwitchedOrEmulation) {
  cpu.cr0 |= cr0::TS;
  EXPECT_EQ(fault({0xD9, 0xE8}), vec::NM);  // FLD1
  EXPECT_EQ(fault({0xDB, 0xE3}), vec::NM);  // FNINIT too
  EXPECT_EQ(fault({0x9B}), vec::NM);        // WAIT: TS and MP
  cpu.cr0 &= ~cr0::MP;
  ok({0x9B});  // WAIT: TS without MP
  cpu.cr0 &= ~cr0::TS;
  cpu.cr0 |= cr0::EM | cr0::MP;
  EXPECT_EQ(fault({0xD9, 0xE8}), vec::NM);
  EXPECT_EQ(fault({0x0F, 0xAE, 0x05, 0x00, 0x30, 0x00, 0x00}), vec::NM) << "FXSAVE";
  ok({0x9B});  // WAIT ignores EM
  EXPECT_EQ(top(), 0u);
}

TEST_F(X87Test, MFIsDeliveredThroughTheIvtInRealMode) {
  real_mode();
  cpu.cr0 |= cr0::NE;
  mem.write16(16 * 4, 0x5000);  // IVT[16] = 0000:5000
  mem.write16(16 * 4 + 2, 0x0000);
  load(0x1000, {0xDB, 0xE3,              // FNINIT
                0xD9, 0x2E, 0x00, 0x30,  // FLDCW [3000]
                0xD9, 0xEE,              // FLDZ
                0xD9, 0xE8,              // FLD1
                0xDE, 0xF1,              // FDIVRP: 0/1? no: ST(1) = ST(0)/ST(1) = 1/0
                0x9B});                  // FWAIT -> #MF
  mem.write16(0x3000, 0x37b);
  step(5);
  EXPECT_EQ(cpu.fpu.sw & (ZE | x87::swb::ES), ZE | x87::swb::ES);
  EXPECT_EQ(cpu.eip, 0x100cu);
  step();
  EXPECT_EQ(cpu.eip, 0x5000u);
  EXPECT_EQ(mem.read16(0x8000 - 6), 0x100c);  // return IP = the FWAIT
}

TEST_F(X87Test, MemoryFaultsLeaveStateUntouched) {
  push(1.0L);
  const X87State before = cpu.fpu;
  cpu.seg[DS].limit = 0x2fff;
  EXPECT_EQ(fault(m(0xDD, 0, 0x2ffc)), vec::GP);  // FLD m64 straddling the limit
  EXPECT_EQ(fault(m(0xDB, 7, 0x2ff8)), vec::GP);  // FSTP m80
  EXPECT_TRUE(same_state(before, cpu.fpu));
}

TEST_F(X87Test, LastInstructionPointers) {
  cpu.eip = 0x1234;
  put_double(kData, 2.0);
  ok(m(0xDC, 0, kData));  // FADD m64 (ST(0) empty: IE, but the pointers are set)
  EXPECT_EQ(cpu.fpu.fip, 0x1234u);
  EXPECT_EQ(cpu.fpu.fcs, 0x08);
  EXPECT_EQ(cpu.fpu.fop, 0x405);  // DC 05 -> (4 << 8) | 0x05
  EXPECT_EQ(cpu.fpu.fdp, static_cast<uint32_t>(kData));
  EXPECT_EQ(cpu.fpu.fds, 0x10);
  ok({0xD9, 0xE8});  // FLD1: register form keeps FDP
  EXPECT_EQ(cpu.fpu.fop, 0x1e8);
  EXPECT_EQ(cpu.fpu.fip, 0x123au);
  EXPECT_EQ(cpu.fpu.fdp, static_cast<uint32_t>(kData));
  ok({0xDF, 0xE0});  // FNSTSW AX: a control instruction
  EXPECT_EQ(cpu.fpu.fip, 0x123au);
}

}  // namespace
}  // namespace popek::test
