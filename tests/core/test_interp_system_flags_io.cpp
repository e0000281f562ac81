// PUSHF/POPF, CLI/STI and HLT privilege rules; port I/O with the IOPL and
// TSS I/O-bitmap checks.
#include "tests/core/test_interp_system_fixture.h"

namespace popek::test {
namespace {

struct SystemFlags : SysFixture {
  void popfd(uint32_t image) {
    cpu.regs[ESP] -= 4;
    mem.write32(cpu.seg[SS].base + cpu.regs[ESP], image);
    run1({0x9d});
  }
};

TEST_F(SystemFlags, PopfAtCpl0ChangesIfAndIoplButNeverVmRfVifVip) {
  protected_mode(0);
  cpu.eflags = flag::VIF | flag::FIXED1;
  popfd(flag::IF | flag::IOPL | flag::VM | flag::RF | flag::VIP | flag::AC | flag::ID | flag::NT | flag::CF);
  EXPECT_EQ(cpu.eflags, flag::IF | flag::IOPL | flag::AC | flag::ID | flag::NT | flag::CF | flag::VIF |
                            flag::FIXED1);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top);
}

TEST_F(SystemFlags, PopfAtCpl3) {
  protected_mode(3);
  cpu.eflags = flag::IF | flag::FIXED1;  // IOPL 0
  popfd(flag::IOPL | flag::ZF | flag::DF);
  EXPECT_EQ(cpu.eflags, flag::IF | flag::ZF | flag::DF | flag::FIXED1) << "IF and IOPL silently unchanged";

  cpu.eflags = flag::IF | flag::IOPL | flag::FIXED1;  // IOPL 3
  popfd(flag::ZF);
  EXPECT_EQ(cpu.eflags, flag::IOPL | flag::ZF | flag::FIXED1) << "IF may change, IOPL may not";
}

TEST_F(SystemFlags, SixteenBitPopfAndPushf) {
  protected_mode(0);
  cpu.eflags = flag::AC | flag::FIXED1;
  cpu.regs[ESP] -= 2;
  mem.write16(cpu.regs[ESP], flag::CF | flag::IF);
  run1({0x66, 0x9d});  // popf
  EXPECT_EQ(cpu.eflags, flag::AC | flag::CF | flag::IF | flag::FIXED1);
  EXPECT_EQ(cpu.regs[ESP], kStack0Top);
  run1({0x66, 0x9c});  // pushf
  EXPECT_EQ(cpu.regs[ESP], kStack0Top - 2);
  EXPECT_EQ(mem.read16(kStack0Top - 2), flag::CF | flag::IF | flag::FIXED1);
}

TEST_F(SystemFlags, PushfAndPopfInV86) {
  protected_mode(0);
  cpu.eflags = flag::VM | flag::IOPL | flag::FIXED1;
  cpu.cpl = 3;
  for (SegReg s : {ES, CS, SS, DS, FS, GS}) interp.load_segment(s, 0x100);
  cpu.regs[ESP] = 0x200;
  cpu.eip = 0;
  load(0x1000, {0x66, 0x9c, 0x66, 0x9d});  // pushfd; popfd (16-bit code)
  step();
  EXPECT_EQ(mem.read32(0x1000 + 0x1fc), flag::IOPL | flag::FIXED1) << "VM not in the image";
  mem.write32(0x1000 + 0x1fc, flag::IF | flag::CF);
  step();
  EXPECT_EQ(cpu.eflags, flag::VM | flag::IOPL | flag::IF | flag::CF | flag::FIXED1) << "IOPL kept";

  cpu.eflags = flag::VM | flag::FIXED1;  // IOPL 0: both are #GP(0)
  cpu.eip = 0;
  step();
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(stack32(1), 0u);
}

TEST_F(SystemFlags, CliStiFollowIopl) {
  protected_mode(3);
  cpu.eflags = flag::IF | flag::FIXED1;
  run1({0xfa});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0u);

  protected_mode(3);
  cpu.eflags = flag::IF | flag::IOPL | flag::FIXED1;
  run1({0xfa});
  EXPECT_EQ(cpu.eip, kCodeAt + 1);
  EXPECT_FALSE(cpu.eflags & flag::IF);
}

TEST_F(SystemFlags, StiShadowOnlyWhenEnabling) {
  protected_mode(0);
  cpu.eflags = flag::FIXED1;
  run1({0xfb});
  EXPECT_TRUE(cpu.eflags & flag::IF);
  EXPECT_EQ(cpu.inhibit_irq, 1);
  step();  // the shadow lasts one instruction boundary
  EXPECT_EQ(cpu.inhibit_irq, 0);
  run1({0xfb});
  EXPECT_EQ(cpu.inhibit_irq, 0) << "IF already set: no shadow";
}

TEST_F(SystemFlags, HltNeedsCpl0) {
  protected_mode(3);
  run1({0xf4});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(cpu.halted, 0);

  protected_mode(0);
  run1({0xf4});
  EXPECT_EQ(cpu.halted, 1);
  EXPECT_EQ(cpu.eip, kCodeAt + 1);
  EXPECT_EQ(interp.step(), StepResult::Halted);
  EXPECT_EQ(cpu.eip, kCodeAt + 1);
}

// ---- port I/O ----

struct RecordingDevice : IoDevice {
  uint32_t last_port = 0, last_value = 0, last_size = 0, writes = 0;
  uint32_t io_read(uint16_t port, unsigned size) override {
    last_port = port;
    last_size = size;
    return 0x12345678u & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
  }
  void io_write(uint16_t port, unsigned size, uint32_t value) override {
    last_port = port;
    last_size = size;
    last_value = value;
    ++writes;
  }
};

struct SystemIo : SysFixture {
  RecordingDevice dev;
  SystemIo() { io.register_ports(0x60, 0x20, &dev, true); }
  void deny(uint16_t port) { mem.write8(kTss0 + kIoBitmapOffset + port / 8, mem.read8(kTss0 + kIoBitmapOffset + port / 8) | (1u << (port & 7))); }
};

TEST_F(SystemIo, RealModeAndCplBelowIoplAlwaysAllowed) {
  real_mode();
  cpu.regs[EAX] = 0xab;
  load(0x1000, {0xe6, 0x61});  // out 0x61, al
  step();
  EXPECT_EQ(dev.writes, 1u);
  EXPECT_EQ(dev.last_value, 0xabu);

  protected_mode(3);
  deny(0x61);
  cpu.eflags |= flag::IOPL;
  run1({0xe6, 0x61});
  EXPECT_EQ(dev.writes, 2u) << "CPL <= IOPL: the bitmap is not consulted";
}

TEST_F(SystemIo, BitmapPermitsAndDenies) {
  protected_mode(3);
  cpu.regs[EAX] = 0;
  run1({0xe4, 0x60});  // in al, 0x60
  EXPECT_EQ(cpu.eip, kCodeAt + 2);
  EXPECT_EQ(cpu.regs[EAX], 0x78u);
  deny(0x61);
  run1({0xe6, 0x61});
  EXPECT_EQ(cpu.eip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(dev.writes, 0u);
}

TEST_F(SystemIo, AccessStraddlingBitmapBytesChecksEveryBit) {
  protected_mode(3);
  cpu.regs[EDX] = 0x6f;  // bytes 0x6f and 0x70: bits in two bitmap bytes
  run1({0x66, 0xed});    // in ax, dx
  EXPECT_EQ(cpu.eip, kCodeAt + 2);
  EXPECT_EQ(dev.last_size, 2u);
  deny(0x70);
  run1({0x66, 0xed});
  EXPECT_EQ(cpu.eip, handler(vec::GP));

  protected_mode(3);
  deny(0x72);
  EXPECT_TRUE(interp.io_permitted(0x6e, 4)) << "0x6e..0x71 are all open";
  EXPECT_FALSE(interp.io_permitted(0x6f, 4));
  cpu.regs[EDX] = 0x6f;
  run1({0xed});  // in eax, dx: 0x6f..0x72
  EXPECT_EQ(cpu.eip, handler(vec::GP));
}

TEST_F(SystemIo, BitmapOutsideTssLimitDenies) {
  protected_mode(3);
  EXPECT_TRUE(interp.io_permitted(0xfff8, 1)) << "last bitmap byte plus the 0xFF byte inside the limit";
  cpu.tr.limit = kIoBitmapOffset + 0x1fff;  // the byte after port 0xFFF8's byte is outside
  EXPECT_FALSE(interp.io_permitted(0xfff8, 1));
  EXPECT_TRUE(interp.io_permitted(0xfff0, 1));
  mem.write16(kTss0 + 0x66, 0x3000);  // map base beyond the limit
  EXPECT_FALSE(interp.io_permitted(0x60, 1));
}

TEST_F(SystemIo, V86AlwaysUsesTheBitmap) {
  protected_mode(0);
  cpu.eflags = flag::VM | flag::IOPL | flag::FIXED1;
  cpu.cpl = 3;
  EXPECT_TRUE(interp.io_permitted(0x61, 1));
  deny(0x61);
  EXPECT_FALSE(interp.io_permitted(0x61, 1)) << "IOPL 3 does not bypass the bitmap in V86 mode";
}

TEST_F(SystemIo, SixteenBitTssHasNoBitmap) {
  protected_mode(3);
  cpu.tr.attr = static_cast<uint16_t>((cpu.tr.attr & ~0xf) | 0x3);  // busy 16-bit TSS
  EXPECT_FALSE(interp.io_permitted(0x60, 1));
}

}  // namespace
}  // namespace popek::test
