// Hardware task switches: JMP/CALL to a TSS or through a task gate, IRET
// through the back link, interrupt task gates with error codes, busy bits,
// NT, CR0.TS, faults raised in the new task's context, 16-bit TSSs, V86
// tasks.
#include "tests/core/test_interp_system_fixture.h"

namespace popek::test {
namespace {

constexpr uint32_t kTask1Eip = 0x3000, kTask2Eip = 0x3800;

struct SystemTask : SysFixture {
  // TSS1/TSS2: flat ring-0 tasks with recognisable registers.
  void make_task(uint32_t base, uint16_t s, uint32_t eip, uint32_t esp) {
    make_tss32(base, s);
    mem.write32(base + 0x20, eip);
    mem.write32(base + 0x24, flag::IF | flag::FIXED1);
    for (int r = 0; r < 8; ++r) mem.write32(base + 0x28 + 4 * r, 0x1000 * (r + 1) + s);
    mem.write32(base + 0x38, esp);
    const uint16_t segs[6] = {sel::Data0, sel::Code0, sel::Data0, sel::Data0, sel::Data0, sel::Data0};
    for (int i = 0; i < 6; ++i) mem.write16(base + 0x48 + 4 * i, segs[i]);
  }
  void setup() {
    protected_mode(0);
    make_task(kTss1, sel::Tss1, kTask1Eip, 0x70000);
    make_task(kTss2, sel::Tss2, kTask2Eip, 0x60000);
    for (int r = 0; r < 8; ++r)
      if (r != ESP) cpu.regs[r] = 0xa0a0a000u + r;
    cpu.eflags = flag::CF | flag::FIXED1;
  }
};

TEST_F(SystemTask, JmpToTssSavesOldStateAndLoadsNew) {
  setup();
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1, 0x00});  // jmp Tss1:0
  // Outgoing task saved in TSS0.
  EXPECT_EQ(mem.read32(kTss0 + 0x20), kCodeAt + 7);
  EXPECT_EQ(mem.read32(kTss0 + 0x24), flag::CF | flag::FIXED1);
  EXPECT_EQ(mem.read32(kTss0 + 0x28), 0xa0a0a000u);
  EXPECT_EQ(mem.read32(kTss0 + 0x38), kStack0Top);
  EXPECT_EQ(mem.read16(kTss0 + 0x4c), sel::Code0);
  // Busy bits: old cleared, new set.
  EXPECT_EQ(desc_access(sel::Tss0), acc::Tss32);
  EXPECT_EQ(desc_access(sel::Tss1), acc::Tss32 | 2);
  // Incoming task.
  EXPECT_EQ(cpu.tr.selector, sel::Tss1);
  EXPECT_EQ(cpu.tr.base, kTss1);
  EXPECT_EQ(cpu.eip, kTask1Eip);
  EXPECT_EQ(cpu.regs[EAX], 0x1000u + sel::Tss1);
  EXPECT_EQ(cpu.regs[ESP], 0x70000u);
  EXPECT_EQ(cpu.eflags, flag::IF | flag::FIXED1) << "JMP does not set NT";
  EXPECT_EQ(mem.read16(kTss1), 0) << "JMP does not write the back link";
  EXPECT_TRUE(cpu.cr0 & cr0::TS);
  EXPECT_EQ(cpu.seg[CS].selector, sel::Code0);
  EXPECT_EQ(cpu.cpl, 0);
}

TEST_F(SystemTask, CallThroughTaskGateThenIretReturns) {
  setup();
  set_gate(sel::Free, sel::Tss1, 0, acc::TaskGate);
  load(kTask1Eip, {0xcf});                                 // iretd in task 1
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free, 0x00});  // call Free:0
  EXPECT_EQ(cpu.tr.selector, sel::Tss1);
  EXPECT_EQ(mem.read16(kTss1), sel::Tss0) << "back link";
  EXPECT_TRUE(cpu.eflags & flag::NT);
  EXPECT_EQ(desc_access(sel::Tss0), acc::Tss32 | 2) << "caller stays busy";
  EXPECT_EQ(desc_access(sel::Tss1), acc::Tss32 | 2);

  cpu.regs[EBX] = 0x5555;
  step();  // iretd with NT = 1: back to task 0
  EXPECT_EQ(cpu.tr.selector, sel::Tss0);
  EXPECT_EQ(cpu.eip, kCodeAt + 7);
  EXPECT_EQ(cpu.regs[EAX], 0xa0a0a000u);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top);
  EXPECT_EQ(cpu.eflags, flag::CF | flag::FIXED1);
  EXPECT_EQ(desc_access(sel::Tss1), acc::Tss32) << "returning task no longer busy";
  EXPECT_EQ(desc_access(sel::Tss0), acc::Tss32 | 2);
  EXPECT_EQ(mem.read32(kTss1 + 0x20), kTask1Eip + 1) << "task 1 resumes after its IRET";
  EXPECT_EQ(mem.read32(kTss1 + 0x24) & flag::NT, 0u) << "NT cleared in the saved image";
  EXPECT_EQ(mem.read32(kTss1 + 0x34), 0x5555u);
}

TEST_F(SystemTask, BusyOrShortTssIsRefused) {
  setup();
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss0, 0x00});  // the current (busy) task
  expect_fault(vec::GP, sel::Tss0);

  setup();
  set_desc(sel::Tss1, kTss1, 0x66, acc::Tss32, 0);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1, 0x00});
  expect_fault(vec::TS, sel::Tss1);
  EXPECT_EQ(cpu.tr.selector, sel::Tss0);

  setup();
  set_desc(sel::Tss1, kTss1, 0x67, acc::Tss32 ^ acc::NotPresent, 0);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1, 0x00});
  expect_fault(vec::NP, sel::Tss1);

  setup();
  set_gate(sel::Free, sel::Tss0, 0, acc::TaskGate);  // gate to the busy task
  run1({0x9a, 0x00, 0x00, 0x00, 0x00, sel::Free, 0x00});
  expect_fault(vec::GP, sel::Tss0);

  setup();
  set_desc(sel::Tss1, kTss1, 0x67, acc::Tss32 | acc::dpl(0), 0);
  enter_ring(3);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1 | 3, 0x00});  // TSS DPL 0 < CPL 3
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), sel::Tss1);
}

TEST_F(SystemTask, ExceptionThroughTaskGatePushesErrorOnNewStack) {
  setup();
  set_idt(vec::GP, sel::Tss1, 0, acc::TaskGate);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // jmp 0:0 -> #GP(0)
  EXPECT_EQ(cpu.tr.selector, sel::Tss1);
  EXPECT_EQ(cpu.eip, kTask1Eip);
  EXPECT_EQ(cpu.regs[ESP], 0x70000u - 4);
  EXPECT_EQ(mem.read32(0x70000 - 4), 0u) << "error code";
  EXPECT_TRUE(cpu.eflags & flag::NT);
  EXPECT_EQ(mem.read16(kTss1), sel::Tss0);
  EXPECT_EQ(mem.read32(kTss0 + 0x20), kCodeAt) << "faulting instruction saved as the old EIP";
}

TEST_F(SystemTask, FaultLoadingNewTaskIsRaisedInItsContext) {
  setup();
  mem.write16(kTss1 + 0x4c, sel::Data0);     // task 1's CS is not code
  set_idt(vec::TS, sel::Tss2, 0, acc::TaskGate);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1, 0x00});
  // #TS(CS) delivered after the switch to task 1, through a task gate to task 2.
  EXPECT_EQ(cpu.tr.selector, sel::Tss2);
  EXPECT_EQ(cpu.eip, kTask2Eip);
  EXPECT_EQ(mem.read32(0x60000 - 4), uint32_t(sel::Data0)) << "error code = task 1's CS selector";
  EXPECT_EQ(mem.read16(kTss2), sel::Tss1) << "task 2 was entered from task 1";
  EXPECT_EQ(mem.read32(kTss1 + 0x20), kTask1Eip) << "task 1 saved at its own first instruction";
  EXPECT_EQ(mem.read32(kTss1 + 0x28), 0x1000u + sel::Tss1) << "with its own registers";
}

TEST_F(SystemTask, SixteenBitTss) {
  setup();
  const uint32_t base = kTss2;
  for (uint32_t i = 0; i < 0x2c; ++i) mem.write8(base + i, 0);
  mem.write16(base + 0x0e, 0x3456);                 // IP
  mem.write16(base + 0x10, flag::IF | flag::FIXED1);  // FLAGS
  for (int r = 0; r < 8; ++r) mem.write16(base + 0x12 + 2 * r, static_cast<uint16_t>(0x100 + r));
  const uint16_t segs[4] = {sel::Data0, sel::Code0, sel::Data0, sel::Data0};  // ES CS SS DS
  for (int i = 0; i < 4; ++i) mem.write16(base + 0x22 + 2 * i, segs[i]);
  set_desc(sel::Tss2, base, 0x2b, acc::Tss16, 0);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss2, 0x00});
  EXPECT_EQ(cpu.tr.selector, sel::Tss2);
  EXPECT_EQ(cpu.eip, 0x3456u);
  EXPECT_EQ(cpu.regs[EAX], 0xffff0100u);
  EXPECT_EQ(cpu.regs[EDI], 0xffff0107u);
  EXPECT_EQ(cpu.eflags, flag::IF | flag::FIXED1);
  EXPECT_EQ(cpu.seg[FS].selector, 0);
  EXPECT_FALSE(cpu.seg[GS].present());
  EXPECT_EQ(desc_access(sel::Tss2), acc::Tss16 | 2);
}

TEST_F(SystemTask, V86TaskLoadsSegmentsTheV86Way) {
  setup();
  mem.write32(kTss1 + 0x24, flag::VM | flag::FIXED1);
  mem.write32(kTss1 + 0x20, 0x0100);
  const uint16_t segs[6] = {0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000};
  for (int i = 0; i < 6; ++i) mem.write16(kTss1 + 0x48 + 4 * i, segs[i]);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1, 0x00});
  EXPECT_TRUE(interp.v86_mode());
  EXPECT_EQ(cpu.cpl, 3);
  EXPECT_EQ(cpu.eip, 0x100u);
  for (int s = 0; s < 6; ++s) {
    EXPECT_EQ(cpu.seg[s].base, uint32_t(segs[s]) << 4);
    EXPECT_EQ(cpu.seg[s].limit, 0xffffu);
  }
}

TEST_F(SystemTask, TaskSwitchLoadsCr3WhenPaging) {
  setup();
  // Identity-map the first 4 MiB with a 4 MiB page in two directories.
  const uint32_t pd_a = 0x100000, pd_b = 0x101000;
  for (uint32_t i = 0; i < 1024; ++i) {
    mem.write32(pd_a + 4 * i, 0);
    mem.write32(pd_b + 4 * i, 0);
  }
  mem.write32(pd_a, 0x83);  // P RW PS
  mem.write32(pd_b, 0x83);
  cpu.cr4 |= cr4::PSE;
  cpu.cr3 = pd_a;
  cpu.cr0 |= cr0::PG;
  interp.mmu.flush(true);
  mem.write32(kTss1 + 0x1c, pd_b);
  run1({0xea, 0x00, 0x00, 0x00, 0x00, sel::Tss1, 0x00});
  EXPECT_EQ(cpu.cr3, pd_b);
  EXPECT_EQ(cpu.eip, kTask1Eip);
  EXPECT_EQ(mem.read32(kTss0 + 0x1c), 0u) << "the outgoing CR3 is not saved";
}

}  // namespace
}  // namespace popek::test
