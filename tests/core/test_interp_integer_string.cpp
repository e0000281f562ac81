// String instructions: MOVS CMPS SCAS LODS STOS INS OUTS with REP/REPE/REPNE,
// DF, 16/32-bit addressing, source segment override, restart after a fault
// in the middle, the per-step iteration bound, and zero counts.
#include <vector>

#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using namespace flag;

// A port that returns a counter and records what is written to it.
struct RecordingPort : IoDevice {
  uint32_t next = 0x10;
  std::vector<uint32_t> written;
  uint32_t io_read(uint16_t, unsigned) override { return next++; }
  void io_write(uint16_t, unsigned, uint32_t value) override { written.push_back(value); }
};

class IntegerString : public IntegerTest {};

TEST_F(IntegerString, MovsForwardAndBackward32) {
  flat32();
  mem.write32(0x5000, 0x11223344);
  mem.write32(0x5004, 0x55667788);
  cpu.regs[ESI] = 0x5000;
  cpu.regs[EDI] = 0x6000;
  exec({0xa5});  // movsd
  EXPECT_EQ(mem.read32(0x6000), 0x11223344u);
  EXPECT_EQ(cpu.regs[ESI], 0x5004u);
  EXPECT_EQ(cpu.regs[EDI], 0x6004u);
  cpu.eflags |= DF;
  cpu.regs[ESI] = 0x5007;
  cpu.regs[EDI] = 0x6107;
  exec({0xa4});  // movsb, backwards
  EXPECT_EQ(mem.read8(0x6107), 0x55u);
  EXPECT_EQ(cpu.regs[ESI], 0x5006u);
  EXPECT_EQ(cpu.regs[EDI], 0x6106u);
}

TEST_F(IntegerString, RepMovsbAndRepStosd) {
  flat32();
  for (uint32_t i = 0; i < 100; ++i) mem.write8(0x5000 + i, static_cast<uint8_t>(i * 3));
  cpu.regs[ESI] = 0x5000;
  cpu.regs[EDI] = 0x6000;
  cpu.regs[ECX] = 100;
  exec({0xf3, 0xa4});  // rep movsb
  for (uint32_t i = 0; i < 100; ++i) ASSERT_EQ(mem.read8(0x6000 + i), static_cast<uint8_t>(i * 3));
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(cpu.regs[ESI], 0x5064u);
  EXPECT_EQ(cpu.regs[EDI], 0x6064u);
  EXPECT_EQ(cpu.eip, kCode + 2);
  cpu.regs[EAX] = 0xcafef00d;
  cpu.regs[ECX] = 4;
  cpu.regs[EDI] = 0x7000;
  exec({0xf3, 0xab});  // rep stosd
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(mem.read32(0x7000 + 4 * i), 0xcafef00du);
  EXPECT_EQ(mem.read32(0x7010), 0u);
  EXPECT_EQ(cpu.regs[EDI], 0x7010u);
}

TEST_F(IntegerString, SixteenBitAddressingUsesSiDiCxAndWraps) {
  real_mode();
  cpu.seg[DS].base = 0x10000;
  cpu.seg[ES].base = 0x20000;
  mem.write8(0x1ffff, 0xa1);
  mem.write8(0x10000, 0xa2);
  cpu.regs[ESI] = 0x5555ffff;
  cpu.regs[EDI] = 0x66660010;
  cpu.regs[ECX] = 0x77770002;
  exec({0xf3, 0xa4});  // rep movsb: SI wraps FFFF → 0000
  EXPECT_EQ(mem.read8(0x20010), 0xa1u);
  EXPECT_EQ(mem.read8(0x20011), 0xa2u);
  EXPECT_EQ(cpu.regs[ESI], 0x55550001u);
  EXPECT_EQ(cpu.regs[EDI], 0x66660012u);
  EXPECT_EQ(cpu.regs[ECX], 0x77770000u);
  // A 67 prefix switches to ESI/EDI/ECX in 16-bit code.
  cpu.eip = kCode;
  cpu.regs[ESI] = 0x0;
  cpu.regs[EDI] = 0x100;
  cpu.regs[ECX] = 0x1;
  exec({0x67, 0xf3, 0xa4});
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(cpu.regs[ESI], 1u);
}

TEST_F(IntegerString, SegmentOverrideAppliesToTheSourceOnly) {
  real_mode();
  cpu.seg[CS].base = 0;
  cpu.seg[DS].base = 0x10000;
  cpu.seg[ES].base = 0x20000;
  cpu.seg[FS].base = 0x30000;
  mem.write8(0x30040, 0x77);
  mem.write8(0x10040, 0x11);
  cpu.regs[ESI] = 0x40;
  cpu.regs[EDI] = 0x50;
  exec({0x64, 0xa4});  // fs: movsb
  EXPECT_EQ(mem.read8(0x20050), 0x77u);
  EXPECT_EQ(mem.read8(0x30050), 0u);
  cpu.regs[EDI] = 0x60;
  cpu.regs[EAX] = 0x99;
  exec({0x64, 0xaa});  // fs: stosb still writes ES:DI
  EXPECT_EQ(mem.read8(0x20060), 0x99u);
  cpu.regs[ESI] = 0x40;
  exec({0x64, 0xac});  // fs: lodsb
  EXPECT_EQ(cpu.regs[EAX] & 0xff, 0x77u);
}

TEST_F(IntegerString, RepeCmpsbStopsAtTheFirstDifference) {
  flat32();
  const char a[] = "abcdefgh", b[] = "abcdxfgh";
  for (int i = 0; i < 8; ++i) {
    mem.write8(0x5000 + i, static_cast<uint8_t>(a[i]));
    mem.write8(0x6000 + i, static_cast<uint8_t>(b[i]));
  }
  cpu.regs[ESI] = 0x5000;
  cpu.regs[EDI] = 0x6000;
  cpu.regs[ECX] = 8;
  exec({0xf3, 0xa6});  // repe cmpsb
  EXPECT_EQ(cpu.regs[ECX], 3u);  // stopped after comparing index 4
  EXPECT_EQ(cpu.regs[ESI], 0x5005u);
  EXPECT_EQ(cpu.regs[EDI], 0x6005u);
  EXPECT_EQ(arith_flags() & (ZF | CF), CF);  // 'e' - 'x' borrows
}

TEST_F(IntegerString, RepneScasbFindsTheByte) {
  flat32();
  const char s[] = "hello, world";
  for (int i = 0; i < 12; ++i) mem.write8(0x5000 + i, static_cast<uint8_t>(s[i]));
  cpu.regs[EDI] = 0x5000;
  cpu.regs[ECX] = 12;
  cpu.regs[EAX] = ',';
  exec({0xf2, 0xae});  // repne scasb
  EXPECT_EQ(cpu.regs[EDI], 0x5006u);
  EXPECT_EQ(cpu.regs[ECX], 6u);
  EXPECT_EQ(arith_flags() & ZF, ZF);
  cpu.eip = kCode;
  cpu.regs[EDI] = 0x5000;
  cpu.regs[ECX] = 12;
  cpu.regs[EAX] = 'z';
  exec({0xf2, 0xae});  // not found: runs out of count
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(arith_flags() & ZF, 0u);
}

TEST_F(IntegerString, ScasAndLodsWidths) {
  flat32();
  mem.write32(0x5000, 0x12345678);
  cpu.regs[ESI] = 0x5000;
  exec({0x66, 0xad});  // lodsw
  EXPECT_EQ(cpu.regs[EAX] & 0xffff, 0x5678u);
  EXPECT_EQ(cpu.regs[ESI], 0x5002u);
  cpu.regs[EDI] = 0x5000;
  cpu.regs[EAX] = 0x12345678;
  exec({0xaf});  // scasd
  EXPECT_EQ(arith_flags() & ZF, ZF);
  EXPECT_EQ(cpu.regs[EDI], 0x5004u);
}

TEST_F(IntegerString, ZeroCountRepDoesNothing) {
  flat32();
  cpu.seg[DS].limit = 0xfff;
  cpu.regs[ESI] = 0x50000;  // beyond the limit: would #GP if accessed
  cpu.regs[EDI] = 0x6000;
  cpu.regs[ECX] = 0;
  const uint32_t flags = cpu.eflags;
  EXPECT_FALSE(try_exec({0xf3, 0xa4}));
  EXPECT_EQ(cpu.eip, kCode + 2);
  EXPECT_EQ(cpu.regs[ESI], 0x50000u);
  EXPECT_EQ(cpu.eflags, flags);
  cpu.eip = kCode;
  cpu.eflags |= ZF;
  EXPECT_FALSE(try_exec({0xf3, 0xa6}));  // repe cmpsb with ECX=0 keeps ZF
  EXPECT_EQ(cpu.eflags & ZF, ZF);
}

TEST_F(IntegerString, RepMovsbFaultsOnAMissingPageAndResumes) {
  flat32();
  enable_paging();
  set_page_flags(0x9000, 0x0);  // not present
  for (uint32_t i = 0; i < 32; ++i) mem.write8(0x5000 + i, static_cast<uint8_t>(0x40 + i));
  cpu.regs[ESI] = 0x5000;
  cpu.regs[EDI] = 0x8ff0;  // 16 bytes fit, the 17th is on the missing page
  cpu.regs[ECX] = 32;
  auto f = try_exec({0xf3, 0xa4});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(f->error_code, 0x2u);  // not present, write
  EXPECT_EQ(cpu.cr2, 0x9000u);
  EXPECT_EQ(cpu.eip, kCode);        // restartable at the instruction
  EXPECT_EQ(cpu.regs[ECX], 16u);    // the work done so far is committed
  EXPECT_EQ(cpu.regs[ESI], 0x5010u);
  EXPECT_EQ(cpu.regs[EDI], 0x9000u);
  EXPECT_EQ(mem.read8(0x8fff), 0x4fu);
  set_page_flags(0x9000, 0x3);  // the "handler" maps the page
  EXPECT_FALSE(try_exec({0xf3, 0xa4}));
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(cpu.eip, kCode + 2);
  for (uint32_t i = 0; i < 32; ++i) ASSERT_EQ(mem.read8(0x8ff0 + i), 0x40 + i);
}

TEST_F(IntegerString, LongRepYieldsAfterTheIterationBound) {
  flat32();
  cpu.regs[EDI] = 0x10000;
  cpu.regs[ECX] = 3000;
  cpu.regs[EAX] = 0xee;
  load(kCode, {0xf3, 0xaa});  // rep stosb
  step();
  EXPECT_EQ(cpu.eip, kCode);  // not finished: EIP stays on the instruction
  EXPECT_EQ(cpu.regs[ECX], 3000u - 1024);
  EXPECT_EQ(cpu.regs[EDI], 0x10000u + 1024);
  step(2);
  EXPECT_EQ(cpu.eip, kCode + 2);
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(mem.read8(0x10000 + 2999), 0xeeu);
  EXPECT_EQ(mem.read8(0x10000 + 3000), 0u);
}

TEST_F(IntegerString, HugeCountStillReturnsEveryStep) {
  flat32();
  cpu.regs[ECX] = 0xffffffff;
  cpu.regs[ESI] = 0x5000;
  load(kCode, {0xf3, 0xad});  // rep lodsd
  for (int i = 0; i < 4; ++i) step();
  EXPECT_EQ(cpu.eip, kCode);
  EXPECT_EQ(cpu.regs[ECX], 0xffffffffu - 4 * 1024);
}

TEST_F(IntegerString, InsAndOutsThroughTheIoBus) {
  real_mode();
  RecordingPort port;
  io.register_ports(0x300, 4, &port, true);
  cpu.regs[EDX] = 0x300;
  cpu.regs[EDI] = 0x0400;
  cpu.regs[ECX] = 3;
  exec({0xf3, 0x6c});  // rep insb
  EXPECT_EQ(mem.read8(0x400), 0x10u);
  EXPECT_EQ(mem.read8(0x402), 0x12u);
  EXPECT_EQ(cpu.regs[EDI], 0x403u);
  mem.write16(0x500, 0xa1a2);
  mem.write16(0x502, 0xb1b2);
  cpu.regs[ESI] = 0x500;
  cpu.regs[ECX] = 2;
  exec({0xf3, 0x6f});  // rep outsw
  ASSERT_EQ(port.written.size(), 2u);
  EXPECT_EQ(port.written[0], 0xa1a2u);
  EXPECT_EQ(port.written[1], 0xb1b2u);
  io.unregister_ports(0x300, 4);
}

TEST_F(IntegerString, InsDoesNotReadThePortWhenTheDestinationFaults) {
  flat32();
  RecordingPort port;
  io.register_ports(0x300, 4, &port, true);
  cpu.seg[ES].attr &= ~seg_attr::WRITABLE;  // read-only data segment
  cpu.regs[EDX] = 0x300;
  cpu.regs[EDI] = 0x400;
  auto f = try_exec({0x6c});  // insb
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(port.next, 0x10u);  // no port read happened
  io.unregister_ports(0x300, 4);
}

TEST_F(IntegerString, SseMovsdIsNotAStringMove) {
  flat32();
  auto f = try_exec({0xf2, 0x0f, 0x10, 0xc1});  // movsd xmm0, xmm1 (SSE2)
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::UD);
}

}  // namespace
}  // namespace popek::test
