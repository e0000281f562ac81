// STOS/LODS/MOVS without REP, translated natively: both directions, 16-bit
// addressing with its wrap, a segment override on the source, and a
// destination on a page holding code (the slow path runs it).
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Strings = DualFixture;

TEST_F(Strings, Flat32BothDirections) {
  flat32();
  load(0x1000, {
                   0xbf, 0x00, 0x30, 0x00, 0x00,  // mov edi, 0x3000
                   0xbe, 0x00, 0x20, 0x00, 0x00,  // mov esi, 0x2000
                   0xb8, 0x44, 0x33, 0x22, 0x11,  // mov eax, 0x11223344
                   0xaa, 0x66, 0xab, 0xab,        // stosb; stosw; stosd
                   0xac, 0x66, 0xad, 0xad,        // lodsb; lodsw; lodsd
                   0xa4, 0x66, 0xa5, 0xa5,        // movsb; movsw; movsd
                   0x64, 0xa5,                    // movsd fs:[esi]
                   0xfd,                          // std
                   0xaa, 0x66, 0xab, 0xab, 0xac, 0xa4, 0x66, 0xa5, 0xa5,
                   0xfc,                          // cld
                   0xbf, 0x04, 0x10, 0x00, 0x00,  // mov edi, 0x1004 (this code page)
                   0xab,                          // stosd: self-modifying, slow path
                   0xf4,
               });
  std::vector<uint8_t> src(64);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(0x80 + i);
  load(0x2000, src);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x2f00, 0x200);
}

TEST_F(Strings, RealModeWrapAndOverride) {
  real_mode();
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.seg[ES].selector = 0x300;
    g->cpu.seg[ES].base = 0x3000;
    g->cpu.seg[FS].selector = 0x200;
    g->cpu.seg[FS].base = 0x2000;
  }
  load(0x1000, {
                   0xbf, 0xff, 0xff,  // mov di, 0xffff
                   0xbe, 0xfe, 0xff,  // mov si, 0xfffe
                   0xb8, 0x34, 0x12,  // mov ax, 0x1234
                   0xaa, 0xaa,        // stosb; stosb (DI wraps to 0, 1)
                   0x64, 0xa5,        // movsw fs:[si] -> es:[di]
                   0x64, 0xad,        // lodsw fs:[si] (SI wrapped to 0)
                   0x66, 0xab,        // stosd
                   0xf4,
               });
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x3000, 0x10000);
  EXPECT_LE(dbt->stats().fallbacks, 1u);  // HLT
}

}  // namespace
}  // namespace popek::test
