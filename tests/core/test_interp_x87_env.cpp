// x87 state images: FNSTENV/FLDENV and FNSAVE/FRSTOR in the 16/32-bit,
// protected/real-mode layouts, FXSAVE/FXRSTOR, and the control-word and
// status-word instructions.
#include <limits>

#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

using namespace x87::swb;

constexpr uint32_t kImage = 0x4000;
const long double kDenormal = ld_from(0x0000000000012345ull, 0);

class X87EnvTest : public X87Test {
 protected:
  // ST(0)=2.0 (valid, loaded by FLD m64 at CS:`eip` from DS:`data`),
  // ST(1)=denormal (special), ST(2)=0 (zero); TOP=5, tag word 63FF.
  void build_state(uint32_t eip, uint32_t data) {
    fninit();
    push(0.0L);
    push(kDenormal);
    put_double(cpu.seg[DS].base + data, 2.0);
    cpu.eip = eip;
    ok(m(0xDD, 0, data));
    set_cw(0x0362);
  }
  uint32_t d32(unsigned i) { return mem.read32(kImage + 4 * i); }
  uint16_t w16(unsigned i) { return mem.read16(kImage + 2 * i); }
  // Real mode with CS=1000h (IP 0200h: linear 10200h) and DS=2000h.
  void real_mode_high() {
    real_mode();
    cpu.cr0 |= cr0::NE;
    cpu.seg[CS].selector = 0x1000;
    cpu.seg[CS].base = 0x10000;
    cpu.seg[DS].selector = 0x2000;
    cpu.seg[DS].base = 0x20000;
    cpu.eip = 0x200;
  }
};

TEST_F(X87EnvTest, Fnstenv32ProtectedLayout) {
  build_state(0x1200, 0x3000);
  EXPECT_EQ(cpu.fpu.tw, 0x63ff);
  ok(m(0xD9, 6, kImage));
  EXPECT_EQ(d32(0), 0xffff0362u);
  EXPECT_EQ(d32(1), 0xffff2800u);
  EXPECT_EQ(d32(2), 0xffff63ffu);
  EXPECT_EQ(d32(3), 0x1200u);
  EXPECT_EQ(d32(4), 0x05050008u);  // FOP 505 (DD 05) : FCS 08
  EXPECT_EQ(d32(5), 0x3000u);
  EXPECT_EQ(d32(6), 0xffff0010u);
  EXPECT_EQ(cpu.fpu.cw, 0x037f);  // FNSTENV masks every exception
}

TEST_F(X87EnvTest, Fnstenv16ProtectedLayout) {
  build_state(0x1200, 0x3000);
  ok(m(0xD9, 6, kImage, {0x66}));
  const uint16_t want[] = {0x0362, 0x2800, 0x63ff, 0x1200, 0x0008, 0x3000, 0x0010};
  for (unsigned i = 0; i < 7; ++i) EXPECT_EQ(w16(i), want[i]) << i;
  EXPECT_EQ(mem.read16(kImage + 14), 0);  // nothing beyond 14 bytes
}

TEST_F(X87EnvTest, FnstenvRealModeLayouts) {
  real_mode_high();
  build_state(0x200, 0x100);  // FIP linear 10200h, FDP linear 20100h
  const uint32_t at = 0x21000;  // DS:1000
  ok(m(0xD9, 6, 0x1000));      // 16-bit layout
  // FOP 506h: DD 06 (disp16 form).
  const uint16_t want16[] = {0x0362, 0x2800, 0x63ff, 0x0200, 0x1506, 0x0100, 0x2000};
  for (unsigned i = 0; i < 7; ++i) EXPECT_EQ(mem.read16(at + 2 * i), want16[i]) << i;

  build_state(0x200, 0x100);
  ok(m(0xD9, 6, 0x1000, {0x66}));  // 32-bit real-mode layout
  const uint32_t want32[] = {0xffff0362, 0xffff2800, 0xffff63ff, 0xffff0200, 0x00001506, 0xffff0100, 0x00002000};
  for (unsigned i = 0; i < 7; ++i) EXPECT_EQ(mem.read32(at + 4 * i), want32[i]) << i;
}

TEST_F(X87EnvTest, FldenvRoundTripsEveryLayout) {
  struct Layout {
    bool real;
    bool op32;
  };
  for (Layout l : {Layout{false, true}, Layout{false, false}, Layout{true, true}, Layout{true, false}}) {
    if (l.real) {
      real_mode_high();
      build_state(0x200, 0x100);
    } else {
      flat32();
      cpu.cr0 |= cr0::NE;
      build_state(0x1200, 0x3000);
    }
    const Bytes prefix = l.op32 == !l.real ? Bytes{} : Bytes{0x66};
    const uint32_t off = l.real ? 0x1000 : kImage;
    const uint32_t base = cpu.seg[DS].base;
    ok(m(0xD9, 6, off, prefix));  // FNSTENV
    fninit();
    ok(m(0xD9, 4, off, prefix));  // FLDENV
    EXPECT_EQ(cpu.fpu.cw, 0x0362);
    EXPECT_EQ(top(), 5u);
    EXPECT_EQ(cpu.fpu.tw, 0x63ff);
    EXPECT_EQ(st_ld(0), 2.0L);
    ok(m(0xD9, 6, off + 0x100, prefix));  // and the same image again
    uint8_t a[28], b[28];
    mem.read_bytes(base + off, a, 28);
    mem.read_bytes(base + off + 0x100, b, 28);
    EXPECT_EQ(0, std::memcmp(a, b, l.op32 ? 28 : 14)) << l.real << l.op32;
  }
}

TEST_F(X87EnvTest, FldenvRecomputesSummaryAndTags) {
  // A tag word claiming "valid" for everything: only empty/non-empty counts.
  push(0.0L);
  ok(m(0xD9, 6, kImage));
  mem.write32(kImage + 0, 0xffff037b);  // ZM=0
  mem.write32(kImage + 4, 0xffff0000 | 0x3800 | ZE);
  mem.write32(kImage + 8, 0xffff3fff);  // R7 "valid" (holds +0)
  ok(m(0xD9, 4, kImage));
  EXPECT_EQ(cpu.fpu.tw, 0x7fff);  // R7 is zero
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  EXPECT_TRUE(cpu.fpu.sw & B);
  EXPECT_EQ(fault({0x9B}), vec::MF);
}

TEST_F(X87EnvTest, FldcwIsWaitingAndRecomputesSummary) {
  set_cw(0x37b);
  push(0.0L);
  push(1.0L);
  ok({0xD8, 0xF1});  // 1/0 with ZM=0: pending
  mem.write16(0x2ff0, 0x037f);
  EXPECT_EQ(fault(m(0xD9, 5, 0x2ff0)), vec::MF);
  ok({0xDB, 0xE2});  // FNCLEX
  ok(m(0xD9, 5, 0x2ff0));
  // Unmasking a flagged exception makes it pending.
  ok({0xD8, 0xF1});  // masked ZE: flagged only
  EXPECT_FALSE(cpu.fpu.sw & x87::swb::ES);
  mem.write16(0x2ff0, 0x037b);
  ok(m(0xD9, 5, 0x2ff0));
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  // Reserved bits: 6 reads as 1; 7 and 13-15 as 0; IC (12) is kept.
  ok({0xDB, 0xE3});
  mem.write16(0x2ff0, 0xffff);
  ok(m(0xD9, 5, 0x2ff0));
  ok(m(0xD9, 7, 0x2ff2));  // FNSTCW
  EXPECT_EQ(mem.read16(0x2ff2), 0x1f7f);
  mem.write16(0x2ff0, 0x0000);
  ok(m(0xD9, 5, 0x2ff0));
  EXPECT_EQ(cpu.fpu.cw, 0x0040);
}

TEST_F(X87EnvTest, FnsaveFrstorRoundTripAllLayouts) {
  struct Layout {
    bool real;
    bool prefix;
    unsigned env;
  };
  for (Layout l : {Layout{false, false, 28}, Layout{false, true, 14}, Layout{true, true, 28}, Layout{true, false, 14}}) {
    if (l.real) {
      real_mode_high();
      build_state(0x200, 0x100);
    } else {
      flat32();
      cpu.cr0 |= cr0::NE;
      build_state(0x1200, 0x3000);
    }
    const Bytes prefix = l.prefix ? Bytes{0x66} : Bytes{};
    const uint32_t off = l.real ? 0x1000 : kImage;
    const uint32_t base = cpu.seg[DS].base;
    const X87State before = cpu.fpu;
    ok(m(0xDD, 6, off, prefix));  // FNSAVE
    // Registers in stack order after the environment.
    EXPECT_TRUE(bits_eq(get80(base + off + l.env), f80(2.0L)));
    EXPECT_TRUE(bits_eq(get80(base + off + l.env + 10), f80(kDenormal)));
    EXPECT_TRUE(bits_eq(get80(base + off + l.env + 20), f80(0.0L)));
    // FNSAVE reinitializes.
    EXPECT_EQ(cpu.fpu.cw, 0x037f);
    EXPECT_EQ(cpu.fpu.sw, 0);
    EXPECT_EQ(cpu.fpu.tw, 0xffff);
    EXPECT_EQ(cpu.fpu.fip, 0u);
    ok(m(0xDD, 4, off, prefix));  // FRSTOR
    EXPECT_EQ(cpu.fpu.cw, before.cw);
    EXPECT_EQ(cpu.fpu.sw, before.sw);
    EXPECT_EQ(cpu.fpu.tw, before.tw);
    EXPECT_EQ(cpu.fpu.fop, (l.real || !l.prefix) ? before.fop : 0);  // 16-bit protected has no FOP
    for (unsigned i = 0; i < 3; ++i) EXPECT_TRUE(bits_eq(st(i), before.st[(5 + i) & 7]));
    if (!l.real) {
      EXPECT_EQ(cpu.fpu.fip, before.fip);
      EXPECT_EQ(cpu.fpu.fdp, before.fdp);
      EXPECT_EQ(cpu.fpu.fcs, before.fcs);
    } else {
      EXPECT_EQ(cpu.fpu.fip, 0x10200u);  // linear, selector 0
      EXPECT_EQ(cpu.fpu.fdp, 0x20100u);
    }
  }
}

TEST_F(X87EnvTest, FnsaveChecksTheWholeImageBeforeWriting) {
  build_state(0x1200, 0x3000);
  const X87State before = cpu.fpu;
  cpu.seg[DS].limit = kImage + 100;
  mem.write32(kImage, 0xabcdef01);
  EXPECT_EQ(fault(m(0xDD, 6, kImage)), vec::GP);  // 108 bytes do not fit
  EXPECT_EQ(mem.read32(kImage), 0xabcdef01u);
  EXPECT_TRUE(same_state(before, cpu.fpu));
}

TEST_F(X87EnvTest, FxsaveLayout) {
  build_state(0x1200, 0x3000);
  std::vector<uint8_t> fill(512, 0xCC);
  mem.write_bytes(kImage, fill.data(), 512);
  const Bytes fxsave = {0x0F, 0xAE, 0x05, 0x00, 0x40, 0x00, 0x00};
  ok(fxsave);
  EXPECT_EQ(mem.read16(kImage + 0), 0x0362);
  EXPECT_EQ(mem.read16(kImage + 2), 0x2800);
  EXPECT_EQ(mem.read8(kImage + 4), 0xE0);  // abridged: R5, R6, R7 in use
  EXPECT_EQ(mem.read8(kImage + 5), 0);
  EXPECT_EQ(mem.read16(kImage + 6), 0x505);
  EXPECT_EQ(mem.read32(kImage + 8), 0x1200u);
  EXPECT_EQ(mem.read16(kImage + 12), 0x0008);
  EXPECT_EQ(mem.read32(kImage + 16), 0x3000u);
  EXPECT_EQ(mem.read16(kImage + 20), 0x0010);
  EXPECT_EQ(mem.read32(kImage + 24), 0x1f80u);
  EXPECT_EQ(mem.read32(kImage + 28), 0xffbfu);
  EXPECT_TRUE(bits_eq(get80(kImage + 32), f80(2.0L)));
  EXPECT_EQ(mem.read16(kImage + 42), 0);  // padding
  EXPECT_TRUE(bits_eq(get80(kImage + 48), f80(kDenormal)));
  EXPECT_TRUE(bits_eq(get80(kImage + 64), f80(0.0L)));
  EXPECT_EQ(mem.read32(kImage + 160), 0xCCCCCCCCu);  // no XMM state on this CPU
  EXPECT_EQ(mem.read32(kImage + 508), 0xCCCCCCCCu);
  EXPECT_EQ(cpu.fpu.tw, 0x63ff);  // FXSAVE does not reinitialize
}

TEST_F(X87EnvTest, FxrstorRoundTripAndChecks) {
  build_state(0x1200, 0x3000);
  const X87State before = cpu.fpu;
  ok({0x0F, 0xAE, 0x05, 0x00, 0x40, 0x00, 0x00});  // FXSAVE [4000]
  fninit();
  cpu.mxcsr = 0;
  ok({0x0F, 0xAE, 0x0D, 0x00, 0x40, 0x00, 0x00});  // FXRSTOR [4000]
  EXPECT_TRUE(same_state(before, cpu.fpu));
  EXPECT_EQ(cpu.mxcsr, 0x1f80u);
  // Misaligned: #GP(0).
  auto f = run({0x0F, 0xAE, 0x05, 0x08, 0x40, 0x00, 0x00});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(f->error_code, 0u);
  EXPECT_EQ(fault({0x0F, 0xAE, 0x0D, 0x04, 0x40, 0x00, 0x00}), vec::GP);
  // Reserved MXCSR bits (DAZ is not supported): #GP(0), nothing loaded.
  fninit();
  mem.write32(kImage + 24, 0x1fc0);
  EXPECT_EQ(fault({0x0F, 0xAE, 0x0D, 0x00, 0x40, 0x00, 0x00}), vec::GP);
  EXPECT_EQ(cpu.fpu.tw, 0xffff);
  EXPECT_EQ(cpu.mxcsr, 0x1f80u);
}

TEST_F(X87EnvTest, FxsaveAndFxrstorIgnorePendingExceptions) {
  set_cw(0x37b);
  push(0.0L);
  push(1.0L);
  ok({0xD8, 0xF1});  // pending ZE
  ASSERT_TRUE(cpu.fpu.sw & x87::swb::ES);
  ok({0x0F, 0xAE, 0x05, 0x00, 0x40, 0x00, 0x00});
  ok({0x0F, 0xAE, 0x0D, 0x00, 0x40, 0x00, 0x00});
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);  // still pending after the restore
  ok(m(0xDD, 6, kImage + 0x200));  // FNSAVE does not wait either
  EXPECT_EQ(cpu.fpu.sw, 0);
  // FRSTOR of an image with the pending exception re-arms it.
  ok(m(0xDD, 4, kImage + 0x200));
  EXPECT_TRUE(cpu.fpu.sw & x87::swb::ES);
  EXPECT_EQ(fault(m(0xDD, 4, kImage + 0x200)), vec::MF);  // FRSTOR itself waits
}

TEST_F(X87EnvTest, FxsaveInRealModeChecksLinearAlignment) {
  real_mode();
  cpu.seg[DS].selector = 0x0001;
  cpu.seg[DS].base = 0x10;
  EXPECT_EQ(fault({0x0F, 0xAE, 0x06, 0x00, 0x40}), 0xff);  // DS:4000 = linear 4010: aligned
  EXPECT_EQ(fault({0x0F, 0xAE, 0x06, 0x08, 0x40}), vec::GP);
}

TEST_F(X87EnvTest, StatusWordStores) {
  push(1.0L);
  push(2.0L);
  ok({0xDF, 0xE0});  // FNSTSW AX
  EXPECT_EQ(cpu.regs[EAX] & 0xffff, 0x3000u);
  ok(m(0xDD, 7, kImage));  // FNSTSW m16
  EXPECT_EQ(mem.read16(kImage), 0x3000);
}

}  // namespace
}  // namespace popek::test
