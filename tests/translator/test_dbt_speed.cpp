// Speed figures (printed, not asserted: a benchmark, not a timed test):
// a memory-touching integer loop under the interpreter and the translator.
#include <chrono>

#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Speed = DualFixture;

double seconds_of(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(Speed, IntegerLoop) {
  flat32();
  const uint32_t iterations = 300000;
  load(0x1000, {
                   0xbb, 0x00, 0x00, 0x02, 0x00,                    // mov ebx, 0x20000
                   0xb9, uint8_t(iterations), uint8_t(iterations >> 8), uint8_t(iterations >> 16), 0x00,  // mov ecx, N
                   // loop:
                   0x89, 0xc8,                    // mov eax, ecx
                   0x25, 0xff, 0x03, 0x00, 0x00,  // and eax, 0x3ff
                   0x03, 0x14, 0x83,              // add edx, [ebx+eax*4]
                   0x89, 0x14, 0x83,              // mov [ebx+eax*4], edx
                   0xc1, 0xc2, 0x03,              // rol edx, 3
                   0x49,                          // dec ecx
                   0x75, 0xed,                    // jnz loop
                   0xf4,                          // hlt
               });
  double t_ref = 0, t_dbt = 0;
  t_ref = seconds_of([&] {
    ref_steps = 0;
    while (ref.interp.step() != StepResult::Halted) ++ref_steps;
  });
  t_dbt = seconds_of([&] { dbt_result = dbt->run(100000000); });
  expect_same(0x20000, 4096);
  if (std::getenv("POPEK_DBT_DUMP")) {
    dut.cpu.eip = 0x100a;
    std::printf("%s", dbt->disassemble(*dbt->block_at_current()).c_str());
  }
  const double insns = static_cast<double>(ref_steps);
  const auto& st = dbt->stats();
  std::printf("integer loop: %.0f guest instructions; interpreter %.1f MIPS, translator %.1f MIPS (%.1fx); "
              "%llu blocks, %.1f host bytes per guest instruction, %llu unchained exits, %llu chains\n",
              insns, insns / t_ref / 1e6, insns / t_dbt / 1e6, t_ref / t_dbt,
              static_cast<unsigned long long>(st.blocks_translated),
              double(st.host_bytes) / double(st.guest_insns_translated ? st.guest_insns_translated : 1),
              static_cast<unsigned long long>(st.unchained_exits),
              static_cast<unsigned long long>(st.chain_patches));
}

TEST_F(Speed, RecursiveCalls) {
  flat32();
  // fib(24) by naive recursion: CALL/RET/PUSH/POP-heavy.
  load(0x1000, {
                   0xb8, 0x18, 0x00, 0x00, 0x00,  // mov eax, 24
                   0xe8, 0x01, 0x00, 0x00, 0x00,  // call fib
                   0xf4,                          // hlt
                   0x83, 0xf8, 0x02,              // fib: cmp eax, 2
                   0x72, 0x14,                    // jb done
                   0x50,                          // push eax
                   0x48,                          // dec eax
                   0xe8, 0xf4, 0xff, 0xff, 0xff,  // call fib
                   0x59,                          // pop ecx
                   0x50,                          // push eax
                   0x8d, 0x41, 0xfe,              // lea eax, [ecx-2]
                   0xe8, 0xea, 0xff, 0xff, 0xff,  // call fib
                   0x5a,                          // pop edx
                   0x01, 0xd0,                    // add eax, edx
                   0xc3,                          // done: ret
               });
  double t_ref = seconds_of([&] {
    ref_steps = 0;
    while (ref.interp.step() != StepResult::Halted) ++ref_steps;
  });
  double t_dbt = seconds_of([&] { dbt_result = dbt->run(1000000000); });
  expect_same(0x7f000, 0x1000);
  EXPECT_EQ(dut.cpu.regs[EAX], 46368u);
  const double insns = static_cast<double>(ref_steps);
  const auto& st = dbt->stats();
  std::printf("recursive calls: %.0f guest instructions; interpreter %.1f MIPS, translator %.1f MIPS (%.1fx); "
              "%llu unchained exits, %llu indirect-cache misses, %llu fallbacks\n",
              insns, insns / t_ref / 1e6, insns / t_dbt / 1e6, t_ref / t_dbt,
              static_cast<unsigned long long>(st.unchained_exits),
              static_cast<unsigned long long>(st.indirect_misses), static_cast<unsigned long long>(st.fallbacks));
}

TEST_F(Speed, SensitiveLoop) {
  flat32();
  // PUSHF/CLI/STI/POPF, SMSW, IN and an indirect CALL in a loop: the
  // rewritten sensitive instructions and the targeted I/O helper. POPF and
  // STI end their blocks (unchained), so the dispatcher runs every iteration.
  load(0x1000, {
                   0xb9, 0xa0, 0x86, 0x01, 0x00,  // mov ecx, 100000
                   0xbe, 0x40, 0x10, 0x00, 0x00,  // mov esi, fn
                   // loop:
                   0x9c,              // pushfd
                   0xfa,              // cli
                   0x0f, 0x01, 0xe0,  // smsw eax
                   0xe4, 0x80,        // in al, 0x80
                   0xff, 0xd6,        // call esi
                   0x9d,              // popfd
                   0xfb,              // sti
                   0xfa,              // cli (in the shadow: run by the interpreter)
                   0x49,              // dec ecx
                   0x75, 0xf1,        // jnz loop
                   0xf4,              // hlt
               });
  load(0x1040, {0x01, 0xc3, 0xc3});  // fn: add ebx, eax; ret
  double t_ref = seconds_of([&] {
    ref_steps = 0;
    while (ref.interp.step() != StepResult::Halted) ++ref_steps;
  });
  double t_dbt = seconds_of([&] { dbt_result = dbt->run(100000000); });
  expect_same(0x7f000, 0x1000);
  const double insns = static_cast<double>(ref_steps);
  const auto& st = dbt->stats();
  std::printf("sensitive loop: %.0f guest instructions; interpreter %.1f MIPS, translator %.1f MIPS (%.1fx); "
              "%llu fallbacks, %llu sensitive helper calls, %llu interpreter steps, %llu chained exits, "
              "%llu indirect hits\n",
              insns, insns / t_ref / 1e6, insns / t_dbt / 1e6, t_ref / t_dbt,
              static_cast<unsigned long long>(st.fallbacks),
              static_cast<unsigned long long>(st.sensitive_helper_calls),
              static_cast<unsigned long long>(st.interpreter_steps),
              static_cast<unsigned long long>(st.chained_exits), static_cast<unsigned long long>(st.indirect_hits));
}

}  // namespace
}  // namespace popek::test
