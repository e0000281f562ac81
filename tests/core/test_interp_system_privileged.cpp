// Privileged and identity instructions: control registers and TLB
// flushes, debug registers, descriptor-table registers, LLDT/LTR/SLDT/STR,
// SMSW/LMSW/CLTS, CPUID, RDTSC/RDPMC, MSRs, SYSENTER/SYSEXIT, UD2.
#include "tests/core/test_interp_system_fixture.h"

namespace popek::test {
namespace {

struct SystemPrivileged : SysFixture {};

TEST_F(SystemPrivileged, PrivilegedInstructionsAreGpAtCpl3) {
  const std::vector<std::vector<uint8_t>> insns = {
      {0x0f, 0x22, 0xc0},                          // mov cr0, eax
      {0x0f, 0x20, 0xc0},                          // mov eax, cr0
      {0x0f, 0x23, 0xf8},                          // mov dr7, eax
      {0x0f, 0x01, 0x15, 0x00, 0x02, 0x00, 0x00},  // lgdt [0x200]
      {0x0f, 0x01, 0x1d, 0x00, 0x02, 0x00, 0x00},  // lidt [0x200]
      {0x0f, 0x00, 0xd0},                          // lldt ax
      {0x0f, 0x00, 0xd8},                          // ltr ax
      {0x0f, 0x01, 0xf0},                          // lmsw ax
      {0x0f, 0x06},                                // clts
      {0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00},  // invlpg [0x400000]
      {0x0f, 0x08},                                // invd
      {0x0f, 0x09},                                // wbinvd
      {0x0f, 0x32},                                // rdmsr
      {0x0f, 0x30},                                // wrmsr
      {0x0f, 0x35},                                // sysexit
  };
  for (const auto& insn : insns) {
    SCOPED_TRACE(testing::Message() << "opcode " << std::hex << int(insn[0]) << " " << int(insn[1]));
    protected_mode(3);
    cpu.msr.sysenter_cs = sel::Code0;
    load(kCodeAt, insn);
    step();
    EXPECT_EQ(cpu.eip, handler(vec::GP));
    EXPECT_EQ(stack32(0), 0u);
    EXPECT_EQ(stack32(1), kCodeAt);
  }
}

TEST_F(SystemPrivileged, ControlRegisterValidation) {
  protected_mode(0);
  const uint32_t cr0_before = cpu.cr0;
  cpu.regs[EAX] = cr4::PAE;
  run1({0x0f, 0x22, 0xe0});  // mov cr4, eax
  expect_fault(vec::GP, 0);
  protected_mode(0);
  cpu.regs[EAX] = cr4::VME;  // not implemented, not reported by CPUID
  run1({0x0f, 0x22, 0xe0});
  expect_fault(vec::GP, 0);
  protected_mode(0);
  cpu.regs[EAX] = cr4::PSE | cr4::PGE | cr4::DE | cr4::TSD | cr4::PCE | cr4::OSFXSR;
  run1({0x0f, 0x22, 0xe0});
  EXPECT_EQ(cpu.cr4, cr4::PSE | cr4::PGE | cr4::DE | cr4::TSD | cr4::PCE | cr4::OSFXSR);

  protected_mode(0);
  cpu.regs[EAX] = cr0::PG;  // PG without PE
  run1({0x0f, 0x22, 0xc0});
  expect_fault(vec::GP, 0);
  EXPECT_EQ(cpu.cr0, cr0_before);
  protected_mode(0);
  cpu.regs[EAX] = cr0::PE | cr0::NW;  // NW without CD
  run1({0x0f, 0x22, 0xc0});
  expect_fault(vec::GP, 0);

  protected_mode(0);
  cpu.regs[EAX] = cr0::PE | cr0::MP | 0x00008000u;  // a reserved bit: ignored; ET reads 1
  run1({0x0f, 0x22, 0xc0});
  EXPECT_EQ(cpu.cr0, cr0::PE | cr0::MP | cr0::ET);
  cpu.regs[EBX] = 0;
  run1({0x0f, 0x20, 0xc3});  // mov ebx, cr0
  EXPECT_EQ(cpu.regs[EBX], cr0::PE | cr0::MP | cr0::ET);
}

TEST_F(SystemPrivileged, ClearingPeReturnsToRealMode) {
  protected_mode(0);
  cpu.regs[EAX] = cr0::ET;
  run1({0x0f, 0x22, 0xc0});
  EXPECT_TRUE(interp.real_mode());
  EXPECT_EQ(cpu.cpl, 0);
}

// Paging with linear 0x400000 mapped through its own page table; SIDT
// stores through it, so the physical page written shows which mapping the
// CPU used.
struct SystemTlb : SysFixture {
  static constexpr uint32_t kPd = 0x100000, kPtLow = 0x101000, kPtHigh = 0x102000;
  static constexpr uint32_t kPageA = 0x200000, kPageB = 0x300000, kLinear = 0x400000;
  void enable_paging(uint32_t pte_flags = 0x3) {
    protected_mode(0);
    for (uint32_t i = 0; i < 1024; ++i) {
      mem.write32(kPd + 4 * i, 0);
      mem.write32(kPtLow + 4 * i, (i << 12) | 0x3);
      mem.write32(kPtHigh + 4 * i, 0);
    }
    mem.write32(kPd, kPtLow | 0x3);
    mem.write32(kPd + 4, kPtHigh | 0x3);
    map(kPageA, pte_flags);
    cpu.cr3 = kPd;
    cpu.cr0 |= cr0::PG;
    interp.mmu.flush(true);
  }
  void map(uint32_t phys, uint32_t flags = 0x3) { mem.write32(kPtHigh, phys | flags); }
  // sidt [0x400000]; returns which page received the store.
  uint32_t store_through_linear() {
    mem.write32(kPageA, 0);
    mem.write32(kPageB, 0);
    run1({0x0f, 0x01, 0x0d, 0x00, 0x00, 0x40, 0x00});
    EXPECT_EQ(cpu.eip, kCodeAt + 7);
    if (mem.read16(kPageA) == 0x7ff) return kPageA;
    if (mem.read16(kPageB) == 0x7ff) return kPageB;
    return 0;
  }
};

TEST_F(SystemTlb, MovCr3FlushesStaleTranslations) {
  enable_paging();
  EXPECT_EQ(store_through_linear(), kPageA);
  map(kPageB);
  EXPECT_EQ(store_through_linear(), kPageA) << "the TLB still holds the old translation";
  cpu.regs[EAX] = kPd;
  run1({0x0f, 0x22, 0xd8});  // mov cr3, eax
  EXPECT_EQ(store_through_linear(), kPageB);
}

TEST_F(SystemTlb, InvlpgFlushesOnePage) {
  enable_paging();
  EXPECT_EQ(store_through_linear(), kPageA);
  map(kPageB);
  run1({0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00});  // invlpg [0x400000]
  EXPECT_EQ(store_through_linear(), kPageB);
}

TEST_F(SystemTlb, GlobalPagesSurviveCr3ButNotPgeToggle) {
  enable_paging(0x103);  // P RW G
  cpu.cr4 |= cr4::PGE;
  EXPECT_EQ(store_through_linear(), kPageA);
  map(kPageB, 0x103);
  cpu.regs[EAX] = kPd;
  run1({0x0f, 0x22, 0xd8});  // mov cr3, eax
  EXPECT_EQ(store_through_linear(), kPageA) << "global entry kept";
  cpu.regs[EAX] = 0;
  run1({0x0f, 0x22, 0xe0});  // mov cr4, eax (PGE off)
  EXPECT_EQ(store_through_linear(), kPageB);
}

TEST_F(SystemTlb, InvlpgDropsEveryTranslationOfALargePage) {
  enable_paging();
  cpu.cr4 |= cr4::PSE;
  mem.write32(kPd + 4, 0x800000 | 0x83);  // linear 4-8 MiB: one 4 MiB page at 8 MiB
  interp.mmu.flush(true);
  // sidt [0x402000] caches the 4 KiB slice at 0x402000 of the large page
  // (a TLB slot no other access of this test uses).
  const std::initializer_list<uint8_t> sidt_402000 = {0x0f, 0x01, 0x0d, 0x00, 0x20, 0x40, 0x00};
  run1(sidt_402000);
  EXPECT_EQ(mem.read16(0x802000), 0x7ff);
  mem.write32(kPd + 4, 0xc00000 | 0x83);  // remap the large page to 12 MiB
  run1({0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00});  // invlpg [0x400000]: same large page
  run1(sidt_402000);
  EXPECT_EQ(mem.read16(0xc02000), 0x7ff) << "INVLPG of any address in a large page drops all of it";
}

TEST_F(SystemPrivileged, DebugRegisters) {
  protected_mode(0);
  cpu.regs[EAX] = 0xffffffffu;
  run1({0x0f, 0x23, 0xf0});  // mov dr6, eax
  EXPECT_EQ(cpu.dr[6], 0xffffefffu) << "bit 12 reads 0";
  cpu.regs[EAX] = 0;
  run1({0x0f, 0x23, 0xf0});
  EXPECT_EQ(cpu.dr[6], 0xffff0ff0u);
  run1({0x0f, 0x21, 0xe0});  // mov eax, dr4 -> DR6
  EXPECT_EQ(cpu.regs[EAX], 0xffff0ff0u);
  cpu.regs[EAX] = 0x12345678;
  run1({0x0f, 0x23, 0xc0});  // mov dr0, eax
  EXPECT_EQ(cpu.dr[0], 0x12345678u);

  cpu.cr4 |= cr4::DE;
  run1({0x0f, 0x21, 0xe0});  // DR4 with CR4.DE: #UD
  expect_fault_no_error(vec::UD);

  protected_mode(0);
  cpu.regs[EAX] = 0x2000;  // DR7.GD
  run1({0x0f, 0x23, 0xf8});
  EXPECT_EQ(cpu.dr[7], 0x2400u);
  run1({0x0f, 0x21, 0xf0});  // any MOV DR now faults with #DB
  expect_fault_no_error(vec::DB);
  EXPECT_TRUE(cpu.dr[6] & 0x2000) << "DR6.BD";
  EXPECT_FALSE(cpu.dr[7] & 0x2000) << "GD cleared for the handler";
}

TEST_F(SystemPrivileged, InstructionBreakpointFaultsUntilRfIsSet) {
  protected_mode(0);
  cpu.eflags = flag::IF | flag::FIXED1;
  cpu.dr[1] = kCodeAt;
  cpu.dr[7] = 0x400 | (1u << 3) | (0x1u << 20);  // G1 with R/W1 = 01 (data write): not an execute match
  run1({0xfa});  // cli
  EXPECT_EQ(cpu.eip, kCodeAt + 1);
  cpu.dr[7] = 0x400 | (1u << 3);  // G1, execute
  cpu.eflags |= flag::IF;
  run1({0xfa});
  expect_fault_no_error(vec::DB);
  EXPECT_EQ(cpu.dr[6] & 0xf, 0x2u) << "DR6.B1";
  EXPECT_FALSE(stack32(2) & flag::RF) << "no RF for an instruction-breakpoint #DB";
  EXPECT_TRUE(stack32(2) & flag::IF) << "CLI did not run";
  // Resume with RF = 1 (as the handler's IRET would): the instruction runs.
  cpu.eip = kCodeAt;
  cpu.eflags |= flag::RF | flag::IF;
  step();
  EXPECT_EQ(cpu.eip, kCodeAt + 1);
  EXPECT_FALSE(cpu.eflags & flag::IF);
  EXPECT_FALSE(cpu.eflags & flag::RF) << "RF cleared after the instruction";
}

TEST_F(SystemPrivileged, LgdtSgdtOperandSizes) {
  real_mode();
  mem.write16(0x200, 0x1234);
  mem.write32(0x202, 0x89abcdef);
  load(0x1000, {0x0f, 0x01, 0x16, 0x00, 0x02});  // lgdt [0x200] (16-bit operand size)
  step();
  EXPECT_EQ(cpu.gdtr.limit, 0x1234u);
  EXPECT_EQ(cpu.gdtr.base, 0x00abcdefu);
  load(0x1005, {0x66, 0x0f, 0x01, 0x16, 0x00, 0x02});  // o32 lgdt [0x200]
  step();
  EXPECT_EQ(cpu.gdtr.base, 0x89abcdefu);
  for (uint32_t a = 0x300; a < 0x308; ++a) mem.write8(a, 0xcc);
  load(0x100b, {0x0f, 0x01, 0x06, 0x00, 0x03});  // sgdt [0x300] (16-bit): full base stored
  step();
  EXPECT_EQ(mem.read16(0x300), 0x1234);
  EXPECT_EQ(mem.read32(0x302), 0x89abcdefu);
  EXPECT_EQ(mem.read16(0x306), 0xcccc);
}

TEST_F(SystemPrivileged, LldtLtrSldtStr) {
  protected_mode(0);
  set_desc(sel::Ldt, kLdt, 0xff, acc::Ldt, 0);
  cpu.regs[EAX] = sel::Ldt;
  run1({0x0f, 0x00, 0xd0});  // lldt ax
  EXPECT_EQ(cpu.ldtr.base, kLdt);
  EXPECT_EQ(cpu.ldtr.limit, 0xffu);
  cpu.regs[EAX] = 0xdead0000;
  run1({0x0f, 0x00, 0xc0});  // sldt eax
  EXPECT_EQ(cpu.regs[EAX], sel::Ldt);
  cpu.regs[EAX] = sel::Data0;
  run1({0x0f, 0x00, 0xd0});  // lldt with a data segment
  expect_fault(vec::GP, sel::Data0);

  protected_mode(0);
  cpu.regs[EAX] = 0;
  run1({0x0f, 0x00, 0xd0});  // lldt 0: LDTR unusable
  EXPECT_FALSE(cpu.ldtr.present());

  make_tss32(kTss1, sel::Tss1);
  cpu.regs[EAX] = sel::Tss1;
  run1({0x0f, 0x00, 0xd8});  // ltr ax
  EXPECT_EQ(cpu.tr.selector, sel::Tss1);
  EXPECT_EQ(desc_access(sel::Tss1), acc::Tss32 | 2) << "LTR marks the TSS busy";
  run1({0x0f, 0x00, 0xd8});  // again: now busy
  expect_fault(vec::GP, sel::Tss1);

  protected_mode(0);
  cpu.regs[EAX] = 0xdead0000;
  run1({0x66, 0x0f, 0x00, 0xc8});  // str ax
  EXPECT_EQ(cpu.regs[EAX], 0xdead0000u | sel::Tss0);
  mem.write32(0x300, 0xffffffffu);
  run1({0x0f, 0x00, 0x0d, 0x00, 0x03, 0x00, 0x00});  // str [0x300]
  EXPECT_EQ(mem.read32(0x300), 0xffff0000u | sel::Tss0);
  cpu.regs[EAX] = 0;
  run1({0x0f, 0x00, 0xd8});  // ltr 0: #GP(0)
  expect_fault(vec::GP, 0);
}

TEST_F(SystemPrivileged, SldtStrUndefinedOutsideProtectedMode) {
  real_mode();
  mem.write32(6 * 4, 0x00002000);
  load(0x1000, {0x0f, 0x00, 0xc8});  // str ax
  step();
  EXPECT_EQ(cpu.eip, 0x2000u);
}

TEST_F(SystemPrivileged, MachineStatusWord) {
  protected_mode(0);
  cpu.cr0 |= cr0::WP | cr0::AM | cr0::NE;
  run1({0x0f, 0x01, 0xe0});  // smsw eax
  EXPECT_EQ(cpu.regs[EAX], cpu.cr0);
  cpu.regs[EAX] = 0xdead0000;
  run1({0x66, 0x0f, 0x01, 0xe0});  // smsw ax
  EXPECT_EQ(cpu.regs[EAX], 0xdead0000u | (cpu.cr0 & 0xffff));
  mem.write32(0x300, 0xffffffffu);
  run1({0x0f, 0x01, 0x25, 0x00, 0x03, 0x00, 0x00});  // smsw [0x300]
  EXPECT_EQ(mem.read32(0x300), 0xffff0000u | (cpu.cr0 & 0xffff));

  cpu.regs[EAX] = cr0::TS | cr0::MP;  // PE clear in the source: PE stays set
  run1({0x0f, 0x01, 0xf0});  // lmsw ax
  EXPECT_EQ(cpu.cr0 & 0xf, cr0::PE | cr0::TS | cr0::MP);
  run1({0x0f, 0x06});  // clts
  EXPECT_EQ(cpu.cr0 & 0xf, cr0::PE | cr0::MP);

  real_mode();
  cpu.regs[EAX] = cr0::PE;
  load(0x1000, {0x0f, 0x01, 0xf0});  // lmsw can enter protected mode
  step();
  EXPECT_TRUE(cpu.cr0 & cr0::PE);
}

TEST_F(SystemPrivileged, CpuidIdentity) {
  protected_mode(3);  // CPUID is not privileged
  cpu.regs[EAX] = 0;
  run1({0x0f, 0xa2});
  EXPECT_EQ(cpu.regs[EAX], 2u);
  char vendor[13] = {};
  std::memcpy(vendor, &cpu.regs[EBX], 4);
  std::memcpy(vendor + 4, &cpu.regs[EDX], 4);
  std::memcpy(vendor + 8, &cpu.regs[ECX], 4);
  EXPECT_STREQ(vendor, "GenuineIntel");

  cpu.regs[EAX] = 1;
  run1({0x0f, 0xa2});
  EXPECT_EQ(cpu.regs[EAX], 0x0633u);
  EXPECT_EQ(cpu.regs[EBX], 0u);
  EXPECT_EQ(cpu.regs[ECX], 0u);
  const uint32_t edx = cpu.regs[EDX];
  for (unsigned bit : {0u, 2u, 3u, 4u, 5u, 8u, 11u, 12u, 13u, 15u, 24u}) EXPECT_TRUE(edx & (1u << bit)) << bit;
  for (unsigned bit : {1u, 6u, 7u, 9u, 14u, 16u, 17u, 23u, 25u, 26u}) EXPECT_FALSE(edx & (1u << bit)) << bit;

  cpu.regs[EAX] = 2;
  run1({0x0f, 0xa2});
  const uint32_t leaf2[4] = {cpu.regs[EAX], cpu.regs[EBX], cpu.regs[ECX], cpu.regs[EDX]};
  EXPECT_EQ(leaf2[0] & 0xff, 1u) << "leaf 2 is read once";
  for (uint32_t leaf : {3u, 0x80000000u, 0xffffffffu}) {
    cpu.regs[EAX] = leaf;
    run1({0x0f, 0xa2});
    EXPECT_EQ(cpu.regs[EAX], leaf2[0]);
    EXPECT_EQ(cpu.regs[EDX], leaf2[3]);
  }
}

struct SystemMsr : SysFixture {
  void wrmsr(uint32_t index, uint64_t v) {
    cpu.regs[ECX] = index;
    cpu.regs[EAX] = static_cast<uint32_t>(v);
    cpu.regs[EDX] = static_cast<uint32_t>(v >> 32);
    run1({0x0f, 0x30});
  }
  uint64_t rdmsr(uint32_t index) {
    cpu.regs[ECX] = index;
    run1({0x0f, 0x32});
    return (uint64_t(cpu.regs[EDX]) << 32) | cpu.regs[EAX];
  }
};

TEST_F(SystemMsr, RoundTrips) {
  protected_mode(0);
  const std::pair<uint32_t, uint64_t> cases[] = {
      {0x174, 0x0008}, {0x175, 0x00123456}, {0x176, 0xc0001000}, {0x200, 0x0000000f00000006ull},
      {0x201, 0x0000000ff0000800ull}, {0x250, 0x0606060606060606ull}, {0x26f, 0x0504010006060606ull},
      {0x2ff, 0xc06}, {0x8b, 0x0000001200000000ull}, {0x1b, 0xfee00900}};
  for (const auto& [index, value] : cases) {
    wrmsr(index, value);
    EXPECT_EQ(cpu.eip, kCodeAt + 2) << std::hex << index;
    EXPECT_EQ(rdmsr(index), value) << std::hex << index;
  }
  EXPECT_EQ(rdmsr(0xfe), 0x508u);
  EXPECT_EQ(rdmsr(0x17), 0u);
}

TEST_F(SystemMsr, UnknownReservedAndReadOnlyAreGp) {
  const std::pair<uint32_t, uint64_t> bad_writes[] = {
      {0x1234, 0},                        // unknown
      {0xfe, 0x508},                      // MTRRcap is read-only
      {0x17, 0},                          // PLATFORM_ID is read-only
      {0x200, 2},                         // memory type 2 is reserved
      {0x250, 0x0606060606060603ull},     // so is 3
      {0x201, 0x100},                     // reserved mask bit
      {0x2ff, 0x1000},                    // reserved default-type bit
      {0x277, 0x0007040600070406ull},     // no PAT on P6
  };
  for (const auto& [index, value] : bad_writes) {
    protected_mode(0);
    wrmsr(index, value);
    expect_fault(vec::GP, 0);
  }
  protected_mode(0);
  rdmsr(0x1a0);  // MISC_ENABLE: not on P6
  expect_fault(vec::GP, 0);
}

TEST_F(SystemMsr, TimeStampCounter) {
  protected_mode(0);
  wrmsr(0x10, 0x100000005ull);  // P6 writes only the low 32 bits
  const uint64_t t = rdmsr(0x10);
  EXPECT_GE(t, 5u);
  EXPECT_LT(t, 5u + 1000000u);
  run1({0x0f, 0x31});  // rdtsc
  const uint64_t t2 = (uint64_t(cpu.regs[EDX]) << 32) | cpu.regs[EAX];
  EXPECT_GT(t2, t);

  protected_mode(3);
  cpu.cr4 |= cr4::TSD;
  run1({0x0f, 0x31});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
}

TEST_F(SystemMsr, Rdpmc) {
  protected_mode(3);
  run1({0x0f, 0x33});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  protected_mode(3);
  cpu.cr4 |= cr4::PCE;
  cpu.regs[ECX] = 1;
  cpu.regs[EAX] = cpu.regs[EDX] = 0xffffffffu;
  run1({0x0f, 0x33});
  EXPECT_EQ(cpu.eip, kCodeAt + 2);
  EXPECT_EQ(cpu.regs[EAX], 0u);
  EXPECT_EQ(cpu.regs[EDX], 0u);
  cpu.regs[ECX] = 2;
  run1({0x0f, 0x33});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
}

TEST_F(SystemMsr, SysenterSysexit) {
  protected_mode(3);
  cpu.msr.sysenter_cs = sel::Code0;
  cpu.msr.sysenter_esp = 0x8f000;
  cpu.msr.sysenter_eip = 0x4000;
  cpu.eflags = flag::IF | flag::FIXED1;
  run1({0x0f, 0x34});
  EXPECT_EQ(cpu.cpl, 0);
  EXPECT_EQ(cpu.eip, 0x4000u);
  EXPECT_EQ(cpu.regs[ESP], 0x8f000u);
  EXPECT_EQ(cpu.seg[CS].selector, sel::Code0);
  EXPECT_EQ(cpu.seg[SS].selector, sel::Data0);
  EXPECT_EQ(cpu.seg[CS].attr, cache_of(sel::Code0).attr | 1);
  EXPECT_EQ(cpu.seg[SS].attr, cache_of(sel::Data0).attr | 1);
  EXPECT_EQ(cpu.seg[CS].limit, 0xffffffffu);
  EXPECT_FALSE(cpu.eflags & flag::IF);

  cpu.regs[ECX] = 0x7f000;
  cpu.regs[EDX] = 0x2345;
  load(0x4000, {0x0f, 0x35});
  step();
  EXPECT_EQ(cpu.cpl, 3);
  EXPECT_EQ(cpu.eip, 0x2345u);
  EXPECT_EQ(cpu.regs[ESP], 0x7f000u);
  EXPECT_EQ(cpu.seg[CS].selector, sel::Code3);
  EXPECT_EQ(cpu.seg[SS].selector, sel::Data3);
  EXPECT_EQ(cpu.seg[CS].dpl(), 3);

  protected_mode(3);
  cpu.msr.sysenter_cs = 0;
  run1({0x0f, 0x34});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0u);
}

TEST_F(SystemPrivileged, Ud2IsUndefinedWithoutBeingUnimplemented) {
  protected_mode(0);
  const uint64_t before = interp.unimplemented_count();
  run1({0x0f, 0x0b});
  expect_fault_no_error(vec::UD);
  EXPECT_EQ(interp.unimplemented_count(), before);
}

}  // namespace
}  // namespace popek::test
