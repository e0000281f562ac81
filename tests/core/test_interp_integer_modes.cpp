// The integer instructions in V86 mode and at CPL 3: same semantics, with
// the segmentation (base = selector << 4, 64 KiB limits) and user-mode
// paging checks applied by the shared helpers.
#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using namespace flag;

class IntegerModes : public IntegerTest {
 protected:
  // V86 mode with every segment at selector 0x1000 (base 0x10000), IP 0x100.
  void v86() {
    flat32(0, 0);
    cpu.eflags |= VM;
    cpu.cpl = 3;
    for (int s = 0; s < 6; ++s) {
      cpu.seg[s].selector = 0x1000;
      cpu.seg[s].base = 0x10000;
      cpu.seg[s].limit = 0xffff;
      cpu.seg[s].attr = seg_attr::P | seg_attr::S | (3 << seg_attr::DPL_SHIFT) | 0x3;
    }
    cpu.eip = 0x100;
    cpu.regs[ESP] = 0x2000;
  }
};

TEST_F(IntegerModes, V86ArithmeticStackAndStrings) {
  v86();
  cpu.regs[EAX] = 0x1234;
  exec({0x50});  // push ax
  EXPECT_EQ(cpu.regs[ESP], 0x1ffeu);
  EXPECT_EQ(mem.read16(0x10000 + 0x1ffe), 0x1234u);
  exec({0x05, 0x01, 0x00});  // add ax, 1 (16-bit code)
  EXPECT_EQ(cpu.regs[EAX], 0x1235u);
  for (uint32_t i = 0; i < 4; ++i) mem.write8(0x10000 + 0x300 + i, static_cast<uint8_t>(0xc0 + i));
  cpu.regs[ESI] = 0x300;
  cpu.regs[EDI] = 0x400;
  cpu.regs[ECX] = 4;
  exec({0xf3, 0xa4});  // rep movsb
  EXPECT_EQ(mem.read32(0x10000 + 0x400), 0xc3c2c1c0u);
  exec({0xe8, 0x00, 0x01});  // call +0x100
  EXPECT_EQ(mem.read16(0x10000 + 0x1ffc), cpu.eip - 0x100);
  EXPECT_EQ(cpu.seg[CS].selector, 0x1000u);
}

TEST_F(IntegerModes, V86DivideErrorAndLimit) {
  v86();
  cpu.regs[ECX] = 0;
  auto f = try_exec({0xf6, 0xf1});  // div cl
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::DE);
  cpu.regs[EBX] = 0xffff;
  f = try_exec({0x8b, 0x07});  // mov ax, [bx]: beyond the 64 KiB limit
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
}

TEST_F(IntegerModes, UserModePushToSupervisorPageIsUserPageFault) {
  flat32(3);
  enable_paging();
  set_page_flags(0x7000, 0x3);  // supervisor, writable
  cpu.regs[ESP] = 0x8000;
  cpu.regs[EAX] = 1;
  auto f = try_exec({0x50});  // push eax → 0x7ffc
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(f->error_code, 0x7u);  // present, write, user
  EXPECT_EQ(cpu.regs[ESP], 0x8000u);
  set_page_flags(0x7000, 0x7);
  EXPECT_FALSE(try_exec({0x50}));
  EXPECT_EQ(cpu.regs[ESP], 0x7ffcu);
}

TEST_F(IntegerModes, ReadOnlyDataSegmentRejectsWritesNotReads) {
  flat32();
  cpu.seg[DS].attr &= ~seg_attr::WRITABLE;
  mem.write32(0x5000, 3);
  EXPECT_FALSE(try_exec({0x03, 0x05, 0x00, 0x50, 0x00, 0x00}));  // add eax, [0x5000]
  EXPECT_EQ(cpu.regs[EAX], 3u);
  auto f = try_exec({0x01, 0x05, 0x00, 0x50, 0x00, 0x00});  // add [0x5000], eax
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(mem.read32(0x5000), 3u);
}

}  // namespace
}  // namespace popek::test
