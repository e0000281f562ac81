// The verify engine: no divergence on correct runs (with port I/O replayed
// to the shadow), and a precise report when the two sides differ.
#include <gtest/gtest.h>

#include "tests/translator/dbt_fixture.h"
#include "translator/verify_engine.h"

namespace popek::test {
namespace {

// A port that counts its reads: replaying it to the shadow must not read it twice.
struct CountingPort : IoDevice {
  uint32_t reads = 0, last_write = 0;
  uint32_t io_read(uint16_t, unsigned) override { return ++reads * 0x11; }
  void io_write(uint16_t, unsigned, uint32_t v) override { last_write = v; }
};

struct VerifyFixture : ::testing::Test {
  BareGuest g;
  CountingPort port;
  VerifyFixture() { g.io.register_ports(0x80, 1, &port); }
};

const std::vector<uint8_t> kProgram = {
    0xb9, 0x20, 0x00, 0x00, 0x00,  // mov ecx, 32
    0xbf, 0x00, 0x00, 0x02, 0x00,  // mov edi, 0x20000
    // loop:
    0xe4, 0x80,                    // in al, 0x80
    0x00, 0xc4,                    // add ah, al
    0x89, 0x07,                    // mov [edi], eax
    0x83, 0xc7, 0x04,              // add edi, 4
    0xe6, 0x80,                    // out 0x80, al
    0x49,                          // dec ecx
    0x75, 0xf2,                    // jnz loop
    0xf4,                          // hlt
};

TEST_F(VerifyFixture, CorrectRunHasNoDivergence) {
  g.flat32(0, 0x1000);
  g.load(0x1000, kProgram);
  dbt::VerifyEngine v(g.interp);
  dbt::VerifyResult r = v.run(100000);
  EXPECT_FALSE(r.diverged) << v.report();
  EXPECT_EQ(r.stop, dbt::DbtStop::Halted);
  EXPECT_EQ(port.reads, 32u);  // each read reached the device once
  EXPECT_EQ(g.cpu.regs[ECX], 0u);
  EXPECT_GT(v.blocks_compared(), 32u);
}

TEST_F(VerifyFixture, ReportsARegisterDivergence) {
  g.flat32(0, 0x1000);
  g.load(0x1000, kProgram);
  dbt::VerifyEngine v(g.interp);
  v.shadow_cpu().regs[EBX] = 0x1234;  // the shadow now disagrees about EBX
  dbt::VerifyResult r = v.run(100000);
  ASSERT_TRUE(r.diverged);
  EXPECT_NE(v.report().find("ebx: interpreter 00001234 translator 00000000"), std::string::npos) << v.report();
  EXPECT_NE(v.report().find("00001000"), std::string::npos) << v.report();
}

TEST_F(VerifyFixture, ReportsAMemoryDivergence) {
  g.flat32(0, 0x1000);
  g.load(0x1000, kProgram);
  dbt::VerifyEngine v(g.interp);
  dbt::VerifyResult r = v.run(3);  // up to the loop: EDI is set

  EXPECT_FALSE(r.diverged) << v.report();
  v.shadow_cpu().regs[EDI] += 0x100;  // the shadow now stores 256 bytes further on
  r = v.run(100000);
  ASSERT_TRUE(r.diverged);
  std::printf("%s", v.report().c_str());
  EXPECT_NE(v.report().find("memory 000201"), std::string::npos) << v.report();
}

}  // namespace
}  // namespace popek::test
