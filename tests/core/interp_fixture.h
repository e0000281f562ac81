// A bare CPU + memory + I/O bus for interpreter unit tests: no devices, no
// firmware. Helpers put the CPU into real mode or flat 32-bit protected mode
// directly (descriptor caches set by hand) and run code placed in RAM.
#pragma once
#include <cstring>
#include <initializer_list>
#include <vector>

#include "core/clock.h"
#include "core/interpreter.h"
#include "core/io_bus.h"
#include "core/physical_memory.h"

namespace popek::test {

struct InterpFixture {
  CpuState cpu{};
  PhysicalMemory mem{16u << 20};
  IoBus io;
  VirtualClock clock{true};
  Interpreter interp{cpu, mem, io, clock, nullptr};

  InterpFixture() { interp.reset(); }

  // Real mode, CS=DS=ES=SS=0, code at 0x1000, SP=0x8000.
  void real_mode(uint32_t code_at = 0x1000) {
    interp.reset();
    for (int s = 0; s < 6; ++s) {
      cpu.seg[s].selector = 0;
      cpu.seg[s].base = 0;
      cpu.seg[s].limit = 0xffff;
    }
    cpu.eip = code_at;
    cpu.regs[ESP] = 0x8000;
  }

  // Flat 32-bit protected mode at `cpl` (0 or 3), paging off. Code at 0x1000,
  // ESP=0x80000. The caches are set directly; no GDT is needed unless the
  // test reloads segment registers.
  void flat32(unsigned cpl = 0, uint32_t code_at = 0x1000) {
    interp.reset();
    cpu.cr0 |= cr0::PE;
    uint16_t dpl = static_cast<uint16_t>(cpl << seg_attr::DPL_SHIFT);
    for (int s = 0; s < 6; ++s) {
      cpu.seg[s].selector = static_cast<uint16_t>((s == CS ? 0x08 : 0x10) | cpl);
      cpu.seg[s].base = 0;
      cpu.seg[s].limit = 0xffffffffu;
      cpu.seg[s].attr = seg_attr::P | seg_attr::S | seg_attr::DB | seg_attr::G | dpl | 0x3;
    }
    cpu.seg[CS].attr = seg_attr::P | seg_attr::S | seg_attr::DB | seg_attr::G | dpl | seg_attr::CODE |
                       seg_attr::READABLE | seg_attr::ACCESSED;
    cpu.cpl = static_cast<uint8_t>(cpl);
    cpu.eip = code_at;
    cpu.regs[ESP] = 0x80000;
  }

  void load(uint32_t addr, std::initializer_list<uint8_t> bytes) {
    std::vector<uint8_t> v(bytes);
    mem.write_bytes(addr, v.data(), static_cast<uint32_t>(v.size()));
  }
  void load(uint32_t addr, const std::vector<uint8_t>& bytes) {
    mem.write_bytes(addr, bytes.data(), static_cast<uint32_t>(bytes.size()));
  }
  // Executes `n` steps (instructions, delivered faults or interrupts).
  void step(int n = 1) {
    for (int i = 0; i < n; ++i) interp.step();
  }
  // Runs until EIP reaches `eip` or `max_steps` steps have run.
  bool run_to(uint32_t eip, int max_steps = 100000) {
    for (int i = 0; i < max_steps; ++i) {
      if (cpu.eip == eip) return true;
      interp.step();
    }
    return cpu.eip == eip;
  }
  uint32_t arith_flags() const { return cpu.eflags & flag::ARITH; }
};

}  // namespace popek::test
