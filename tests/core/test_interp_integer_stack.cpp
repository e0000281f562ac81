// Stack instructions: PUSH/POP (register, memory, immediate), PUSHA/POPA,
// ENTER/LEAVE, and their faults (#SS beyond the limit, #PF on a read-only
// stack page) leaving ESP unchanged.
#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using namespace flag;

class IntegerStack : public IntegerTest {};

TEST_F(IntegerStack, PushPopRegisters32And16) {
  flat32();
  cpu.regs[EAX] = 0xdeadbeef;
  exec({0x50});  // push eax
  EXPECT_EQ(cpu.regs[ESP], 0x80000u - 4);
  EXPECT_EQ(mem.read32(0x80000 - 4), 0xdeadbeefu);
  exec({0x66, 0x53});  // push bx
  EXPECT_EQ(cpu.regs[ESP], 0x80000u - 6);
  exec({0x66, 0x59});  // pop cx
  exec({0x5a});        // pop edx
  EXPECT_EQ(cpu.regs[EDX], 0xdeadbeefu);
  EXPECT_EQ(cpu.regs[ESP], 0x80000u);
  real_mode();
  cpu.regs[EAX] = 0x12345678;
  exec({0x50});  // push ax
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 2);
  EXPECT_EQ(mem.read16(0x8000 - 2), 0x5678u);
  exec({0x66, 0x50});  // push eax
  EXPECT_EQ(mem.read32(0x8000 - 6), 0x12345678u);
  exec({0x66, 0x5f});  // pop edi
  EXPECT_EQ(cpu.regs[EDI], 0x12345678u);
}

TEST_F(IntegerStack, PushImmediateAndMemory) {
  flat32();
  exec({0x6a, 0xfe});  // push -2
  EXPECT_EQ(mem.read32(0x80000 - 4), 0xfffffffeu);
  exec({0x68, 0x44, 0x33, 0x22, 0x11});  // push 0x11223344
  EXPECT_EQ(mem.read32(0x80000 - 8), 0x11223344u);
  exec({0x66, 0x6a, 0x80});  // push word -128
  EXPECT_EQ(mem.read16(0x80000 - 10), 0xff80u);
  mem.write32(0x5000, 0xabcdef01);
  exec({0xff, 0x35, 0x00, 0x50, 0x00, 0x00});  // push dword [0x5000]
  EXPECT_EQ(mem.read32(0x80000 - 14), 0xabcdef01u);
  exec({0x8f, 0x05, 0x10, 0x50, 0x00, 0x00});  // pop dword [0x5010]
  EXPECT_EQ(mem.read32(0x5010), 0xabcdef01u);
  EXPECT_EQ(cpu.regs[ESP], 0x80000u - 10);
}

TEST_F(IntegerStack, PushEspPushesTheOldValueAndPopEspLoadsThePoppedValue) {
  flat32();
  exec({0x54});  // push esp
  EXPECT_EQ(mem.read32(0x80000 - 4), 0x80000u);
  mem.write32(0x80000 - 4, 0x12340);
  exec({0x5c});  // pop esp
  EXPECT_EQ(cpu.regs[ESP], 0x12340u);
  real_mode();
  exec({0x54});  // push sp
  EXPECT_EQ(mem.read16(0x8000 - 2), 0x8000u);
}

TEST_F(IntegerStack, PopToEspRelativeMemoryUsesTheIncrementedEsp) {
  flat32();
  cpu.regs[ESP] = 0x7000;
  mem.write32(0x7000, 0xaaaa5555);
  exec({0x8f, 0x44, 0x24, 0x04});  // pop dword [esp+4] → [0x7004 + 4]
  EXPECT_EQ(cpu.regs[ESP], 0x7004u);
  EXPECT_EQ(mem.read32(0x7008), 0xaaaa5555u);
  // PUSH [ESP] reads with the old ESP.
  mem.write32(0x7004, 0x600d);
  exec({0xff, 0x34, 0x24});  // push dword [esp]
  EXPECT_EQ(mem.read32(0x7000), 0x600du);
}

TEST_F(IntegerStack, PopToMemoryFaultRestoresEsp) {
  flat32();
  cpu.seg[DS].limit = 0xfff;
  cpu.regs[ESP] = 0x7000;
  auto f = try_exec({0x8f, 0x05, 0x00, 0x50, 0x00, 0x00});  // pop dword [0x5000] (beyond DS limit)
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(cpu.regs[ESP], 0x7000u);
}

TEST_F(IntegerStack, SixteenBitStackWrapsWithinSs) {
  real_mode();
  cpu.regs[ESP] = 0xabcd0000;  // SP = 0
  cpu.regs[EAX] = 0x4242;
  exec({0x50});  // push ax → SS:FFFE
  EXPECT_EQ(cpu.regs[ESP], 0xabcdfffeu);
  EXPECT_EQ(mem.read16(0xfffe), 0x4242u);
  exec({0x5b});  // pop bx
  EXPECT_EQ(cpu.regs[ESP], 0xabcd0000u);
  EXPECT_EQ(cpu.regs[EBX] & 0xffff, 0x4242u);
}

TEST_F(IntegerStack, PushBeyondSsLimitIsSsFaultWithEspUnchanged) {
  real_mode();
  cpu.regs[ESP] = 1;  // the word would sit at FFFF..10000
  auto f = try_exec({0x50});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::SS);
  EXPECT_EQ(cpu.regs[ESP], 1u);
  flat32();
  cpu.seg[SS].attr |= seg_attr::EXPAND_DOWN;  // expand-down: valid offsets above the limit
  cpu.seg[SS].limit = 0x7fff;
  cpu.regs[ESP] = 0x8002;
  f = try_exec({0x50});  // push eax at 0x7ffe
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::SS);
  EXPECT_EQ(f->error_code, 0u);
  EXPECT_EQ(cpu.regs[ESP], 0x8002u);
}

TEST_F(IntegerStack, PushToReadOnlyPageIsPageFaultWithEspUnchanged) {
  flat32();
  enable_paging();
  set_page_flags(0x7000, 0x1);
  cpu.regs[ESP] = 0x8000;
  auto f = try_exec({0x6a, 0x01});  // push 1 → 0x7ffc
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(f->error_code, 0x3u);
  EXPECT_EQ(cpu.cr2, 0x7ffcu);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u);
}

TEST_F(IntegerStack, PushaPopa32) {
  flat32();
  for (int r = 0; r < 8; ++r) cpu.regs[r] = 0x1000u * (r + 1) + r;
  cpu.regs[ESP] = 0x7000;
  exec({0x60});  // pushad
  EXPECT_EQ(cpu.regs[ESP], 0x7000u - 32);
  for (int r = 0; r < 8; ++r) {
    const uint32_t want = r == ESP ? 0x7000u : 0x1000u * (r + 1) + r;
    EXPECT_EQ(mem.read32(0x7000 - 4 * (r + 1)), want) << r;
  }
  mem.write32(0x7000 - 20, 0xdeadbeef);  // the saved ESP slot is skipped by POPAD
  for (int r = 0; r < 8; ++r)
    if (r != ESP) cpu.regs[r] = 0;
  exec({0x61});  // popad
  EXPECT_EQ(cpu.regs[ESP], 0x7000u);
  for (int r = 0; r < 8; ++r) {
    if (r == ESP) continue;
    EXPECT_EQ(cpu.regs[r], 0x1000u * (r + 1) + r) << r;
  }
}

TEST_F(IntegerStack, PushaPopa16KeepUpperHalves) {
  real_mode();
  for (int r = 0; r < 8; ++r) cpu.regs[r] = 0xaaaa0000u | (0x100u * r);
  cpu.regs[ESP] = 0xaaaa8000u;
  exec({0x60});  // pusha
  EXPECT_EQ(cpu.regs[ESP], 0xaaaa8000u - 16);
  EXPECT_EQ(mem.read16(0x8000 - 10), 0x8000u);  // original SP
  EXPECT_EQ(mem.read16(0x8000 - 16), 0x0700u);  // DI
  for (int r = 0; r < 8; ++r)
    if (r != ESP) cpu.regs[r] = 0x55550000u;
  exec({0x61});  // popa
  EXPECT_EQ(cpu.regs[EAX], 0x55550000u);
  EXPECT_EQ(cpu.regs[EDI], 0x55550700u);
  EXPECT_EQ(cpu.regs[ESP], 0xaaaa8000u);
}

TEST_F(IntegerStack, PushaFaultWritesNothing) {
  flat32();
  enable_paging();
  set_page_flags(0x6000, 0x1);  // read-only below 0x7000
  cpu.regs[ESP] = 0x7010;       // slots 0x700c..0x6ff0: the last ones are on the read-only page
  mem.write32(0x700c, 0x1234);
  auto f = try_exec({0x60});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(cpu.regs[ESP], 0x7010u);
  EXPECT_EQ(mem.read32(0x700c), 0x1234u);  // the first slot was not written either
}

TEST_F(IntegerStack, EnterLevelZeroAndLeave32) {
  flat32();
  cpu.regs[ESP] = 0x7000;
  cpu.regs[EBP] = 0x7777;
  exec({0xc8, 0x10, 0x00, 0x00});  // enter 16, 0
  EXPECT_EQ(mem.read32(0x6ffc), 0x7777u);
  EXPECT_EQ(cpu.regs[EBP], 0x6ffcu);
  EXPECT_EQ(cpu.regs[ESP], 0x6ffcu - 16);
  exec({0xc9});  // leave
  EXPECT_EQ(cpu.regs[ESP], 0x7000u);
  EXPECT_EQ(cpu.regs[EBP], 0x7777u);
}

TEST_F(IntegerStack, EnterWithNestingCopiesFramePointers32) {
  flat32();
  // An outer frame at EBP=0x6800 whose display holds two frame pointers.
  mem.write32(0x6800 - 4, 0x1111);
  mem.write32(0x6800 - 8, 0x2222);
  cpu.regs[EBP] = 0x6800;
  cpu.regs[ESP] = 0x6000;
  exec({0xc8, 0x08, 0x00, 0x03});  // enter 8, 3
  EXPECT_EQ(mem.read32(0x5ffc), 0x6800u);  // old EBP
  EXPECT_EQ(mem.read32(0x5ff8), 0x1111u);  // copied from [EBP-4]
  EXPECT_EQ(mem.read32(0x5ff4), 0x2222u);  // copied from [EBP-8]
  EXPECT_EQ(mem.read32(0x5ff0), 0x5ffcu);  // the new frame pointer
  EXPECT_EQ(cpu.regs[EBP], 0x5ffcu);
  EXPECT_EQ(cpu.regs[ESP], 0x5ff0u - 8);
}

TEST_F(IntegerStack, EnterNestingLevelOneAndModulo32) {
  flat32();
  cpu.regs[EBP] = 0x6800;
  cpu.regs[ESP] = 0x6000;
  exec({0xc8, 0x00, 0x00, 0x21});  // enter 0, 33 → level 1
  EXPECT_EQ(mem.read32(0x5ffc), 0x6800u);
  EXPECT_EQ(mem.read32(0x5ff8), 0x5ffcu);
  EXPECT_EQ(cpu.regs[EBP], 0x5ffcu);
  EXPECT_EQ(cpu.regs[ESP], 0x5ff8u);
}

TEST_F(IntegerStack, EnterWithNesting16BitRealMode) {
  real_mode();
  mem.write16(0x0700 - 2, 0xaaaa);
  cpu.regs[EBP] = 0x12340700;
  cpu.regs[ESP] = 0x56780600;
  exec({0xc8, 0x04, 0x00, 0x02});  // enter 4, 2
  EXPECT_EQ(mem.read16(0x05fe), 0x0700u);  // BP
  EXPECT_EQ(mem.read16(0x05fc), 0xaaaau);  // [BP-2]
  EXPECT_EQ(mem.read16(0x05fa), 0x05feu);  // frame temp
  EXPECT_EQ(cpu.regs[EBP], 0x123405feu);
  EXPECT_EQ(cpu.regs[ESP], 0x567805fau - 4);
  exec({0xc9});  // leave
  EXPECT_EQ(cpu.regs[ESP], 0x56780600u);
  EXPECT_EQ(cpu.regs[EBP], 0x12340700u);
}

TEST_F(IntegerStack, EnterFaultLeavesEverythingUnchanged) {
  flat32();
  enable_paging();
  set_page_flags(0x5000, 0x1);  // read-only
  cpu.regs[EBP] = 0x6800;
  cpu.regs[ESP] = 0x6008;
  mem.write32(0x6004, 0x9999);
  // The allocation reaches the read-only page: the final ESP check faults.
  auto f = try_exec({0xc8, 0x00, 0x10, 0x00});  // enter 0x1000, 0
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(cpu.regs[ESP], 0x6008u);
  EXPECT_EQ(cpu.regs[EBP], 0x6800u);
  EXPECT_EQ(mem.read32(0x6004), 0x9999u);
}

}  // namespace
}  // namespace popek::test

namespace popek::test {
namespace {

// ENTER's frame-pointer copies read memory after the (E)BP push of the same
// instruction, so a copy can see that push (found by the native differential).
TEST_F(IntegerStack, EnterCopySeesTheEbpPushedByTheSameInstruction) {
  flat32();
  cpu.regs[EBP] = 0x6004;  // [EBP-4] is exactly where ENTER pushes EBP
  cpu.regs[ESP] = 0x6004;
  mem.write32(0x6000, 0x11111111);
  exec({0xc8, 0x10, 0x00, 0x02});  // enter 16, 2
  EXPECT_EQ(mem.read32(0x6000), 0x6004u);  // pushed EBP
  EXPECT_EQ(mem.read32(0x5ffc), 0x6004u);  // copy of [EBP-4]: the value just pushed
  EXPECT_EQ(mem.read32(0x5ff8), 0x6000u);  // frame pointer
  EXPECT_EQ(cpu.regs[EBP], 0x6000u);
  EXPECT_EQ(cpu.regs[ESP], 0x5ff8u - 16);
}

}  // namespace
}  // namespace popek::test
