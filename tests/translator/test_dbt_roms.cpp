// The project's test ROMs (roms/*.asm, built by the popek_roms target) on a
// whole Machine, under the interpreter, the translator and the verify engine,
// with a run loop that mirrors Machine::run (budget to the next timer
// deadline, expired timers, HLT idling). Deterministic mode: the translator
// must print the same output, exit with the same status, and retire exactly
// the same number of steps as the interpreter; the verify engine must find no
// divergence. Skipped when the ROMs have not been built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/machine.h"
#include "devices/pic8259.h"
#include "tests/translator/dbt_fixture.h"
#include "translator/verify_engine.h"

namespace popek::test {
namespace {

namespace fs = std::filesystem;

fs::path rom_dir() {
  if (const char* d = std::getenv("POPEK_ROM_DIR")) return d;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  buf[n] = 0;
  return fs::path(buf).parent_path().parent_path() / "roms";
}

// Port 0xF4 (isa-debug-exit) for our own run loop.
struct ExitPort : IoDevice {
  bool exited = false;
  int status = 0;
  uint32_t io_read(uint16_t, unsigned) override { return 0xffffffffu; }
  void io_write(uint16_t, unsigned, uint32_t v) override {
    if (!exited) status = static_cast<int>(((v & 0xff) << 1) | 1);
    exited = true;
  }
};

struct RomRun {
  std::string output;
  int status = -1;
  uint64_t steps = 0;
  uint64_t retired_clock = 0;
  double seconds = 0;
  CpuState cpu{};
  std::string note;
};

struct RomMachine {
  std::string output;
  std::unique_ptr<Machine> m;
  ExitPort exit_port;
  explicit RomMachine(const std::vector<uint8_t>& rom) {
    MachineConfig c;
    c.bios = rom;
    c.deterministic = true;
    c.debugcon = [this](char ch) { output += ch; };
    m = std::make_unique<Machine>(c);
    m->io().register_ports(0xf4, 1, &exit_port);
  }

  // `run_budget(budget)` runs at most `budget` steps and returns {steps, halted}.
  template <typename RunBudget>
  RomRun run(RunBudget run_budget, uint64_t max_steps = 200000000) {
    RomRun r;
    const auto t0 = std::chrono::steady_clock::now();
    while (!exit_port.exited && r.steps < max_steps) {
      const uint64_t cap = std::min<uint64_t>(10000, max_steps - r.steps);
      const uint64_t budget = m->clock().budget(cap);
      auto [steps, halted] = run_budget(budget);
      r.steps += steps;
      m->clock().run_expired();
      if (!halted || exit_port.exited) continue;
      const CpuState& cpu = m->cpu();
      if (!(cpu.eflags & flag::IF) && !cpu.nmi_pending) {
        r.note = "halted forever";
        break;
      }
      if (!m->pic().intr_pending() && !m->clock().advance_to_next_deadline()) {
        r.note = "halted with no timer";
        break;
      }
      m->clock().run_expired();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.output = output;
    r.status = exit_port.exited ? exit_port.status : -1;
    r.retired_clock = m->clock().retired();
    r.cpu = m->cpu();
    return r;
  }
};

struct StepsHalted {
  uint64_t steps;
  bool halted;
};

class Roms : public ::testing::TestWithParam<std::string> {};

TEST_P(Roms, SameUnderInterpreterTranslatorAndVerify) {
  const fs::path path = rom_dir() / (GetParam() + ".bin");
  if (!fs::exists(path)) GTEST_SKIP() << path << " not built (target popek_roms)";
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> rom((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());

  RomMachine ref_machine(rom);
  Interpreter& in = ref_machine.m->interpreter();
  const RomRun ref = ref_machine.run([&](uint64_t budget) {
    StepsHalted s{0, false};
    for (; s.steps < budget && !ref_machine.exit_port.exited;) {
      if (in.step() == StepResult::Halted) {
        s.halted = true;
        break;
      }
      ++s.steps;
    }
    return s;
  });
  EXPECT_EQ(ref.status, 1) << "the ROM does not pass under the interpreter: " << ref.output;

  RomMachine dbt_machine(rom);
  dbt::DbtEngine engine(dbt_machine.m->interpreter());
  const RomRun dut = dbt_machine.run([&](uint64_t budget) {
    const dbt::DbtRunResult r = engine.run(budget, [&] { return dbt_machine.exit_port.exited; });
    return StepsHalted{r.steps, r.stop == dbt::DbtStop::Halted};
  });
  EXPECT_EQ(dut.output, ref.output);
  EXPECT_EQ(dut.status, ref.status);
  EXPECT_EQ(dut.steps, ref.steps);
  EXPECT_EQ(dut.retired_clock, ref.retired_clock);
  EXPECT_EQ(diff_cpu(ref.cpu, dut.cpu), "");
  const dbt::DbtStats& st = engine.stats();
  std::printf("%-13s %10llu steps; interpreter %.3f s, translator %.3f s; %llu blocks, %llu native, %llu fallbacks, "
              "%llu interpreter steps, %llu SMC invalidations, %.1f host bytes/guest insn\n",
              GetParam().c_str(), static_cast<unsigned long long>(ref.steps), ref.seconds, dut.seconds,
              static_cast<unsigned long long>(st.blocks_translated),
              static_cast<unsigned long long>(st.retired_native), static_cast<unsigned long long>(st.fallbacks),
              static_cast<unsigned long long>(st.interpreter_steps),
              static_cast<unsigned long long>(st.smc_invalidations),
              double(st.host_bytes) / double(st.guest_insns_translated ? st.guest_insns_translated : 1));
  std::printf("%-13s interpreter %.1f MIPS, translator %.1f MIPS\n", "", double(ref.steps) / ref.seconds / 1e6,
              double(dut.steps) / dut.seconds / 1e6);
  std::printf("%-13s chained %llu, unchained %llu, indirect hits %llu / misses %llu, sensitive helpers %llu, "
              "memory slow paths %llu; top fallbacks:",
              "", static_cast<unsigned long long>(st.chained_exits), static_cast<unsigned long long>(st.unchained_exits),
              static_cast<unsigned long long>(st.indirect_hits), static_cast<unsigned long long>(st.indirect_misses),
              static_cast<unsigned long long>(st.sensitive_helper_calls),
              static_cast<unsigned long long>(st.memory_slow_paths));
  for (const auto& [name, count] : st.top_fallbacks(6)) std::printf(" %s %llu", name.c_str(), static_cast<unsigned long long>(count));
  std::printf("\n");

  RomMachine verify_machine(rom);
  dbt::VerifyEngine verify(verify_machine.m->interpreter());
  bool diverged = false;
  const RomRun ver = verify_machine.run([&](uint64_t budget) {
    if (diverged) return StepsHalted{budget, false};
    const dbt::VerifyResult r = verify.run(budget, [&] { return verify_machine.exit_port.exited; });
    diverged = r.diverged;
    return StepsHalted{r.steps, r.stop == dbt::DbtStop::Halted};
  });
  EXPECT_FALSE(diverged) << verify.report();
  if (!diverged) {
    EXPECT_EQ(ver.output, ref.output);
  }
}

INSTANTIATE_TEST_SUITE_P(All, Roms,
                         ::testing::Values("demo", "compute_loop", "alu_real", "pmode_switch", "seg_faults",
                                           "paging", "idt_rings", "task_switch", "v86", "iopb", "x87",
                                           "exceptions", "cpuid_msr", "smsw_real", "sgdt_sidt", "pushf_popf",
                                           "lar_lsl", "cs_ss_rpl", "tlb"));

}  // namespace
}  // namespace popek::test
