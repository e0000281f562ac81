// Self-modifying code: a write into a code page invalidates exactly the
// blocks translated from the bytes it overlaps (the translation cache's
// per-page bitmap), through every write path, and the guest always runs the
// bytes that are in memory.
#include <gtest/gtest.h>

#include "tests/translator/dbt_fixture.h"
#include "translator/translation_cache.h"

namespace popek::test {
namespace {

using dbt::Block;
using dbt::TranslationCache;

// A block of `bytes` guest bytes at physical `pa` (linear = physical), with
// one byte of code in the cache so that jumps into it can be chained.
Block* add_block(TranslationCache& tc, uint32_t pa, uint32_t bytes) {
  auto b = std::make_unique<Block>();
  b->key = dbt::BlockKey{pa, pa, 0, 0xffffffffu, 0};
  b->eip = pa;
  b->guest_bytes = bytes;
  b->insn_count = 1;
  const uint8_t code[8] = {0xe9, 0, 0, 0, 0, 0xc3, 0xc3, 0xc3};  // jmp rel32 (a stub); ret
  b->code = tc.commit_code(code, sizeof code);
  b->code_size = sizeof code;
  return tc.insert(std::move(b));
}

TEST(SmcBitmap, WriteInvalidatesOnlyOverlappingBlocks) {
  TranslationCache tc(1u << 20);
  Block* a = add_block(tc, 0x5000, 11);  // 0x5000..0x500a
  Block* b = add_block(tc, 0x5005, 6);   // 0x5005..0x500a (an entry in the middle of a)
  Block* c = add_block(tc, 0x500b, 1);   // 0x500b
  Block* d = add_block(tc, 0x5040, 14);  // another routine on the page
  EXPECT_TRUE(tc.is_code_byte(0x5000));
  EXPECT_TRUE(tc.is_code_byte(0x504d));
  EXPECT_FALSE(tc.is_code_byte(0x500c));
  EXPECT_FALSE(tc.is_code_byte(0x504e));

  EXPECT_EQ(tc.invalidate_range(0x500c, 0x34), 0u) << "the bytes between the routines are data";
  EXPECT_EQ(tc.invalidate_range(0x5001, 4), 1u);  // a's immediate: only a
  EXPECT_FALSE(a->valid);
  EXPECT_TRUE(b->valid && c->valid && d->valid);
  EXPECT_FALSE(tc.is_code_byte(0x5001)) << "the bitmap drops a's bytes";
  EXPECT_TRUE(tc.is_code_byte(0x5005)) << "and keeps b's";
  EXPECT_EQ(tc.lookup(a->key), nullptr);
  EXPECT_EQ(tc.lookup(b->key), b);

  EXPECT_EQ(tc.invalidate_range(0x500a, 2), 2u);  // the last byte of b and c
  EXPECT_TRUE(tc.page_has_blocks(0x5));
  EXPECT_EQ(tc.invalidate_range(0x5040, 1), 1u);
  EXPECT_FALSE(tc.page_has_blocks(0x5)) << "no block left: the page can lose its protection";
  EXPECT_EQ(tc.stats().smc_invalidations, 4u);
  EXPECT_EQ(tc.block_count(), 0u);
}

TEST(SmcBitmap, InvalidationUnchainsJumpsIntoTheBlock) {
  TranslationCache tc(1u << 20);
  Block* from = add_block(tc, 0x6000, 4);
  Block* to = add_block(tc, 0x6100, 4);
  dbt::ExitStub& stub = from->exits[0];
  stub.block = from;
  stub.patch_offset = 1;
  stub.target_eip = to->eip;
  from->exit_count = 1;
  tc.chain(stub, *to);
  int32_t rel = 0;
  std::memcpy(&rel, from->code + 1, 4);
  EXPECT_EQ(from->code + 5 + rel, to->code);
  EXPECT_EQ(tc.invalidate_range(0x6102, 1), 1u);
  std::memcpy(&rel, from->code + 1, 4);
  EXPECT_EQ(rel, 0) << "the chained jump falls back to its unchained exit";
  EXPECT_EQ(stub.chained_to, nullptr);
  EXPECT_TRUE(from->valid);
}

TEST(SmcBitmap, DataWritesToACodePageEventuallyDropItsBlocks) {
  TranslationCache tc(1u << 20);
  Block* a = add_block(tc, 0x7000, 16);
  uint32_t written = 0;
  while (written <= TranslationCache::kDataWriteLimit - 4) {
    EXPECT_EQ(tc.invalidate_range(0x7800, 4), 0u);
    written += 4;
  }
  EXPECT_TRUE(a->valid);
  EXPECT_EQ(tc.invalidate_range(0x7800, 4), 1u) << "data next to code: the page goes back to direct writes";
  EXPECT_FALSE(a->valid);
  EXPECT_FALSE(tc.page_has_blocks(0x7));
  // A new block starts the count again.
  Block* b = add_block(tc, 0x7000, 16);
  EXPECT_EQ(tc.invalidate_range(0x7800, 4), 0u);
  EXPECT_TRUE(b->valid);
}

// Guest programs (both engines, compared): the writes below are the ways a
// guest can change code that the translator has run.
using SmcPrograms = DualFixture;

// Two routines on one page; rewriting the second keeps the first's block.
TEST_F(SmcPrograms, RewritingOneRoutineKeepsTheOtherTranslated) {
  flat32();
  load(0x1000, {
                   0xb9, 0x03, 0x00, 0x00, 0x00,        // mov ecx, 3
                   // again (0x1005):
                   0xe8, 0xf6, 0x00, 0x00, 0x00,        // call 0x1100
                   0xe8, 0x31, 0x01, 0x00, 0x00,        // call 0x1140
                   0xc7, 0x05, 0x42, 0x11, 0x00, 0x00,  // mov dword [0x1142], 0 (routine 2's imm32)
                   0x00, 0x00, 0x00, 0x00,
                   0x09, 0x0d, 0x42, 0x11, 0x00, 0x00,  // or [0x1142], ecx
                   0x49,                                // dec ecx
                   0x75, 0xe3,                          // jnz again
                   0xf4,                                // hlt
               });
  load(0x1100, {0x83, 0xc2, 0x01, 0xc3});                    // add edx, 1 / ret
  load(0x1140, {0x81, 0xc3, 0x00, 0x00, 0x00, 0x00, 0xc3});  // add ebx, imm32 / ret
  set_reg(EBX, 0);
  set_reg(EDX, 0);
  run();
  expect_same(0x1000, 0x200);
  EXPECT_EQ(dut.cpu.regs[EDX], 3u);
  EXPECT_EQ(dut.cpu.regs[EBX], 0u + 3 + 2);
  // The caller's block (its stores overlap no code) and routine 1 survive:
  // only routine 2's block goes, once per iteration (the OR finds no block).
  EXPECT_EQ(dbt->stats().smc_invalidations, 3u);
}

// A store into the next instruction of the running block: the block is
// left right after the store and the new bytes run.
TEST_F(SmcPrograms, StoreIntoTheRunningBlockRunsTheNewBytes) {
  flat32();
  load(0x1000, {
                   0xc6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x42,  // mov byte [0x1008], 0x42 (inc edx)
                   0x90,                                      // nop
                   0x40,                                      // inc eax (0x1008), becomes inc edx
                   0xf4,
               });
  set_reg(EAX, 0);
  set_reg(EDX, 0);
  run();
  expect_same(0x1000, 0x10);
  EXPECT_EQ(dut.cpu.regs[EAX], 0u);
  EXPECT_EQ(dut.cpu.regs[EDX], 1u);
  EXPECT_EQ(dbt->stats().smc_invalidations, 1u);
}

// REP STOSB over code, then a call into it.
TEST_F(SmcPrograms, StringStoresOverCode) {
  flat32();
  load(0x1000, {
                   0xe8, 0xfb, 0x00, 0x00, 0x00,  // call 0x1100 (translate the old routine)
                   0xbf, 0x00, 0x11, 0x00, 0x00,  // mov edi, 0x1100
                   0xb0, 0x40,                    // mov al, 0x40 (inc eax)
                   0xb9, 0x03, 0x00, 0x00, 0x00,  // mov ecx, 3
                   0xfc,                          // cld
                   0xf3, 0xaa,                    // rep stosb
                   0x31, 0xc0,                    // xor eax, eax
                   0xe8, 0xe5, 0x00, 0x00, 0x00,  // call 0x1100
                   0xf4,
               });
  load(0x1100, {0x90, 0x90, 0x90, 0xc3});
  run();
  expect_same(0x1000, 0x200);
  EXPECT_EQ(dut.cpu.regs[EAX], 3u);
  EXPECT_GE(dbt->stats().smc_invalidations, 1u);
}

// A bulk write (a device's DMA, a loader) over translated code.
TEST_F(SmcPrograms, BulkWriteOverTranslatedCode) {
  flat32();
  load(0x1000, {0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4});  // mov eax, 1 / hlt
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 1u);
  EXPECT_TRUE(dut.mem.is_code_page(1));
  const std::vector<uint8_t> patch = {0xb8, 0x02, 0x00, 0x00, 0x00, 0xf4};  // mov eax, 2 / hlt
  for (BareGuest* g : {&ref, &dut}) {
    g->mem.write_bytes(0x1000, patch.data(), static_cast<uint32_t>(patch.size()));
    g->cpu.eip = 0x1000;
    g->cpu.halted = false;
  }
  EXPECT_FALSE(dut.mem.is_code_page(1)) << "the page's only block went, and with it the protection";
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 2u);
}

}  // namespace
}  // namespace popek::test
