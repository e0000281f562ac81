// Two identical bare guests (CPU, memory, I/O bus, deterministic clock): one
// run by the interpreter (the reference), one by the translator. Helpers put
// both in real mode or flat 32-bit protected mode, load the same code, run
// both to HLT and compare everything architectural.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/interpreter.h"
#include "core/io_bus.h"
#include "core/physical_memory.h"
#include "tests/core/interp_fixture.h"
#include "translator/dbt_engine.h"

namespace popek::test {

// A bare guest is the interpreter tests' fixture: CPU, memory, I/O bus and
// a deterministic clock, put into real mode or flat 32-bit protected mode.
using BareGuest = InterpFixture;

// Differences between two CPU states, one line each ("" when equal).
inline std::string diff_cpu(const CpuState& ref, const CpuState& dut) {
  std::ostringstream o;
  static const char* names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
  auto hex = [](uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", v);
    return std::string(b);
  };
  for (int r = 0; r < 8; ++r)
    if (ref.regs[r] != dut.regs[r]) o << names[r] << ": interp " << hex(ref.regs[r]) << " dbt " << hex(dut.regs[r]) << "\n";
  if (ref.eip != dut.eip) o << "eip: interp " << hex(ref.eip) << " dbt " << hex(dut.eip) << "\n";
  if (ref.eflags != dut.eflags) o << "eflags: interp " << hex(ref.eflags) << " dbt " << hex(dut.eflags) << "\n";
  for (int s = 0; s < 6; ++s)
    if (std::memcmp(&ref.seg[s], &dut.seg[s], sizeof(SegmentCache)))
      o << "seg" << s << ": interp sel " << hex(ref.seg[s].selector) << " dbt sel " << hex(dut.seg[s].selector) << "\n";
  if (ref.cr0 != dut.cr0 || ref.cr2 != dut.cr2 || ref.cr3 != dut.cr3 || ref.cr4 != dut.cr4) o << "control registers differ\n";
  if (ref.cpl != dut.cpl || ref.halted != dut.halted || ref.inhibit_irq != dut.inhibit_irq) o << "cpl/halted/inhibit differ\n";
  return o.str();
}

struct DualFixture : ::testing::Test {
  BareGuest ref;
  BareGuest dut;
  std::unique_ptr<dbt::DbtEngine> dbt;
  uint64_t ref_steps = 0;
  dbt::DbtRunResult dbt_result;

  explicit DualFixture(const dbt::DbtOptions& options = test_options()) {
    dbt = std::make_unique<dbt::DbtEngine>(dut.interp, options);
  }
  static dbt::DbtOptions test_options() {
    dbt::DbtOptions o;
    o.validate_emission = true;
    o.cache_bytes = 4u << 20;
    return o;
  }

  void real_mode(uint32_t code_at = 0x1000) {
    ref.real_mode(code_at);
    dut.real_mode(code_at);
  }
  void flat32(unsigned cpl = 0, uint32_t code_at = 0x1000) {
    ref.flat32(cpl, code_at);
    dut.flat32(cpl, code_at);
  }
  void load(uint32_t addr, const std::vector<uint8_t>& bytes) {
    ref.load(addr, bytes);
    dut.load(addr, bytes);
  }
  void set_reg(Reg r, uint32_t v) {
    ref.cpu.regs[r] = v;
    dut.cpu.regs[r] = v;
  }
  // Runs both until HLT (or `max_steps`), without interrupts.
  void run(uint64_t max_steps = 1000000) {
    ref_steps = 0;
    while (ref_steps < max_steps) {
      const StepResult r = ref.interp.step();
      if (r == StepResult::Halted) break;
      ++ref_steps;
      if (r == StepResult::TripleFault) break;
    }
    dbt_result = dbt->run(max_steps);
  }
  // Everything architectural and `len` bytes of memory at `addr` agree.
  void expect_same(uint32_t addr = 0, uint32_t len = 0) {
    EXPECT_EQ(diff_cpu(ref.cpu, dut.cpu), "");
    EXPECT_EQ(ref_steps, dbt_result.steps);
    EXPECT_EQ(ref.clock.retired(), dut.clock.retired());
    if (len) {
      std::vector<uint8_t> a(len), b(len);
      ref.mem.read_bytes(addr, a.data(), len);
      dut.mem.read_bytes(addr, b.data(), len);
      for (uint32_t i = 0; i < len; ++i)
        if (a[i] != b[i]) {
          ADD_FAILURE() << "memory differs at " << std::hex << addr + i << ": interp " << int(a[i]) << " dbt "
                        << int(b[i]);
          break;
        }
    }
  }
};

}  // namespace popek::test
