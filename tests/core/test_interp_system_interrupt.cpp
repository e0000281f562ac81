// Interrupt and exception delivery: IVT, IDT gates (interrupt, trap, 16/32
// bit), privilege changes, gate checks with error codes and the EXT bit,
// V86 interrupts, double and triple faults, the single-step trap.
#include "tests/core/test_interp_system_fixture.h"

namespace popek::test {
namespace {

struct SystemInterrupt : SysFixture {};

constexpr uint8_t kUd2[] = {0x0f, 0x0b};

TEST_F(SystemInterrupt, IntNSameLevelThroughInterruptGateClearsIf) {
  protected_mode(0);
  cpu.eflags = flag::IF | flag::TF | flag::NT | flag::CF | flag::FIXED1;
  cpu.eflags &= ~flag::TF;  // (TF tested separately)
  const uint32_t before = cpu.eflags;
  run1({0xcd, 0x80});
  EXPECT_EQ(cpu.eip, handler(0x80));
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 12);
  EXPECT_EQ(stack32(0), kCodeAt + 2);
  EXPECT_EQ(stack32(1), sel::Code0);
  EXPECT_EQ(stack32(2), before);
  EXPECT_EQ(cpu.eflags, flag::CF | flag::FIXED1) << "IF and NT cleared";
}

TEST_F(SystemInterrupt, TrapGateKeepsIf) {
  protected_mode(0);
  set_idt(0x80, sel::Code0, handler(0x80), acc::TrapGate32);
  cpu.eflags = flag::IF | flag::FIXED1;
  run1({0xcd, 0x80});
  EXPECT_EQ(cpu.eip, handler(0x80));
  EXPECT_TRUE(cpu.eflags & flag::IF);
}

TEST_F(SystemInterrupt, IntNFromRing3SwitchesToTssStack) {
  protected_mode(3);
  set_idt(0x80, sel::Code0, handler(0x80), acc::IntGate32 | acc::dpl(3));
  cpu.eflags = flag::IF | flag::FIXED1;
  run1({0xcd, 0x80});
  EXPECT_EQ(cpu.cpl, 0);
  EXPECT_EQ(cpu.eip, handler(0x80));
  EXPECT_EQ(cpu.seg[CS].selector, sel::Code0);
  EXPECT_EQ(cpu.seg[SS].selector, sel::Data0);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 20);
  const uint32_t expect[] = {kCodeAt + 2, sel::Code3, flag::IF | flag::FIXED1, kStack3Top, sel::Data3};
  for (unsigned i = 0; i < 5; ++i) EXPECT_EQ(stack32(i), expect[i]) << "slot " << i;
  EXPECT_EQ(cpu.seg[DS].selector, sel::Data3) << "data segments untouched (not from V86)";
}

TEST_F(SystemInterrupt, ExceptionFromRing3PushesErrorCodeOnInnerStack) {
  protected_mode(3);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // jmp 0:0 -> #GP(0)
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 24);
  const uint32_t expect[] = {0, kCodeAt, sel::Code3, flag::RF | flag::FIXED1, kStack3Top, sel::Data3};
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(stack32(i), expect[i]) << "slot " << i;
}

TEST_F(SystemInterrupt, SoftwareIntChecksGateDpl) {
  protected_mode(3);
  run1({0xcd, 0x80});  // gate DPL 0
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0x80u * 8 + 2);
  EXPECT_EQ(stack32(1), kCodeAt) << "#GP is a fault on the INT";

  protected_mode(3);
  run1({0xcc});  // INT3 is checked too
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 3u * 8 + 2);

  protected_mode(3);
  run1({0xf1});  // INT1 (ICEBP) is not
  EXPECT_EQ(cpu.eip, handler(vec::DB));
  EXPECT_EQ(stack32(0), kCodeAt + 1);

  protected_mode(3);  // nor are hardware interrupts
  interp.interrupt(0x80, IntKind::Hardware, false, 0, cpu.eip);
  EXPECT_EQ(cpu.eip, handler(0x80));
}

TEST_F(SystemInterrupt, GateErrorsCarryExtForExceptions) {
  protected_mode(0);
  set_idt(0x80, sel::Code0, handler(0x80), acc::IntGate32 ^ acc::NotPresent);
  run1({0xcd, 0x80});
  expect_fault(vec::NP, 0x80 * 8 + 2);

  protected_mode(0);
  set_idt(vec::UD, sel::Code0, handler(vec::UD), acc::IntGate32 ^ acc::NotPresent);
  run1({kUd2[0], kUd2[1]});
  expect_fault(vec::NP, vec::UD * 8 + 3);

  protected_mode(0);
  set_idt(0x80, sel::Code0, handler(0x80), acc::CallGate32);  // not an IDT gate type
  run1({0xcd, 0x80});
  expect_fault(vec::GP, 0x80 * 8 + 2);

  protected_mode(0);
  cpu.idtr.limit = 0x80 * 8 + 6;  // vector 0x80's gate ends past the limit
  run1({0xcd, 0x80});
  expect_fault(vec::GP, 0x80 * 8 + 2);

  protected_mode(0);
  set_idt(0x80, sel::Free, handler(0x80), acc::IntGate32);  // null descriptor slot: not code
  run1({0xcd, 0x80});
  expect_fault(vec::GP, sel::Free);

  protected_mode(0);
  set_desc(sel::Free, 0, 0xfffff, acc::CodeR ^ acc::NotPresent);
  set_idt(vec::UD, sel::Free, handler(vec::UD), acc::IntGate32);
  run1({kUd2[0], kUd2[1]});
  expect_fault(vec::NP, sel::Free | 1);
}

TEST_F(SystemInterrupt, FaultFramesHaveRfTrapFramesDoNot) {
  protected_mode(0);
  run1({kUd2[0], kUd2[1]});
  expect_fault_no_error(vec::UD);
  EXPECT_TRUE(stack32(2) & flag::RF);
  EXPECT_FALSE(cpu.eflags & flag::RF);

  protected_mode(0);
  set_idt(3, sel::Code0, handler(3), acc::IntGate32);
  run1({0xcc});
  EXPECT_EQ(cpu.eip, handler(3));
  EXPECT_EQ(stack32(0), kCodeAt + 1);
  EXPECT_FALSE(stack32(2) & flag::RF);
}

TEST_F(SystemInterrupt, SixteenBitGatePushesWords) {
  protected_mode(0);
  set_idt(0x80, sel::Code0, 0x5678, acc::IntGate16);
  cpu.eflags = flag::IF | flag::FIXED1;
  run1({0xcd, 0x80});
  EXPECT_EQ(cpu.eip, 0x5678u);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 6);
  EXPECT_EQ(stack16(0), kCodeAt + 2);
  EXPECT_EQ(stack16(1), sel::Code0);
  EXPECT_EQ(stack16(2), flag::IF | flag::FIXED1);
}

TEST_F(SystemInterrupt, ContributoryDuringContributoryIsDoubleFault) {
  protected_mode(0);
  set_idt(vec::GP, sel::Code0, handler(vec::GP), acc::IntGate32 ^ acc::NotPresent);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // #GP(0) -> #NP -> #DF
  expect_fault(vec::DF, 0);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 16);
}

TEST_F(SystemInterrupt, BenignThenContributoryIsDeliveredSerially) {
  protected_mode(0);
  set_idt(vec::UD, sel::Code0, handler(vec::UD), acc::IntGate32 ^ acc::NotPresent);
  run1({kUd2[0], kUd2[1]});  // #UD (benign) -> #NP delivered normally
  expect_fault(vec::NP, vec::UD * 8 + 3);
}

TEST_F(SystemInterrupt, FaultDuringDoubleFaultIsTripleFault) {
  protected_mode(0);
  int hooks = 0;
  interp.hooks.on_triple_fault = [&] { ++hooks; };
  cpu.idtr.limit = 0;  // nothing deliverable
  load(kCodeAt, {kUd2[0], kUd2[1]});
  EXPECT_EQ(interp.step(), StepResult::TripleFault);
  EXPECT_EQ(hooks, 1);
}

TEST_F(SystemInterrupt, RealModeIntUsesIvt) {
  real_mode();
  mem.write32(0x21 * 4, 0x23450100);  // 2345:0100
  cpu.eflags = flag::IF | flag::TF | flag::AC | flag::CF | flag::FIXED1;
  load(0x1000, {0xcd, 0x21});
  step();
  EXPECT_EQ(cpu.seg[CS].selector, 0x2345);
  EXPECT_EQ(cpu.seg[CS].base, 0x23450u);
  EXPECT_EQ(cpu.eip, 0x0100u);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 6);
  EXPECT_EQ(mem.read16(0x8000 - 6), 0x1002);
  EXPECT_EQ(mem.read16(0x8000 - 4), 0x0000);
  EXPECT_EQ(mem.read16(0x8000 - 2), flag::IF | flag::TF | flag::CF | flag::FIXED1);
  EXPECT_EQ(cpu.eflags, flag::CF | flag::FIXED1);
}

TEST_F(SystemInterrupt, RealModeIvtLimitEndsInTripleFault) {
  real_mode();
  cpu.idtr.limit = 3;  // only vector 0: INT 21h, then #GP, then #DF fail
  load(0x1000, {0xcd, 0x21});
  EXPECT_EQ(interp.step(), StepResult::TripleFault);
}

// ---- V86 ----

struct SystemV86 : SysFixture {
  void enter_v86(uint32_t iopl) {
    protected_mode(0);
    cpu.eflags = flag::VM | flag::IF | flag::FIXED1 | (iopl << 12);
    cpu.cpl = 3;
    interp.load_segment(CS, 0x0100);
    interp.load_segment(SS, 0x0200);
    interp.load_segment(DS, 0x0300);
    interp.load_segment(ES, 0x0400);
    interp.load_segment(FS, 0x0500);
    interp.load_segment(GS, 0x0600);
    cpu.regs[ESP] = 0x0800;
    cpu.eip = 0x10;
  }
  void run_v86(std::initializer_list<uint8_t> code) {
    load(0x1000 + 0x10, code);
    step();
  }
};

TEST_F(SystemV86, SoftwareIntAtIopl3GoesToRing0WithSegmentsSaved) {
  enter_v86(3);
  set_idt(0x21, sel::Code0, handler(0x21), acc::IntGate32 | acc::dpl(3));
  run_v86({0xcd, 0x21});
  EXPECT_EQ(cpu.eip, handler(0x21));
  EXPECT_EQ(cpu.cpl, 0);
  EXPECT_FALSE(cpu.eflags & flag::VM);
  EXPECT_FALSE(cpu.eflags & flag::IF);
  EXPECT_TRUE(interp.code32());
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 36);
  const uint32_t expect[] = {0x12, 0x100, flag::VM | flag::IF | flag::IOPL | flag::FIXED1, 0x800, 0x200,
                             0x400, 0x300, 0x500, 0x600};
  for (unsigned i = 0; i < 9; ++i) EXPECT_EQ(stack32(i), expect[i]) << "slot " << i;
  for (SegReg s : {ES, DS, FS, GS}) {
    EXPECT_EQ(cpu.seg[s].selector, 0);
    EXPECT_FALSE(cpu.seg[s].present());
  }
}

TEST_F(SystemV86, SoftwareIntAtIopl0IsGp) {
  enter_v86(0);
  set_idt(0x21, sel::Code0, handler(0x21), acc::IntGate32 | acc::dpl(3));
  run_v86({0xcd, 0x21});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(stack32(1), 0x10u);
}

TEST_F(SystemV86, Int3AtIopl0GoesThroughTheIdt) {
  enter_v86(0);
  set_idt(3, sel::Code0, handler(3), acc::IntGate32 | acc::dpl(3));
  run_v86({0xcc});
  EXPECT_EQ(cpu.eip, handler(3));
  EXPECT_EQ(stack32(0), 0x11u);
}

TEST_F(SystemV86, HandlerMustBeRing0) {
  enter_v86(3);
  set_idt(0x21, sel::Code1 & ~3, handler(0x21), acc::IntGate32 | acc::dpl(3));
  set_idt(vec::GP, sel::Code0, handler(vec::GP), acc::IntGate32);
  run_v86({0xcd, 0x21});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), uint32_t(sel::Code1 & ~3));
}

// ---- single step ----

TEST_F(SystemInterrupt, SingleStepTrapsAfterTheInstruction) {
  protected_mode(0);
  set_idt(vec::DB, sel::Code0, handler(vec::DB), acc::IntGate32);
  cpu.eflags = flag::TF | flag::IF | flag::FIXED1;
  run1({0xfa});  // cli
  EXPECT_EQ(cpu.eip, handler(vec::DB));
  EXPECT_EQ(stack32(0), kCodeAt + 1);
  EXPECT_EQ(stack32(2), flag::TF | flag::FIXED1) << "IF already cleared by CLI; no RF on a trap";
  EXPECT_FALSE(cpu.eflags & flag::TF);
  EXPECT_TRUE(cpu.dr[6] & 0x4000) << "DR6.BS";
}

TEST_F(SystemInterrupt, MovSsDelaysTheSingleStepTrap) {
  protected_mode(0);
  cpu.eflags = flag::TF | flag::IF | flag::FIXED1;
  cpu.regs[EAX] = sel::Data0;
  load(kCodeAt, {0x8e, 0xd0, 0xfa});  // mov ss, ax; cli
  step();
  EXPECT_EQ(cpu.eip, kCodeAt + 2) << "no trap after MOV SS";
  step();
  EXPECT_EQ(cpu.eip, handler(vec::DB));
  EXPECT_EQ(stack32(0), kCodeAt + 3);
}

TEST_F(SystemInterrupt, NoSingleStepTrapAfterIntOrFault) {
  protected_mode(0);
  cpu.eflags = flag::TF | flag::FIXED1;
  run1({0xcd, 0x80});
  EXPECT_EQ(cpu.eip, handler(0x80));
  EXPECT_EQ(stack32(0), kCodeAt + 2);
  EXPECT_TRUE(stack32(2) & flag::TF);

  protected_mode(0);
  cpu.eflags = flag::TF | flag::FIXED1;
  run1({kUd2[0], kUd2[1]});
  expect_fault_no_error(vec::UD);
}

TEST_F(SystemInterrupt, IntoTrapsOnlyWithOverflow) {
  protected_mode(0);
  run1({0xce});
  EXPECT_EQ(cpu.eip, kCodeAt + 1);
  cpu.eflags |= flag::OF;
  run1({0xce});
  EXPECT_EQ(cpu.eip, handler(vec::OF));
  EXPECT_EQ(stack32(0), kCodeAt + 1);
}

TEST_F(SystemInterrupt, ExternalInterruptWakesFromHlt) {
  protected_mode(0);
  run1({0xf4});  // hlt
  EXPECT_EQ(cpu.halted, 1);
  EXPECT_EQ(interp.step(), StepResult::Halted);
  interp.interrupt(0x30, IntKind::Hardware, false, 0, cpu.eip);
  EXPECT_EQ(cpu.halted, 0);
  EXPECT_EQ(cpu.eip, handler(0x30));
  EXPECT_EQ(stack32(0), kCodeAt + 1);
}

}  // namespace
}  // namespace popek::test
