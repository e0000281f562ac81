// Return-address prediction (translator/emit_stack.cpp, dbt_context.h
// ReturnStackEntry): a CALL pushes its return address and its block's link,
// a RET whose popped address matches jumps through the link. These programs
// make the prediction wrong in each way a guest can, and the translator must
// still run exactly what the interpreter runs:
//  - the return address is overwritten on the stack (the RET goes elsewhere),
//  - the code at the return site is rewritten between the CALL and the RET,
//  - the return site's page is remapped (PTE edit + INVLPG) in the callee.
// Each also checks that the predictor was used (return_predictions), so the
// tests cannot pass with the predictor switched off.
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using ReturnPrediction = DualFixture;

TEST_F(ReturnPrediction, NestedCallsArePredicted) {
  flat32();
  // mov ecx, 40; l: call f; dec ecx; jnz l; hlt ... f (0x1020): inc eax; ret
  load(0x1000, {0xb9, 40, 0, 0, 0, 0xe8, 0x16, 0, 0, 0, 0x49, 0x75, 0xf8, 0xf4});
  load(0x1020, {0x40, 0xc3});
  set_reg(ESP, 0x8000);
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 40u);
  // The first RET fills the link through the dispatcher; the others go
  // through it (the epoch may advance once while the first blocks settle).
  EXPECT_GE(dbt->stats().return_predictions, 38u);
  EXPECT_LE(dbt->stats().indirect_misses, 2u);
}

TEST_F(ReturnPrediction, OverwrittenReturnAddressGoesWhereTheStackSays) {
  flat32();
  // 0x1000: mov ecx, 40
  // 0x1005: l: call f
  // 0x100a:    dec ecx            the predicted return site
  //            jnz l
  //            hlt
  // 0x1020: f: inc eax
  //            test ecx, 3
  //            jnz .keep
  //            mov dword [esp], b  every 4th call: return to b instead
  //         .keep: ret
  // 0x1040: b: inc ebx
  //            dec ecx
  //            jnz l
  //            hlt
  load(0x1000, {0xb9, 0x28, 0x00, 0x00, 0x00, 0xe8, 0x16, 0x00, 0x00, 0x00, 0x49, 0x75, 0xf8, 0xf4});
  load(0x1020, {0x40, 0xf7, 0xc1, 0x03, 0x00, 0x00, 0x00, 0x75, 0x07, 0xc7, 0x04, 0x24, 0x40, 0x10, 0x00, 0x00, 0xc3});
  load(0x1040, {0x43, 0x49, 0x75, 0xc1, 0xf4});
  set_reg(ESP, 0x8000);
  run();
  expect_same(0x7f00, 0x100);
  EXPECT_EQ(dut.cpu.regs[EAX], 40u);
  EXPECT_EQ(dut.cpu.regs[EBX], 10u) << "every 4th RET must reach b";
  EXPECT_GT(dbt->stats().return_predictions, 20u) << "the unchanged returns are predicted";
}

TEST_F(ReturnPrediction, ReturnSiteRewrittenBetweenCallAndRet) {
  flat32();
  // 0x1000: mov ecx, 24
  // 0x1005: l: call f
  // 0x100a: site: mov eax, 1       return site: f rewrites the immediate
  //            add ebx, eax
  //            dec ecx
  //            jnz l
  //            hlt
  // 0x1040: f: test ecx, 3
  //            jnz .keep
  //            inc dword [site+1]  every 4th call: SMC at the return site
  //         .keep: ret
  load(0x1000, {0xb9, 0x18, 0x00, 0x00, 0x00, 0xe8, 0x36, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00,
                0x01, 0xc3, 0x49, 0x75, 0xf1, 0xf4});
  load(0x1040, {0xf7, 0xc1, 0x03, 0x00, 0x00, 0x00, 0x75, 0x06, 0xff, 0x05, 0x0b, 0x10, 0x00, 0x00, 0xc3});
  set_reg(ESP, 0x8000);
  run();
  expect_same(0x1000, 0x20);
  // ecx 24..1; f runs before the return site, so a rewrite (ecx a multiple
  // of 4) counts already for that turn.
  uint32_t expected = 0, imm = 1;
  for (uint32_t ecx = 24; ecx >= 1; --ecx) {
    if (ecx % 4 == 0) ++imm;
    expected += imm;
  }
  EXPECT_EQ(dut.cpu.regs[EBX], expected) << "a RET ran the return site's old code";
  EXPECT_GT(dbt->stats().smc_invalidations, 0u);
  EXPECT_GT(dbt->stats().return_predictions, 5u) << "returns between the rewrites are predicted";
}

struct ReturnPredictionPaging : DualFixture {
  static constexpr uint32_t kPd = 0x100000, kPt = 0x101000;
  // Identity-maps 0-4 MiB (supervisor read/write, accessed and dirty),
  // except linear 0x3000, which maps physical 0x5000.
  void paging() {
    for (BareGuest* g : {&ref, &dut}) {
      g->mem.write32(kPd, kPt | 0x63);
      for (uint32_t i = 0; i < 1024; ++i) g->mem.write32(kPt + i * 4, (i << 12) | 0x63);
      g->mem.write32(kPt + 3 * 4, 0x5000 | 0x63);
      g->cpu.cr3 = kPd;
      g->cpu.cr0 |= cr0::PG;
      g->interp.mmu.flush(true);
    }
  }
};

TEST_F(ReturnPredictionPaging, ReturnSitePageRemappedInTheCallee) {
  flat32();
  paging();
  // 0x1000: mov ecx, 12
  // 0x1005: l: jmp 0x2ffb
  // 0x1100: f: test ecx, 1
  //            jnz .keep
  //            xor dword [0x10100c], 0x3000   PTE of linear 0x3000: 0x5000 <-> 0x6000
  //            invlpg [0x3000]
  //         .keep: ret
  // 0x2ffb:    call f                         returns to 0x3000, the remapped page
  // physical 0x5000 (linear 0x3000): add ebx, 1;     dec ecx; jnz l; hlt
  // physical 0x6000 (linear 0x3000): add ebx, 0x100; dec ecx; jnz l; hlt
  load(0x1000, {0xb9, 0x0c, 0x00, 0x00, 0x00, 0xe9, 0xf1, 0x1f, 0x00, 0x00});
  load(0x1100, {0xf7, 0xc1, 0x01, 0x00, 0x00, 0x00, 0x75, 0x11, 0x81, 0x35, 0x0c, 0x10, 0x10, 0x00, 0x00,
                0x30, 0x00, 0x00, 0x0f, 0x01, 0x3d, 0x00, 0x30, 0x00, 0x00, 0xc3});
  load(0x2ffb, {0xe8, 0x00, 0xe1, 0xff, 0xff});
  load(0x5000, {0x83, 0xc3, 0x01, 0x49, 0x0f, 0x85, 0xfb, 0xdf, 0xff, 0xff, 0xf4});
  load(0x6000, {0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, 0x49, 0x0f, 0x85, 0xf8, 0xdf, 0xff, 0xff, 0xf4});
  set_reg(ESP, 0x8000);
  run();
  expect_same();
  // ecx 12..1: an even ecx flips the mapping before the RET. 12 flips to
  // 0x6000, 11 keeps it, 10 flips back to 0x5000, 9 keeps it...: six
  // returns of each kind.
  EXPECT_EQ(dut.cpu.regs[EBX], 6u * 0x100 + 6u) << "a RET ran code of the page's old mapping";
  EXPECT_GT(dbt->stats().return_predictions, 0u) << "the returns that follow no remapping are predicted";
}

}  // namespace
}  // namespace popek::test
