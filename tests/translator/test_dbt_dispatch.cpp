// The dispatcher's fast paths: direct exits to another guest page through
// the lookup cache (and never to a stale mapping), the front cache, and
// slices that end at a block boundary with a real-time clock.
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Dispatch = DualFixture;

std::vector<uint8_t> le32(uint32_t v) {
  return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}

// jmp rel32 from `from` to `to`.
std::vector<uint8_t> jmp_rel32(uint32_t from, uint32_t to) {
  std::vector<uint8_t> v{0xe9};
  for (uint8_t b : le32(to - (from + 5))) v.push_back(b);
  return v;
}

// A loop whose body bounces between three pages: every iteration takes
// three direct cross-page exits, which no patched jump may serve.
TEST_F(Dispatch, CrossPageDirectExitsStayInTranslatedCode) {
  flat32();
  load(0x1000, {0xb9, 0xe8, 0x03, 0x00, 0x00,  // mov ecx, 1000
                0x31, 0xc0});                  // xor eax, eax
  load(0x1007, jmp_rel32(0x1007, 0x2000));
  // 0x2000: add eax, ecx; jmp 0x3000
  load(0x2000, {0x01, 0xc8});
  load(0x2002, jmp_rel32(0x2002, 0x3000));
  // 0x3000: dec ecx; jnz 0x2000 (rel32); hlt
  load(0x3000, {0x49, 0x0f, 0x85});
  load(0x3003, le32(0x2000 - 0x3007));
  load(0x3007, {0xf4});
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 500500u);
  const dbt::DbtStats& st = dbt->stats();
  // Each target misses once (the dispatcher then adds it); the rest hit.
  EXPECT_GE(st.cross_page_hits, 1990u);
  EXPECT_LE(st.cross_page_misses, 4u);
  EXPECT_LT(st.unchained_exits, 12u);
}

// A cross-page target whose page is remapped (PTE rewritten, INVLPG) must
// run the new page's code, never the block the lookup cache held.
TEST_F(Dispatch, CrossPageExitFollowsARemappedPage) {
  flat32();
  // Page directory at 0x10000: 0-4 MiB identity (PT at 0x11000).
  load(0x10000, le32(0x11000 | 3));
  for (uint32_t i = 0; i < 1024; ++i) load(0x11000 + i * 4, le32((i << 12) | 3));
  // Linear 0x5000 -> physical 0x20000 (code A) at first.
  load(0x11000 + 5 * 4, le32(0x20000 | 3));
  // Code A at 0x20000: add eax, 1; jmp back to 0x1000 + 0x40.
  load(0x20000, {0x83, 0xc0, 0x01});
  load(0x20003, jmp_rel32(0x5003, 0x1040));
  // Code B at 0x21000: add eax, 0x100; jmp back.
  load(0x21000, {0x81, 0xc0, 0x00, 0x01, 0x00, 0x00});
  load(0x21006, jmp_rel32(0x5006, 0x1040));
  // 0x1000: mov ecx, 20; jmp 0x5000
  load(0x1000, {0xb9, 0x14, 0x00, 0x00, 0x00});
  load(0x1005, jmp_rel32(0x1005, 0x5000));
  // 0x1040: dec ecx; jz done; cmp ecx, 10; jne 0x5000 (via jmp);
  //         remap 0x5000 -> 0x21000 and INVLPG; jmp 0x5000
  std::vector<uint8_t> loop = {
      0x49,                                      // dec ecx
      0x74, 0x1d,                                // jz done (0x1060)
      0x83, 0xf9, 0x0a,                          // cmp ecx, 10
      0x75, 0x11,                                // jne to_target (0x1059)
      0xc7, 0x05, 0x14, 0x10, 0x01, 0x00,        // mov dword [0x11014], 0x21003
      0x03, 0x10, 0x02, 0x00,
      0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00,  // invlpg [0x5000]
  };
  load(0x1040, loop);
  load(0x1059, jmp_rel32(0x1059, 0x5000));  // to_target
  load(0x105e, {0x90, 0x90, 0xf4});         // done (0x1060): hlt
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.cr3 = 0x10000;
    g->cpu.cr0 |= cr0::PG;
    g->cpu.regs[EAX] = 0;
  }
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x11000, 0x1000);
  // Iterations with ECX 20..11 ran A (+1 each), 10..1 ran B (+0x100 each).
  EXPECT_EQ(dut.cpu.regs[EAX], 10u + 10u * 0x100u);
  EXPECT_GT(dbt->stats().cross_page_hits, 10u);
}

// The same EIP reached in a different mode (CS.D flipped from outside
// between runs) must not reuse the front cache's or the lookup cache's
// 32-bit block.
TEST_F(Dispatch, CallerChangesToCpuStateAreSeenBetweenRuns) {
  flat32();
  // 0x1000: mov eax, 0x90909090 (in 32-bit code); in 16-bit code it is
  // mov ax, 0x9090 followed by two NOPs. Then hlt.
  load(0x1000, {0xb8, 0x90, 0x90, 0x90, 0x90, 0xf4});
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 0x90909090u);
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.eip = 0x1000;
    g->cpu.halted = false;
    g->cpu.regs[EAX] = 0x12345678;
    g->cpu.seg[CS].attr &= ~seg_attr::DB;  // 16-bit code segment, same base
  }
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 0x12349090u);
}

// With a real-time clock and end_slice_at_block, a run stops at the block
// boundary where the next block does not fit instead of interpreting the
// rest of the budget; it never passes the budget, and still progresses
// when no block fits at all.
TEST(DispatchSlices, RealTimeSliceEndsAtABlockBoundary) {
  BareGuest g;
  VirtualClock realtime(false);
  Interpreter interp(g.cpu, g.mem, g.io, realtime, nullptr);
  g.flat32();
  // A 4-instruction loop body, forever.
  g.load(0x1000, {0x40, 0x43, 0x41, 0x42, 0xeb, 0xfa});  // inc eax; inc ebx; inc ecx; inc edx; jmp $-4
  dbt::DbtOptions o = DualFixture::test_options();
  o.end_slice_at_block = true;
  dbt::DbtEngine e(interp, o);
  for (Reg r : {EAX, EBX, ECX, EDX}) g.cpu.regs[r] = 0;
  uint64_t total = 0;
  for (int i = 0; i < 50; ++i) {
    // The 5-instruction block fits once in 7 steps; the run then stops.
    const dbt::DbtRunResult r = e.run(7);
    EXPECT_EQ(r.steps, 5u);
    total += r.steps;
    EXPECT_EQ(g.cpu.eip, 0x1000u);
    EXPECT_EQ(g.cpu.regs[EBX], g.cpu.regs[EAX]);
    EXPECT_EQ(g.cpu.regs[EDX], g.cpu.regs[EAX]);
  }
  EXPECT_EQ(e.retired(), total);
  EXPECT_EQ(g.cpu.regs[EAX], 50u);
  EXPECT_EQ(e.stats().interpreter_steps, 0u);
  // A budget smaller than the block still progresses (interpreted).
  const dbt::DbtRunResult r = e.run(1);
  EXPECT_EQ(r.steps, 1u);
  EXPECT_EQ(g.cpu.regs[EAX], 51u);
  EXPECT_EQ(e.stats().interpreter_steps, 1u);
}

}  // namespace
}  // namespace popek::test
