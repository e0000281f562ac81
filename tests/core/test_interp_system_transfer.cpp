// Far JMP/CALL/RET and IRET: real mode, direct protected-mode transfers,
// call gates (same level and inner with parameter copy), returns to outer
// levels, IRET to V86 mode and from V86 mode.
#include "tests/core/test_interp_system_fixture.h"

namespace popek::test {
namespace {

struct SystemTransfer : SysFixture {};

TEST_F(SystemTransfer, RealModeFarCallAndRetfImm) {
  real_mode();
  load(0x1000, {0x9a, 0x78, 0x56, 0x34, 0x12});  // call 0x1234:0x5678
  step();
  EXPECT_EQ(cpu.seg[CS].selector, 0x1234);
  EXPECT_EQ(cpu.seg[CS].base, 0x12340u);
  EXPECT_EQ(cpu.eip, 0x5678u);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 4);
  EXPECT_EQ(mem.read16(0x8000 - 4), 0x1005);
  EXPECT_EQ(mem.read16(0x8000 - 2), 0x0000);
  load(0x12340 + 0x5678, {0xca, 0x04, 0x00});  // retf 4
  step();
  EXPECT_EQ(cpu.seg[CS].selector, 0);
  EXPECT_EQ(cpu.eip, 0x1005u);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u + 4);
}

TEST_F(SystemTransfer, RealModeFarJumpBeyondCsLimitIsGp) {
  real_mode();
  mem.write32(13 * 4, 0x00003000);  // IVT[13] = 0000:3000
  load(0x1000, {0x66, 0xea, 0x00, 0x00, 0x01, 0x00, 0x34, 0x12});  // jmp dword 0x1234:0x10000
  step();
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(mem.read16(0x8000 - 6), 0x1000) << "faulting IP pushed, no error code in real mode";
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 6);
}

TEST_F(SystemTransfer, DirectFarJumpLoadsCsWithCplAsRpl) {
  protected_mode(0);
  set_desc(sel::Free, 0x100000, 0xffff, acc::CodeR, kFlags16);
  run1({0xea, 0x00, 0x30, 0x00, 0x00, sel::Free, 0x00});  // jmp Free:0x3000
  EXPECT_EQ(cpu.seg[CS].selector, sel::Free);
  EXPECT_EQ(cpu.seg[CS].base, 0x100000u);
  EXPECT_FALSE(cpu.seg[CS].big());
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(desc_access(sel::Free), acc::CodeR | 1);
}

TEST_F(SystemTransfer, DirectFarTransferPrivilegeRules) {
  protected_mode(3);
  run1({0xea, 0x00, 0x30, 0x00, 0x00, sel::Code0, 0x00});  // non-conforming DPL 0 from CPL 3
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Code0);

  protected_mode(3);
  set_desc(sel::Free, 0, 0xfffff, acc::CodeConfR);  // conforming DPL 0: CPL stays 3
  run1({0xea, 0x00, 0x30, 0x00, 0x00, sel::Free, 0x00});
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(cpu.seg[CS].selector, sel::Free | 3);
  EXPECT_EQ(cpu.cpl, 3);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfff, acc::CodeR, 0);  // limit 0xfff: offset 0x3000 beyond
  run1({0xea, 0x00, 0x30, 0x00, 0x00, sel::Free, 0x00});
  expect_fault(vec::GP, 0);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::CodeR ^ acc::NotPresent);
  run1({0x9a, 0x00, 0x30, 0x00, 0x00, sel::Free, 0x00});  // call
  expect_fault(vec::NP, sel::Free);
}

TEST_F(SystemTransfer, DirectFarCallPushesCsAndEip) {
  protected_mode(0);
  mem.write32(0x200, 0x3000);
  mem.write16(0x204, sel::Code0);
  run1({0xff, 0x1d, 0x00, 0x02, 0x00, 0x00});  // call far [0x200]
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 8);
  EXPECT_EQ(stack32(0), kCodeAt + 6);
  EXPECT_EQ(stack32(1), sel::Code0);
}

TEST_F(SystemTransfer, CallGateToInnerLevelSwitchesStackAndCopiesParameters) {
  protected_mode(3);
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate32 | acc::dpl(3), 2);
  cpu.regs[ESP] = kStack3Top - 8;
  mem.write32(kStack3Top - 8, 0x11111111);  // parameter 0
  mem.write32(kStack3Top - 4, 0x22222222);  // parameter 1
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free | 3, 0x00});  // call Free:0 (offset ignored)
  EXPECT_EQ(cpu.cpl, 0);
  EXPECT_EQ(cpu.seg[CS].selector, sel::Code0);
  EXPECT_EQ(cpu.eip, 0x3456u);
  EXPECT_EQ(cpu.seg[SS].selector, sel::Data0);  // TSS.SS0
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 24);
  EXPECT_EQ(stack32(0), kCodeAt + 7);
  EXPECT_EQ(stack32(1), sel::Code3);
  EXPECT_EQ(stack32(2), 0x11111111u);
  EXPECT_EQ(stack32(3), 0x22222222u);
  EXPECT_EQ(stack32(4), kStack3Top - 8);
  EXPECT_EQ(stack32(5), sel::Data3);
}

TEST_F(SystemTransfer, CallGate16CopiesWordsAndPushesWords) {
  protected_mode(3);
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate16 | acc::dpl(3), 3);
  cpu.regs[ESP] = kStack3Top - 6;
  mem.write16(kStack3Top - 6, 0xaaaa);
  mem.write16(kStack3Top - 4, 0xbbbb);
  mem.write16(kStack3Top - 2, 0xcccc);
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free | 3, 0x00});
  EXPECT_EQ(cpu.eip, 0x3456u);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 14);
  const uint16_t expect[] = {uint16_t(kCodeAt + 7), sel::Code3, 0xaaaa, 0xbbbb, 0xcccc,
                             uint16_t(kStack3Top - 6), sel::Data3};
  for (unsigned i = 0; i < 7; ++i) EXPECT_EQ(stack16(i), expect[i]) << "slot " << i;
}

TEST_F(SystemTransfer, CallGateChecks) {
  protected_mode(3);
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate32);  // gate DPL 0 < CPL 3
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free | 3, 0x00});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Free);

  protected_mode(0);
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate32 ^ acc::NotPresent);
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free, 0x00});
  expect_fault(vec::NP, sel::Free);

  protected_mode(0);
  set_gate(sel::Free, sel::Data0, 0x3456, acc::CallGate32);  // target is not code
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free, 0x00});
  expect_fault(vec::GP, sel::Data0);

  protected_mode(0);
  set_gate(sel::Free, sel::Code3 & ~3, 0x3456, acc::CallGate32);  // DPL 3 > CPL 0
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free, 0x00});
  expect_fault(vec::GP, sel::Code3 & ~3);

  protected_mode(3);  // JMP through a gate may not change privilege
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate32 | acc::dpl(3));
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Free | 3, 0x00});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Code0);
}

TEST_F(SystemTransfer, InnerStackFromTssIsValidated) {
  protected_mode(3);
  // #TS is handled at ring 3 (same level), so its delivery needs no TSS stack.
  set_idt(vec::TS, sel::Code3, handler(vec::TS), acc::IntGate32 | acc::dpl(3));
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate32 | acc::dpl(3));
  mem.write32(kTss0 + 8, sel::Data3);  // SS0 with DPL 3 for a DPL 0 handler
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free | 3, 0x00});
  expect_fault(vec::TS, sel::Data3 & ~3);
  EXPECT_EQ(cpu.cpl, 3);
  EXPECT_EQ(cpu.regs[ESP], kStack3Top - 16);

  protected_mode(3);
  set_idt(vec::TS, sel::Code3, handler(vec::TS), acc::IntGate32 | acc::dpl(3));
  set_gate(sel::Free, sel::Code0, 0x3456, acc::CallGate32 | acc::dpl(3));
  set_desc(sel::Tss0, kTss0, 0x07, acc::Tss32 | 2, 0);  // SS0:ESP0 beyond the TSS limit
  cpu.tr = cache_of(sel::Tss0);
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free | 3, 0x00});
  expect_fault(vec::TS, sel::Tss0);
}

TEST_F(SystemTransfer, FarReturnToOuterLevelNullsInaccessibleDataSegments) {
  protected_mode(0);
  // A frame as a CPL 3 caller through a call gate leaves it, with 8 bytes of parameters.
  cpu.regs[ESP] = kStack0Top - 24;
  mem.write32(kStack0Top - 24, 0x2222);         // EIP
  mem.write32(kStack0Top - 20, sel::Code3);     // CS
  mem.write32(kStack0Top - 8, kStack3Top - 8);  // ESP
  mem.write32(kStack0Top - 4, sel::Data3);      // SS
  cpu.seg[DS] = cache_of(sel::Data0);           // DPL 0: nulled
  cpu.seg[ES] = cache_of(sel::Data3);           // DPL 3: kept
  set_desc(sel::Free, 0, 0xfffff, acc::CodeConfR);
  cpu.seg[FS] = cache_of(sel::Free);            // conforming code: kept
  run1({0xca, 0x08, 0x00});                     // retf 8
  EXPECT_EQ(cpu.cpl, 3);
  EXPECT_EQ(cpu.eip, 0x2222u);
  EXPECT_EQ(cpu.seg[CS].selector, sel::Code3);
  EXPECT_EQ(cpu.seg[SS].selector, sel::Data3);
  EXPECT_EQ(cpu.regs[ESP], kStack3Top);
  EXPECT_EQ(cpu.seg[DS].selector, 0);
  EXPECT_FALSE(cpu.seg[DS].present());
  EXPECT_EQ(cpu.seg[ES].selector, sel::Data3);
  EXPECT_EQ(cpu.seg[FS].selector, sel::Free);
}

TEST_F(SystemTransfer, FarReturnChecks) {
  protected_mode(3);
  cpu.regs[ESP] = kStack3Top - 8;
  mem.write32(kStack3Top - 8, 0x2222);
  mem.write32(kStack3Top - 4, sel::Code0);  // RPL 0 < CPL 3
  run1({0xcb});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Code0);
  EXPECT_EQ(stack32(4), kStack3Top - 8) << "outer ESP as before the RETF";

  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 16;
  mem.write32(kStack0Top - 16, 0x2222);
  mem.write32(kStack0Top - 12, sel::Code3);
  mem.write32(kStack0Top - 8, kStack3Top);
  mem.write32(kStack0Top - 4, sel::Data0 | 3);  // SS DPL 0 != RPL 3
  run1({0xcb});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Data0);
  EXPECT_EQ(cpu.cpl, 0);
}

TEST_F(SystemTransfer, RetfSameLevel16BitOperand) {
  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 4;
  mem.write16(kStack0Top - 4, 0x1234);
  mem.write16(kStack0Top - 2, sel::Code0);
  run1({0x66, 0xcb});
  EXPECT_EQ(cpu.eip, 0x1234u);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top);
}

TEST_F(SystemTransfer, AccessedBitPageFaultCommitsNothing) {
  protected_mode(0);
  // Identity paging with the GDT page read-only and CR0.WP: setting an
  // accessed bit page-faults. The handler's CS is already accessed.
  const uint32_t pd = 0x100000, pt = 0x101000;
  for (uint32_t i = 0; i < 1024; ++i) {
    mem.write32(pd + 4 * i, 0);
    mem.write32(pt + 4 * i, (i << 12) | 0x3);
  }
  mem.write32(pd, pt | 0x3);
  mem.write32(pt + 4 * (kGdt >> 12), kGdt | 0x1);
  set_desc(sel::Code0, 0, 0xfffff, acc::CodeR | 1);
  set_desc(sel::Free, 0, 0xfffff, acc::CodeR);  // not yet accessed
  cpu.cr3 = pd;
  cpu.cr0 |= cr0::PG | cr0::WP;
  interp.mmu.flush(true);
  run1({0x9a, 0x00, 0x30, 0x00, 0x00, sel::Free, 0x00});  // call Free:0x3000
  expect_fault(vec::PF, 0x3);  // present, write, supervisor
  EXPECT_EQ(cpu.cr2, kGdt + sel::Free + 5);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 16) << "the far call's pushes were not committed";
  EXPECT_EQ(stack32(2), sel::Code0);
}

// ---- IRET ----

TEST_F(SystemTransfer, IretToOuterLevelAppliesFlagRules) {
  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 20;
  const uint32_t popped = flag::IF | flag::IOPL | flag::CF | flag::ID | flag::AC | flag::FIXED1;
  const uint32_t frame[] = {0x2222, sel::Code3, popped, kStack3Top - 0x40, sel::Data3};
  for (int i = 0; i < 5; ++i) mem.write32(kStack0Top - 20 + 4 * i, frame[i]);
  run1({0xcf});
  EXPECT_EQ(cpu.cpl, 3);
  EXPECT_EQ(cpu.eip, 0x2222u);
  EXPECT_EQ(cpu.regs[ESP], kStack3Top - 0x40);
  EXPECT_EQ(cpu.seg[SS].selector, sel::Data3);
  EXPECT_EQ(cpu.eflags, popped) << "CPL 0 may set IOPL and IF";
  EXPECT_FALSE(cpu.seg[DS].present()) << "DPL 0 data nulled";

  // Now at CPL 3 with IOPL 3: IRET at the same level may change IF, not IOPL.
  cpu.regs[ESP] = kStack3Top - 12;
  const uint32_t frame2[] = {0x3333, sel::Code3, flag::FIXED1};
  for (int i = 0; i < 3; ++i) mem.write32(kStack3Top - 12 + 4 * i, frame2[i]);
  run1({0xcf});
  EXPECT_EQ(cpu.eip, 0x3333u);
  EXPECT_EQ(cpu.eflags, flag::IOPL | flag::FIXED1);
}

TEST_F(SystemTransfer, IretAtCpl3WithIopl0KeepsIfAndIopl) {
  protected_mode(3);
  cpu.eflags = flag::IF | flag::FIXED1;
  cpu.regs[ESP] = kStack3Top - 12;
  const uint32_t frame[] = {0x3333, sel::Code3, flag::IOPL | flag::ZF | flag::FIXED1};
  for (int i = 0; i < 3; ++i) mem.write32(kStack3Top - 12 + 4 * i, frame[i]);
  run1({0xcf});
  EXPECT_EQ(cpu.eflags, flag::IF | flag::ZF | flag::FIXED1);
}

TEST_F(SystemTransfer, IretToV86) {
  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 36;
  const uint32_t frame[] = {0x0100, 0x2000, flag::VM | flag::IF | flag::FIXED1, 0xfffe, 0x3000,
                            0x4000, 0x5000, 0x6000, 0x7000};
  for (int i = 0; i < 9; ++i) mem.write32(kStack0Top - 36 + 4 * i, frame[i]);
  run1({0xcf});
  EXPECT_TRUE(cpu.eflags & flag::VM);
  EXPECT_EQ(cpu.cpl, 3);
  EXPECT_EQ(cpu.eip, 0x100u);
  EXPECT_EQ(cpu.regs[ESP], 0xfffeu);
  const uint16_t sels[6] = {0x4000, 0x2000, 0x3000, 0x5000, 0x6000, 0x7000};  // ES CS SS DS FS GS
  for (int s = 0; s < 6; ++s) {
    EXPECT_EQ(cpu.seg[s].selector, sels[s]);
    EXPECT_EQ(cpu.seg[s].base, uint32_t(sels[s]) << 4);
    EXPECT_EQ(cpu.seg[s].limit, 0xffffu);
  }
  EXPECT_FALSE(interp.code32());
}

TEST_F(SystemTransfer, IretInV86RequiresIopl3) {
  protected_mode(0);
  set_idt(vec::GP, sel::Code0, handler(vec::GP), acc::IntGate32);
  cpu.eflags = flag::VM | flag::FIXED1;  // IOPL 0
  cpu.cpl = 3;
  for (SegReg s : {ES, CS, SS, DS, FS, GS}) interp.load_segment(s, 0x0100);
  cpu.regs[ESP] = 0x100;
  cpu.eip = 0x10;
  load(0x1000 + 0x10, {0xcf});
  step();
  // #GP(0) from V86 to ring 0: GS FS DS ES SS ESP EFLAGS CS EIP error.
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(cpu.cpl, 0);
  EXPECT_FALSE(cpu.eflags & flag::VM);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 40);
  const uint32_t expect[] = {0,     0x10,  0x100, flag::VM | flag::RF | flag::FIXED1, 0x100, 0x100,
                             0x100, 0x100, 0x100, 0x100};
  for (unsigned i = 0; i < 10; ++i) EXPECT_EQ(stack32(i), expect[i]) << "slot " << i;
  for (SegReg s : {ES, DS, FS, GS}) {
    EXPECT_EQ(cpu.seg[s].selector, 0);
    EXPECT_FALSE(cpu.seg[s].present());
  }
}

TEST_F(SystemTransfer, IretInV86AtIopl3KeepsIoplAndVm) {
  protected_mode(0);
  cpu.eflags = flag::VM | flag::IOPL | flag::FIXED1;
  cpu.cpl = 3;
  for (SegReg s : {ES, CS, SS, DS, FS, GS}) interp.load_segment(s, 0x0100);
  cpu.regs[ESP] = 0x100;
  cpu.eip = 0x10;
  mem.write16(0x1000 + 0x100, 0x0050);  // IP
  mem.write16(0x1000 + 0x102, 0x0200);  // CS
  mem.write16(0x1000 + 0x104, flag::IF | flag::CF);  // FLAGS, IOPL 0
  load(0x1000 + 0x10, {0xcf});
  step();
  EXPECT_EQ(cpu.eip, 0x50u);
  EXPECT_EQ(cpu.seg[CS].base, 0x2000u);
  EXPECT_EQ(cpu.eflags, flag::VM | flag::IOPL | flag::IF | flag::CF | flag::FIXED1);
  EXPECT_EQ(cpu.regs[ESP], 0x106u);
}

TEST_F(SystemTransfer, RealModeIret16And32) {
  real_mode();
  cpu.eflags = flag::FIXED1 | flag::AC;
  mem.write16(0x8000, 0x2000);
  mem.write16(0x8002, 0x0100);
  mem.write16(0x8004, flag::IF | flag::IOPL | flag::NT | 0x8000 | flag::ZF);
  load(0x1000, {0xcf});
  step();
  EXPECT_EQ(cpu.eip, 0x2000u);
  EXPECT_EQ(cpu.seg[CS].base, 0x1000u);
  EXPECT_EQ(cpu.eflags, flag::AC | flag::IF | flag::IOPL | flag::NT | flag::ZF | flag::FIXED1)
      << "upper half kept, bit 15 reserved";

  real_mode();
  cpu.eflags = flag::FIXED1;
  mem.write32(0x8000, 0x3000);
  mem.write32(0x8004, 0x0000);
  mem.write32(0x8008, flag::VM | flag::RF | flag::AC | flag::IF | flag::FIXED1);
  load(0x1000, {0x66, 0xcf});
  step();
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(cpu.eflags, flag::AC | flag::IF | flag::FIXED1) << "VM not loadable; RF cleared after the instruction";
  EXPECT_EQ(cpu.regs[ESP], 0x800cu);
}

}  // namespace
}  // namespace popek::test
