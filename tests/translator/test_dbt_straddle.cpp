// Instructions whose bytes cross a page boundary: the translator ends a
// block with such an instruction (a two-page block) instead of handing it
// to the interpreter, and such a block runs only while its second page maps
// where it did (roms/straddle.asm covers SMC, remaps, CR3 and #PF).
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Straddle = DualFixture;

std::vector<uint8_t> le32(uint32_t v) {
  return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}

// A loop whose body holds `add eax, imm32` across 0x1000/0x2000: translated
// once as a two-page block, never interpreted.
TEST_F(Straddle, LoopAcrossAPageRunsTranslated) {
  flat32();
  // 0x1000: mov ecx, 1000; xor eax, eax; jmp 0x1ff0
  load(0x1000, {0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0, 0xe9});
  load(0x1008, le32(0x1ff0 - 0x100c));
  // 0x1ff0: 13 x nop; 0x1ffd: add eax, 0x04030201 (05 01 02 | 03 04)
  std::vector<uint8_t> body(13, 0x90);
  for (uint8_t b : {0x05, 0x01, 0x02}) body.push_back(b);
  load(0x1ff0, body);
  // 0x2000: 03 04 (imm bytes 2, 3); dec ecx; jnz 0x1ff0 (rel32); hlt
  load(0x2000, {0x03, 0x04, 0x49, 0x0f, 0x85});
  load(0x2005, le32(0x1ff0 - 0x2009));
  load(0x2009, {0xf4});
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 1000u * 0x04030201u);
  const dbt::DbtStats& st = dbt->stats();
  EXPECT_EQ(st.two_page_blocks, 1u);
  EXPECT_EQ(st.interp_reasons[unsigned(dbt::InterpReason::NoBlock)], 0u);
  EXPECT_LE(st.interpreter_steps, 1u);  // the HLT
  EXPECT_EQ(dbt->check_cache(), std::vector<std::string>{});
}

// The straddling block is reached by CALL EBX (an indirect branch: a
// lookup-cache miss goes to the dispatcher); after its second page is
// remapped (PTE + INVLPG) the next call must run the new bytes, and the
// block translated for the old frame is replaced.
TEST_F(Straddle, CallThroughARemappedSecondPage) {
  flat32();
  load(0x10000, le32(0x11000 | 3));  // page directory: 0-4 MiB through one table
  for (uint32_t i = 0; i < 1024; ++i) load(0x11000 + i * 4, le32((i << 12) | 3));
  load(0x11000 + 5 * 4, le32(0x20000 | 3 | 0x60));  // linear 0x5000 -> 0x20000 (A and D set)
  load(0x11000 + 6 * 4, le32(0x21000 | 3 | 0x60));  // linear 0x6000 -> 0x21000, later 0x22000
  // 0x5ff8: 4 x nop; 0x5ffc: mov eax, 0x0?000000 (B8 00 00 00 | ??); ret
  load(0x20ff8, {0x90, 0x90, 0x90, 0x90, 0xb8, 0x00, 0x00, 0x00});
  load(0x21000, {0x01, 0xc3});
  load(0x22000, {0x02, 0xc3});
  // 0x1000: mov ecx, 20; mov ebx, 0x5ff8; xor esi, esi
  // 0x100c: call ebx; add esi, eax; dec ecx; jz done; cmp ecx, 10; jne 0x100c;
  //         mov dword [0x11018], 0x22063; invlpg [0x6000]; jmp 0x100c
  // done: hlt
  std::vector<uint8_t> code = {
      0xb9, 0x14, 0x00, 0x00, 0x00,              // mov ecx, 20
      0xbb, 0xf8, 0x5f, 0x00, 0x00,              // mov ebx, 0x5ff8
      0x31, 0xf6,                                // xor esi, esi
      0xff, 0xd3,                                // 0x100c: call ebx
      0x01, 0xc6,                                // add esi, eax
      0x49,                                      // dec ecx
      0x74, 0x18,                                // jz done (0x102b)
      0x83, 0xf9, 0x0a,                          // cmp ecx, 10
      0x75, 0xf4,                                // jne 0x100c
      0xc7, 0x05, 0x18, 0x10, 0x01, 0x00,        // mov dword [0x11018], 0x22063
      0x63, 0x20, 0x02, 0x00,
      0x0f, 0x01, 0x3d, 0x00, 0x60, 0x00, 0x00,  // invlpg [0x6000]
      0xeb, 0xe1,                                // jmp 0x100c
      0xf4,                                      // done: hlt
  };
  ASSERT_EQ(code.size(), 0x2cu);
  load(0x1000, code);
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.cr3 = 0x10000;
    g->cpu.cr0 |= cr0::PG;
  }
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x11000, 0x1000);
  // Calls with ECX 20..11 ran the first frame's byte, 10..1 the second's.
  EXPECT_EQ(dut.cpu.regs[ESI], 10u * 0x01000000u + 10u * 0x02000000u);
  const dbt::DbtStats& st = dbt->stats();
  EXPECT_EQ(st.two_page_blocks, 2u);    // one per second-page frame
  EXPECT_LE(st.interpreter_steps, 1u);  // the HLT
  EXPECT_EQ(dbt->check_cache(), std::vector<std::string>{});
}

}  // namespace
}  // namespace popek::test
