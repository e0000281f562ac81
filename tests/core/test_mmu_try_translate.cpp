// Mmu::try_translate: the non-throwing translation the hot paths use (the
// translator's TLB fill and fetch, the interpreter's fetch). For every kind
// of page fault it must report the error code translate() throws, change
// nothing while it does (CR2, TLB, accessed bits), and take_page_fault()
// must then do what a throwing translate() does before it throws.
#include <gtest/gtest.h>

#include <optional>

#include "core/cpu_state.h"
#include "core/fault.h"
#include "core/mmu.h"
#include "core/physical_memory.h"

namespace popek {
namespace {

constexpr uint32_t kPd = 0x10000, kPt = 0x11000;
constexpr uint32_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;

struct TryTranslate : ::testing::Test {
  CpuState cpu{};
  PhysicalMemory mem{16u << 20};
  Mmu mmu{cpu, mem};

  TryTranslate() {
    cpu.cr0 = cr0::PE | cr0::PG;
    cpu.cr3 = kPd;
    cpu.cr4 = cr4::PSE;
    mem.write32(kPd + 0 * 4, kPt | P | RW | US);  // 0-4 MiB through kPt
    mmu.flush(true);
  }
  // Maps linear page `page` (below 4 MiB) to physical 0x200000 + page * 4 KiB.
  void map(uint32_t page, uint32_t flags) { mem.write32(kPt + page * 4, (0x200000 + page * 0x1000) | flags); }
  uint32_t pte(uint32_t page) { return mem.read32(kPt + page * 4); }

  // The error code translate() throws, or nullopt if it succeeds.
  std::optional<uint32_t> thrown(uint32_t linear, AccessType type, bool user) {
    try {
      mmu.translate(linear, type, user);
    } catch (const GuestFault& f) {
      EXPECT_EQ(f.vector, vec::PF);
      EXPECT_TRUE(f.has_error);
      EXPECT_EQ(cpu.cr2, linear);
      return f.error_code;
    }
    return std::nullopt;
  }

  // try_translate faults with `code`, with no side effect, and agrees with
  // translate() (run afterwards on the same state).
  void expect_fault(uint32_t linear, AccessType type, bool user, uint32_t code) {
    SCOPED_TRACE(testing::Message() << "linear " << std::hex << linear << " type " << int(type) << " user " << user);
    cpu.cr2 = 0xdeadbeef;
    const uint32_t pd_before = mem.read32(kPd), pt_before = pte((linear >> 12) & 0x3ff);
    const Mmu::Translation t = mmu.try_translate(linear, type, user);
    ASSERT_TRUE(t.fault);
    EXPECT_EQ(t.error_code, code);
    EXPECT_EQ(cpu.cr2, 0xdeadbeefu) << "no CR2 before delivery";
    EXPECT_EQ(mem.read32(kPd), pd_before) << "no accessed bit on a fault";
    if (linear < 0x400000) {
      EXPECT_EQ(pte((linear >> 12) & 0x3ff), pt_before);
    }
    EXPECT_EQ(thrown(linear, type, user), std::optional<uint32_t>(code));
  }
};

TEST_F(TryTranslate, NotPresentPageTable) {
  mem.write32(kPd + 2 * 4, 0);  // 8-12 MiB: no page table
  expect_fault(0x800123, AccessType::Read, false, 0);
  expect_fault(0x800123, AccessType::Write, false, 2);
  expect_fault(0x800123, AccessType::Fetch, false, 0);
  expect_fault(0x800123, AccessType::Read, true, 4);
  expect_fault(0x800123, AccessType::Write, true, 6);
}

TEST_F(TryTranslate, NotPresentPage) {
  map(5, RW | US);  // P clear
  expect_fault(0x5010, AccessType::Read, false, 0);
  expect_fault(0x5010, AccessType::Write, false, 2);
  expect_fault(0x5010, AccessType::Fetch, true, 4);
  expect_fault(0x5010, AccessType::Write, true, 6);
}

TEST_F(TryTranslate, WriteToReadOnlyPageFollowsCr0Wp) {
  map(6, P | US);  // user read-only
  // WP=0: a supervisor write succeeds, a user write faults.
  Mmu::Translation t = mmu.try_translate(0x6008, AccessType::Write, false);
  EXPECT_FALSE(t.fault);
  EXPECT_EQ(t.pa, 0x206008u);
  EXPECT_EQ(pte(6) & (A | D), A | D) << "a successful write sets A and D";
  expect_fault(0x6008, AccessType::Write, true, 7);
  // WP=1: the supervisor write faults too (after a flush: CR0 changes do).
  cpu.cr0 |= cr0::WP;
  mmu.flush(true);
  expect_fault(0x6008, AccessType::Write, false, 3);
  EXPECT_FALSE(mmu.try_translate(0x6008, AccessType::Read, true).fault) << "reads are fine";
}

TEST_F(TryTranslate, UserAccessToSupervisorPage) {
  map(7, P | RW);  // supervisor
  expect_fault(0x7000, AccessType::Read, true, 5);
  expect_fault(0x7000, AccessType::Fetch, true, 5);
  expect_fault(0x7000, AccessType::Write, true, 7);
  EXPECT_FALSE(mmu.try_translate(0x7000, AccessType::Write, false).fault);
  // The supervisor walk cached the page: a user access still faults.
  expect_fault(0x7000, AccessType::Read, true, 5);
}

TEST_F(TryTranslate, SupervisorPageTableRestrictsUserAccess) {
  mem.write32(kPd + 1 * 4, (kPt + 0x1000) | P | RW);  // 4-8 MiB: supervisor PDE
  mem.write32(kPt + 0x1000 + 3 * 4, 0x300000 | P | RW | US);
  expect_fault(0x403000, AccessType::Read, true, 5);
  EXPECT_FALSE(mmu.try_translate(0x403000, AccessType::Read, false).fault);
}

TEST_F(TryTranslate, LargePages) {
  mem.write32(kPd + 3 * 4, 0x800000 | PS | P | US);  // 12-16 MiB: user read-only 4 MiB page
  Mmu::Translation t = mmu.try_translate(0xC12345, AccessType::Read, true);
  ASSERT_FALSE(t.fault);
  EXPECT_EQ(t.pa, 0x812345u);
  EXPECT_TRUE(mmu.cached_attrs(0xC12345).large);
  expect_fault(0xC12345, AccessType::Write, true, 7);
  cpu.cr0 |= cr0::WP;
  mmu.flush(true);
  expect_fault(0xC00000, AccessType::Write, false, 3);
  mem.write32(kPd + 3 * 4, 0x800000 | PS | RW);  // not present
  mmu.flush(true);
  expect_fault(0xFFFFFC, AccessType::Read, false, 0);
}

TEST_F(TryTranslate, PagingOffIsIdentity) {
  cpu.cr0 &= ~cr0::PG;
  const Mmu::Translation t = mmu.try_translate(0xABCDE123, AccessType::Write, true);
  EXPECT_FALSE(t.fault);
  EXPECT_EQ(t.pa, 0xABCDE123u);
}

TEST_F(TryTranslate, TakePageFaultSetsCr2AndDropsTheCachedEntry) {
  map(8, P | US);  // user read-only
  ASSERT_FALSE(mmu.try_translate(0x8000, AccessType::Read, true).fault);
  ASSERT_TRUE(mmu.cached(0x8000, AccessType::Read, true));
  const Mmu::Translation t = mmu.try_translate(0x8010, AccessType::Write, true);
  ASSERT_TRUE(t.fault);
  EXPECT_TRUE(mmu.cached(0x8000, AccessType::Read, true)) << "try_translate keeps the TLB as it was";
  const GuestFault f = mmu.take_page_fault(0x8010, t.error_code);
  EXPECT_EQ(f.vector, vec::PF);
  EXPECT_TRUE(f.has_error);
  EXPECT_EQ(f.error_code, 7u);
  EXPECT_EQ(cpu.cr2, 0x8010u);
  EXPECT_FALSE(mmu.cached(0x8000, AccessType::Read, true)) << "the faulting page's entry is dropped";
  // The handler makes the page writable without INVLPG: the retry sees it.
  map(8, P | RW | US);
  EXPECT_FALSE(mmu.try_translate(0x8010, AccessType::Write, true).fault);
}

}  // namespace
}  // namespace popek
