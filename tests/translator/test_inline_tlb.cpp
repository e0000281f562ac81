// The inline TLB's bookkeeping (translator/inline_tlb.h) on its own, and the
// engine's use of it: user and supervisor entries side by side, so CPL
// changes flush nothing; CR3 loads keep global pages; INVLPG and page faults
// drop one page (every 4 KiB slice of a 4 MiB page); the MMU's hook keeps
// the inline TLB in step with the interpreter's.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "tests/translator/dbt_fixture.h"
#include "translator/inline_tlb.h"

namespace popek::test {
namespace {

using dbt::InlineTlb;
using dbt::TlbKind;
using dbt::TlbPrivilege;

constexpr TlbPrivilege kSup = TlbPrivilege::Supervisor, kUser = TlbPrivilege::User;
constexpr TlbKind kRead = TlbKind::Read, kWrite = TlbKind::Write;

struct InlineTlbTest : ::testing::Test {
  dbt::DbtContext ctx;
  std::unique_ptr<InlineTlb> tlb;
  uint8_t host[0x1000];
  InlineTlbTest() {
    std::memset(&ctx, 0, sizeof ctx);
    for (auto& priv : ctx.tlb)
      for (auto& kind : priv)
        for (dbt::TlbEntry& e : kind) e = dbt::TlbEntry{dbt::kInvalidTag, 0, 0};
    tlb = std::make_unique<InlineTlb>(ctx.tlb);
  }
  void install_everywhere(uint32_t linear, uint32_t phys, bool global, bool large = false) {
    for (TlbPrivilege p : {kSup, kUser})
      for (TlbKind k : {kRead, kWrite}) tlb->install(p, k, InlineTlb::Mapping{linear, phys, global, large}, host);
  }
  int held(uint32_t linear) const {  // how many of the four arrays hold the page
    int n = 0;
    for (TlbPrivilege p : {kSup, kUser})
      for (TlbKind k : {kRead, kWrite}) n += tlb->holds(p, k, linear);
    return n;
  }
};

TEST_F(InlineTlbTest, EntryGivesTheHostPointerOfItsPage) {
  tlb->install(kUser, kRead, {0x12345678, 0x9000, false, false}, host);
  const dbt::TlbEntry& e = tlb->entry(kUser, kRead, 0x12345678);
  EXPECT_EQ(e.tag, 0x12345000u);
  EXPECT_EQ(e.phys_page, 0x9u);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(static_cast<intptr_t>(0x12345678 + e.addend)), host + 0x678);
  EXPECT_FALSE(tlb->holds(kSup, kRead, 0x12345678)) << "a user fill installs no supervisor entry";
  EXPECT_FALSE(tlb->holds(kUser, kWrite, 0x12345678));
}

TEST_F(InlineTlbTest, CrThreeLoadKeepsGlobalEntriesOnly) {
  install_everywhere(0x00400000, 0x1000, false);
  install_everywhere(0xc0100000, 0x2000, true);
  tlb->flush_non_global();
  EXPECT_EQ(held(0x00400000), 0);
  EXPECT_EQ(held(0xc0100000), 4);
  tlb->flush_all();
  EXPECT_EQ(held(0xc0100000), 0);
}

TEST_F(InlineTlbTest, ASlotRefilledWithTheOtherClassIsFlushedByItsNewClass) {
  // Same slot (page numbers equal modulo the table size), global first.
  const uint32_t a = 0xc0001000, b = a + dbt::kTlbEntries * 0x1000u;
  tlb->install(kSup, kRead, {a, 0x1000, true, false}, host);
  tlb->flush_non_global();
  tlb->install(kSup, kRead, {b, 0x2000, false, false}, host);
  tlb->flush_non_global();
  EXPECT_FALSE(tlb->holds(kSup, kRead, b)) << "a non-global entry in a slot listed as global";
  tlb->install(kSup, kRead, {a, 0x1000, true, false}, host);
  tlb->flush_non_global();
  EXPECT_TRUE(tlb->holds(kSup, kRead, a));
}

TEST_F(InlineTlbTest, ManyEntriesTakeTheWholeTablePathAndKeepGlobals) {
  for (uint32_t i = 0; i < 3000; ++i) install_everywhere(i << 12, i << 12, false);
  install_everywhere(0xfff00000, 0x5000, true);
  tlb->flush_non_global();
  for (uint32_t i = 0; i < 3000; i += 97) EXPECT_EQ(held(i << 12), 0) << i;
  EXPECT_EQ(held(0xfff00000), 4);
  tlb->flush_all();
  EXPECT_EQ(held(0xfff00000), 0);
}

TEST_F(InlineTlbTest, PageFlushDropsOnePageEveryKindBothPrivileges) {
  install_everywhere(0x00801000, 0x1000, false);
  install_everywhere(0x00802000, 0x2000, false);
  install_everywhere(0xc0000000, 0x3000, true);
  tlb->flush_page(0x00801abc);
  EXPECT_EQ(held(0x00801000), 0);
  EXPECT_EQ(held(0x00802000), 4);
  tlb->flush_page(0xc0000fff);
  EXPECT_EQ(held(0xc0000000), 0) << "INVLPG drops global entries too";
}

TEST_F(InlineTlbTest, PageFlushInALargePageDropsEverySliceAndNothingElse) {
  install_everywhere(0xc0401000, 0x401000, true, true);  // slices of the 4 MiB page at 0xc0400000
  install_everywhere(0xc07ff000, 0x7ff000, true, true);
  install_everywhere(0xc0800000, 0x800000, true, true);  // the next 4 MiB page
  tlb->flush_page(0xc0555555);
  EXPECT_EQ(held(0xc0401000), 0);
  EXPECT_EQ(held(0xc07ff000), 0);
  EXPECT_EQ(held(0xc0800000), 4);
  // A 4 KiB page in a region that once held large slices is dropped only by its own address.
  install_everywhere(0xc0402000, 0x9000, false, false);
  tlb->flush_page(0xc0403000);
  EXPECT_EQ(held(0xc0402000), 4);
}

TEST_F(InlineTlbTest, NewCodePageLosesOnlyItsWriteEntries) {
  install_everywhere(0x00401000, 0x7000, false);
  install_everywhere(0x00402000, 0x7000, true);  // an alias of the same frame
  install_everywhere(0x00403000, 0x8000, false);
  tlb->drop_writes_to(0x7);
  for (uint32_t page : {0x00401000u, 0x00402000u}) {
    EXPECT_TRUE(tlb->holds(kSup, kRead, page));
    EXPECT_TRUE(tlb->holds(kUser, kRead, page));
    EXPECT_FALSE(tlb->holds(kSup, kWrite, page));
    EXPECT_FALSE(tlb->holds(kUser, kWrite, page));
  }
  EXPECT_EQ(held(0x00403000), 4);
}

// ---- the engine: one guest, paging on, CPL set between runs ----

struct EngineTlb : DualFixture {
  static constexpr uint32_t kPd = 0x100000, kPt = 0x101000;
  // Identity-maps 0-4 MiB as user read/write pages (accessed and dirty set);
  // page 0x5000 is global.
  void paging() {
    for (BareGuest* g : {&ref, &dut}) {
      g->mem.write32(kPd, kPt | 0x67);
      for (uint32_t i = 0; i < 1024; ++i) g->mem.write32(kPt + i * 4, (i << 12) | 0x67 | (i == 5 ? 0x100 : 0));
      g->cpu.cr3 = kPd;
      g->cpu.cr4 |= cr4::PGE;
      g->cpu.cr0 |= cr0::PG;
      g->interp.mmu.flush(true);
    }
  }
  // CPL and the segment caches' DPL, as a far transfer would leave them,
  // without a reset (which would flush the TLBs).
  void set_cpl(unsigned cpl) {
    for (BareGuest* g : {&ref, &dut}) {
      const uint16_t dpl = static_cast<uint16_t>(cpl << seg_attr::DPL_SHIFT);
      for (int s = 0; s < 6; ++s) {
        g->cpu.seg[s].selector = static_cast<uint16_t>((g->cpu.seg[s].selector & ~3) | cpl);
        g->cpu.seg[s].attr = static_cast<uint16_t>((g->cpu.seg[s].attr & ~(3u << seg_attr::DPL_SHIFT)) | dpl);
      }
      g->cpu.cpl = static_cast<uint8_t>(cpl);
      g->cpu.eip = 0x1000;
    }
  }
  uint64_t fills() const { return dbt->stats().tlb_fills; }
  uint64_t flushes() const { return dbt->stats().tlb_flushes; }
};

TEST_F(EngineTlb, CplChangesFlushNothingAndEachPrivilegeFillsOnce) {
  flat32(0);
  paging();
  // mov eax, [0x5000]; mov ebx, [0x6000]; mov [0x6004], ebx; jmp $+2; hlt
  // (run for the four instructions before HLT, which is #GP at CPL 3)
  load(0x1000, {0xa1, 0x00, 0x50, 0x00, 0x00, 0x8b, 0x1d, 0x00, 0x60, 0x00, 0x00, 0x89, 0x1d, 0x04, 0x60, 0x00,
                0x00, 0xeb, 0x00, 0xf4});
  dut.mem.write32(0x5000, 0x55555555);
  ref.mem.write32(0x5000, 0x55555555);
  uint64_t fills_seen[4], flushes_seen[4];
  for (int round = 0; round < 4; ++round) {
    set_cpl(round % 2 ? 3 : 0);
    run(4);
    expect_same(0x6000, 8);
    fills_seen[round] = fills();
    flushes_seen[round] = flushes();
  }
  EXPECT_GT(fills_seen[0], 0u);
  EXPECT_GT(fills_seen[1], fills_seen[0]) << "user code fills its own entries";
  EXPECT_EQ(fills_seen[3], fills_seen[1]) << "back at CPL 0 and CPL 3 again: every entry was kept";
  EXPECT_EQ(flushes_seen[3], flushes_seen[0]) << "CPL changes flushed the TLB";
}

TEST_F(EngineTlb, CrThreeLoadKeepsTheGlobalPageAndInvlpgDropsIt) {
  flat32(0);
  paging();
  // mov eax, [0x5000]; mov ebx, [0x6000]; mov ecx, cr3; mov cr3, ecx;
  // mov eax, [0x5000]; mov ebx, [0x6000]; hlt
  const std::vector<uint8_t> reads{0xa1, 0x00, 0x50, 0x00, 0x00, 0x8b, 0x1d, 0x00, 0x60, 0x00, 0x00};
  std::vector<uint8_t> code = reads;
  for (uint8_t b : {0x0f, 0x20, 0xd9, 0x0f, 0x22, 0xd9}) code.push_back(b);
  code.insert(code.end(), reads.begin(), reads.end());
  code.push_back(0xf4);
  load(0x1000, code);
  run();
  expect_same();
  const uint64_t after_cr3 = fills();
  EXPECT_EQ(after_cr3, 3u) << "0x5000 once, 0x6000 twice (the CR3 load dropped it, not the global page)";
  // invlpg [0x5000]; mov eax, [0x5000]; hlt
  load(0x2000, {0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00, 0xa1, 0x00, 0x50, 0x00, 0x00, 0xf4});
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.eip = 0x2000;
    g->cpu.halted = false;
  }
  run();
  expect_same();
  EXPECT_EQ(fills(), after_cr3 + 1) << "INVLPG dropped the global page";
  EXPECT_GE(dbt->stats().tlb_page_flushes, 1u);
}

}  // namespace
}  // namespace popek::test
