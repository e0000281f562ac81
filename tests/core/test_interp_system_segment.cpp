// Segment register loads (real, V86, protected mode) with their checks and
// error codes; MOV/PUSH/POP Sreg, LxS; LAR LSL VERR VERW ARPL.
#include "tests/core/test_interp_system_fixture.h"

namespace popek::test {
namespace {

constexpr uint8_t kMovDsAx[] = {0x8e, 0xd8};
constexpr uint8_t kMovSsAx[] = {0x8e, 0xd0};

struct SystemSegment : SysFixture {
  void mov_ds(uint16_t s) {
    cpu.regs[EAX] = s;
    run1({kMovDsAx[0], kMovDsAx[1]});
  }
  void mov_ss(uint16_t s) {
    cpu.regs[EAX] = s;
    run1({kMovSsAx[0], kMovSsAx[1]});
  }
};

TEST_F(SystemSegment, RealModeLoadKeepsCachedLimitAndBigBits) {
  real_mode();
  cpu.seg[DS].limit = 0xffffffffu;  // "unreal mode" left behind by protected mode
  cpu.seg[DS].attr = seg_attr::P | seg_attr::S | seg_attr::WRITABLE | seg_attr::G | seg_attr::DB |
                     seg_attr::EXPAND_DOWN | (3 << seg_attr::DPL_SHIFT);
  cpu.regs[EAX] = 0x1234;
  load(0x1000, {0x8e, 0xd8});
  step();
  EXPECT_EQ(cpu.seg[DS].selector, 0x1234);
  EXPECT_EQ(cpu.seg[DS].base, 0x12340u);
  EXPECT_EQ(cpu.seg[DS].limit, 0xffffffffu);
  EXPECT_EQ(cpu.seg[DS].attr, seg_attr::P | seg_attr::S | seg_attr::WRITABLE | seg_attr::ACCESSED |
                                  seg_attr::G | seg_attr::DB);
  EXPECT_EQ(cpu.eip, 0x1002u);
}

TEST_F(SystemSegment, V86LoadIsReadWriteDataDpl3With64KLimit) {
  protected_mode(0);
  cpu.eflags |= flag::VM;
  cpu.cpl = 3;
  interp.load_segment(ES, 0xb800);
  EXPECT_EQ(cpu.seg[ES].base, 0xb8000u);
  EXPECT_EQ(cpu.seg[ES].limit, 0xffffu);
  EXPECT_EQ(cpu.seg[ES].attr, 0xf3);
}

TEST_F(SystemSegment, ProtectedLoadFillsCacheAndSetsAccessedBit) {
  protected_mode(0);
  set_desc(sel::Free, 0x123000, 0x4567, acc::DataW, kFlags16);
  mov_ds(sel::Free);
  EXPECT_EQ(cpu.seg[DS].selector, sel::Free);
  EXPECT_EQ(cpu.seg[DS].base, 0x123000u);
  EXPECT_EQ(cpu.seg[DS].limit, 0x4567u);
  EXPECT_EQ(cpu.seg[DS].attr, acc::DataW | 1);
  EXPECT_EQ(desc_access(sel::Free), acc::DataW | 1) << "accessed bit written back";
  EXPECT_EQ(cpu.eip, kCodeAt + 2);
}

TEST_F(SystemSegment, NullSelectorInDsMakesItUnusable) {
  protected_mode(0);
  mov_ds(0x0003);
  EXPECT_EQ(cpu.seg[DS].selector, 3);
  EXPECT_FALSE(cpu.seg[DS].present());
  // A store through DS is now #GP(0): SGDT [ds:0x100].
  run1({0x3e, 0x0f, 0x01, 0x05, 0x00, 0x01, 0x00, 0x00});
  expect_fault(vec::GP, 0);
}

TEST_F(SystemSegment, DataLoadFaultsCarryTheSelector) {
  protected_mode(0);
  mov_ds(0x0800);  // beyond the GDT limit (0x7ff)
  expect_fault(vec::GP, 0x0800);

  protected_mode(0);
  mov_ds(sel::Tss0);  // system descriptor
  expect_fault(vec::GP, sel::Tss0);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::CodeX);  // execute-only code
  mov_ds(sel::Free | 2);
  expect_fault(vec::GP, sel::Free);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::DataW ^ acc::NotPresent);
  mov_ds(sel::Free);
  expect_fault(vec::NP, sel::Free);
}

TEST_F(SystemSegment, DataLoadPrivilegeRules) {
  protected_mode(3);
  mov_ds(sel::Data0 | 3);  // DPL 0 data at CPL 3
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Data0);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::DataW | acc::dpl(1));
  mov_ds(sel::Free | 2);  // RPL 2 > DPL 1
  expect_fault(vec::GP, sel::Free);

  protected_mode(3);
  set_desc(sel::Free, 0, 0xfffff, acc::CodeConfR);  // conforming readable code: no DPL check
  mov_ds(sel::Free | 3);
  EXPECT_EQ(cpu.seg[DS].selector, sel::Free | 3);
  EXPECT_EQ(cpu.eip, kCodeAt + 2);
}

TEST_F(SystemSegment, StackSegmentChecks) {
  protected_mode(0);
  mov_ss(0);
  expect_fault(vec::GP, 0);

  protected_mode(0);
  mov_ss(sel::Data0 | 1);  // RPL != CPL
  expect_fault(vec::GP, sel::Data0);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::DataR);  // read-only
  mov_ss(sel::Free);
  expect_fault(vec::GP, sel::Free);

  protected_mode(0);
  mov_ss(sel::Data3 & ~3);  // DPL 3 != CPL 0
  expect_fault(vec::GP, sel::Data3 & ~3);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::DataW ^ acc::NotPresent);
  mov_ss(sel::Free);
  EXPECT_EQ(cpu.eip, handler(vec::SS));
  EXPECT_EQ(stack32(0), sel::Free);
}

TEST_F(SystemSegment, MovSsOpensInterruptShadow) {
  protected_mode(0);
  mov_ss(sel::Data0);
  EXPECT_EQ(cpu.inhibit_irq, 1);
  EXPECT_EQ(cpu.eip, kCodeAt + 2);
}

TEST_F(SystemSegment, LdtSelectorsUseLdtr) {
  protected_mode(0);
  set_desc(sel::Ldt, kLdt, 0x0f, acc::Ldt, 0);
  set_desc(0x08, 0x4000, 0xffff, acc::DataW, kFlags16, kLdt);  // LDT entry 1
  cpu.regs[EAX] = sel::Ldt;
  run1({0x0f, 0x00, 0xd0});  // lldt ax
  ASSERT_EQ(cpu.ldtr.selector, sel::Ldt);
  mov_ds(0x000c);  // index 1, TI = 1
  EXPECT_EQ(cpu.seg[DS].base, 0x4000u);
  EXPECT_EQ(mem.read8(kLdt + 8 + 5), acc::DataW | 1);
  mov_ds(0x0014);  // index 2: beyond the LDT limit
  expect_fault(vec::GP, 0x0014);
}

TEST_F(SystemSegment, MovFromSregWidths) {
  protected_mode(0);
  cpu.regs[EAX] = 0xdeadbeef;
  run1({0x8c, 0xd8});  // mov eax, ds
  EXPECT_EQ(cpu.regs[EAX], sel::Data0);
  cpu.regs[EAX] = 0xdeadbeef;
  run1({0x66, 0x8c, 0xd8});  // mov ax, ds
  EXPECT_EQ(cpu.regs[EAX], 0xdead0000u | sel::Data0);
  mem.write32(0x100, 0xffffffffu);
  run1({0x8c, 0x1d, 0x00, 0x01, 0x00, 0x00});  // mov [0x100], ds
  EXPECT_EQ(mem.read32(0x100), 0xffff0000u | sel::Data0);
}

TEST_F(SystemSegment, PushSregWithOpsize32WritesLowWordOnly) {
  protected_mode(0);
  mem.write32(kStack0Top - 4, 0xaaaaaaaau);
  run1({0x1e});  // push ds
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 4);
  EXPECT_EQ(mem.read32(kStack0Top - 4), 0xaaaa0000u | sel::Data0);
  run1({0x66, 0x0f, 0xa0});  // push fs (16-bit)
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 6);
  EXPECT_EQ(mem.read16(kStack0Top - 6), sel::Data0);
}

TEST_F(SystemSegment, PopSregLoadsAndFaultsLeaveEspUnchanged) {
  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 4;
  mem.write32(kStack0Top - 4, sel::Data1 & ~3);  // DPL 1, RPL 0: fine at CPL 0
  run1({0x1f});  // pop ds
  EXPECT_EQ(cpu.seg[DS].selector, sel::Data1 & ~3);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top);

  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 4;
  mem.write32(kStack0Top - 4, 0x0800);  // beyond the GDT
  run1({0x1f});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0x0800u);
  EXPECT_EQ(stack32(1), kCodeAt);
  // The frame was pushed below the unchanged ESP.
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 4 - 16);
}

TEST_F(SystemSegment, PopSsInhibitsAndUsesOldStackSize) {
  protected_mode(0);
  cpu.regs[ESP] = kStack0Top - 4;
  mem.write32(kStack0Top - 4, sel::Data0);
  run1({0x17});  // pop ss
  EXPECT_EQ(cpu.regs[ESP], kStack0Top);
  EXPECT_EQ(cpu.inhibit_irq, 1);
}

TEST_F(SystemSegment, LdsAndLssLoadPointerOrFaultWithoutWritingRegister) {
  protected_mode(0);
  mem.write32(0x200, 0x12345678);
  mem.write16(0x204, sel::Data1 & ~3);
  cpu.regs[EBX] = 0;
  run1({0xc5, 0x1d, 0x00, 0x02, 0x00, 0x00});  // lds ebx, [0x200]
  EXPECT_EQ(cpu.regs[EBX], 0x12345678u);
  EXPECT_EQ(cpu.seg[DS].selector, sel::Data1 & ~3);

  protected_mode(0);
  mem.write16(0x204, sel::Code0);  // LSS with a code segment: #GP(sel)
  cpu.regs[ESP] = kStack0Top;
  run1({0x0f, 0xb2, 0x25, 0x00, 0x02, 0x00, 0x00});  // lss esp, [0x200]
  expect_fault(vec::GP, sel::Code0);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 16) << "ESP not loaded before the fault";
  EXPECT_EQ(cpu.inhibit_irq, 0) << "LSS opens no shadow";
}

// ---- LAR / LSL / VERR / VERW ----

struct Probe {
  uint8_t access;
  uint8_t flags;
  bool lar, lsl, verr, verw;
};

TEST_F(SystemSegment, LarLslVerrVerwAcrossDescriptorTypes) {
  const Probe probes[] = {
      {acc::DataW, kFlags32, true, true, true, true},
      {acc::DataR, kFlags16, true, true, true, false},
      {acc::CodeR, kFlags32, true, true, true, false},
      {acc::CodeX, kFlags32, true, true, false, false},
      {acc::Tss32, 0, true, true, false, false},
      {acc::Tss32 | 2, 0, true, true, false, false},  // busy
      {acc::Tss16, 0, true, true, false, false},
      {acc::Ldt, 0, true, true, false, false},
      {acc::CallGate32, 0, true, false, false, false},
      {acc::CallGate16, 0, true, false, false, false},
      {acc::TaskGate, 0, true, false, false, false},
      {acc::IntGate32, 0, false, false, false, false},
      {acc::TrapGate32, 0, false, false, false, false},
      {0x80, 0, false, false, false, false},  // type 0: reserved
      {0x88, 0, false, false, false, false},  // type 8: reserved
  };
  for (const Probe& p : probes) {
    SCOPED_TRACE(testing::Message() << "access byte 0x" << std::hex << int(p.access));
    protected_mode(0);
    set_desc(sel::Free, 0x345000, 0x12345, p.access, p.flags);
    const uint32_t hi = desc_hi(sel::Free);
    cpu.regs[EBX] = sel::Free;
    cpu.regs[EAX] = 0xcccccccc;
    run1({0x0f, 0x02, 0xc3});  // lar eax, bx
    EXPECT_EQ(bool(cpu.eflags & flag::ZF), p.lar);
    EXPECT_EQ(cpu.regs[EAX], p.lar ? (hi & 0x00f0ff00u) : 0xccccccccu);
    cpu.regs[EAX] = 0xcccccccc;
    run1({0x0f, 0x03, 0xc3});  // lsl eax, bx
    EXPECT_EQ(bool(cpu.eflags & flag::ZF), p.lsl);
    const uint32_t limit = (p.flags & 8) ? 0x12345fffu : 0x12345u;
    EXPECT_EQ(cpu.regs[EAX], p.lsl ? limit : 0xccccccccu);
    run1({0x0f, 0x00, 0xe3});  // verr bx
    EXPECT_EQ(bool(cpu.eflags & flag::ZF), p.verr);
    run1({0x0f, 0x00, 0xeb});  // verw bx
    EXPECT_EQ(bool(cpu.eflags & flag::ZF), p.verw);
  }
}

TEST_F(SystemSegment, ProbesApplyDplRulesExceptForConformingCode) {
  protected_mode(3);
  const uint32_t flags_before = cpu.eflags | flag::ZF;
  cpu.eflags = flags_before;
  cpu.regs[EBX] = sel::Data0 | 3;  // DPL 0 data at CPL 3
  run1({0x0f, 0x02, 0xc3});
  EXPECT_FALSE(cpu.eflags & flag::ZF);
  EXPECT_EQ(cpu.eflags | flag::ZF, flags_before) << "only ZF changes";

  set_desc(sel::Free, 0, 0xfffff, acc::CodeConfR);  // conforming, DPL 0
  cpu.regs[EBX] = sel::Free | 3;
  run1({0x0f, 0x00, 0xe3});  // verr
  EXPECT_TRUE(cpu.eflags & flag::ZF);

  cpu.regs[EBX] = sel::Data3;  // DPL 3, RPL 3 at CPL 3
  run1({0x0f, 0x00, 0xeb});  // verw
  EXPECT_TRUE(cpu.eflags & flag::ZF);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::DataW | acc::dpl(1));
  cpu.regs[EBX] = sel::Free | 2;  // RPL 2 > DPL 1
  run1({0x0f, 0x00, 0xe3});
  EXPECT_FALSE(cpu.eflags & flag::ZF);

  cpu.regs[EBX] = 0x0003;  // null
  run1({0x0f, 0x02, 0xc3});
  EXPECT_FALSE(cpu.eflags & flag::ZF);
  cpu.regs[EBX] = 0x0800;  // beyond the GDT
  run1({0x0f, 0x03, 0xc3});
  EXPECT_FALSE(cpu.eflags & flag::ZF);
}

TEST_F(SystemSegment, Lar16BitOperandKeepsUpperHalf) {
  protected_mode(0);
  cpu.regs[EBX] = sel::Code0;
  cpu.regs[EAX] = 0xabcd1234;
  run1({0x66, 0x0f, 0x02, 0xc3});  // lar ax, bx
  EXPECT_EQ(cpu.regs[EAX], 0xabcd0000u | (acc::CodeR << 8));
}

TEST_F(SystemSegment, ProbesAndArplAreUndefinedInRealMode) {
  real_mode();
  mem.write32(6 * 4, 0x00002000);  // IVT[6] = 0000:2000
  load(0x1000, {0x0f, 0x02, 0xc3});
  step();
  EXPECT_EQ(cpu.eip, 0x2000u);
  EXPECT_EQ(mem.read16(0x8000 - 6), 0x1000) << "#UD pushes the faulting IP";
  real_mode();
  load(0x1000, {0x63, 0xc8});  // arpl ax, cx
  step();
  EXPECT_EQ(cpu.eip, 0x2000u);
}

TEST_F(SystemSegment, ArplRaisesRplAndSetsZf) {
  protected_mode(0);
  cpu.regs[EAX] = 0x5551;
  cpu.regs[ECX] = 0x0003;
  run1({0x63, 0xc8});  // arpl ax, cx
  EXPECT_EQ(cpu.regs[EAX], 0x5553u);
  EXPECT_TRUE(cpu.eflags & flag::ZF);
  run1({0x63, 0xc8});
  EXPECT_EQ(cpu.regs[EAX], 0x5553u);
  EXPECT_FALSE(cpu.eflags & flag::ZF);
  mem.write16(0x300, 0x0010);
  run1({0x63, 0x0d, 0x00, 0x03, 0x00, 0x00});  // arpl [0x300], cx
  EXPECT_EQ(mem.read16(0x300), 0x0013);
  EXPECT_TRUE(cpu.eflags & flag::ZF);
}

}  // namespace
}  // namespace popek::test
