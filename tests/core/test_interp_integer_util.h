// Shared scaffolding for the integer-instruction tests (test_interp_integer*.cpp).
#pragma once
#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>

#include "tests/core/interp_fixture.h"

namespace popek::test {

class IntegerTest : public ::testing::Test, public InterpFixture {
 protected:
  static constexpr uint32_t kCode = 0x1000;

  // Places `code` at CS:EIP and executes one step (instruction or fault).
  void exec(std::initializer_list<uint8_t> code) {
    load(cpu.seg[CS].base + cpu.eip, code);
    step();
  }

  // Executes the instruction at CS:EIP through its handler, as the step loop
  // does but without delivering a fault: returns the fault, if any. On
  // success EIP advances like step() would.
  std::optional<GuestFault> try_exec(std::initializer_list<uint8_t> code) {
    load(cpu.seg[CS].base + cpu.eip, code);
    return interp.execute_one();
  }

  // Real-mode IVT entry `vector` → seg:off.
  void set_ivt(uint8_t vector, uint16_t seg, uint16_t off) {
    mem.write16(vector * 4u, off);
    mem.write16(vector * 4u + 2, seg);
  }

  // Identity-maps the first 4 MiB with 4 KiB pages (supervisor, writable)
  // and turns paging on with CR0.WP. Page tables live at 0x200000.
  static constexpr uint32_t kPageDir = 0x200000, kPageTable = 0x201000;
  void enable_paging() {
    mem.write32(kPageDir, kPageTable | 0x7);
    for (uint32_t i = 0; i < 1024; ++i) mem.write32(kPageTable + i * 4, (i << 12) | 0x7);
    cpu.cr3 = kPageDir;
    cpu.cr0 |= cr0::PG | cr0::WP;
    interp.mmu.flush(true);
  }
  // Sets the page-table flags (P=1, RW=2, US=4) of the page holding `linear`.
  void set_page_flags(uint32_t linear, uint32_t flags) {
    const uint32_t page = linear >> 12;
    mem.write32(kPageTable + page * 4, (page << 12) | flags);
    interp.mmu.flush(true);
  }

  uint32_t flags_of(uint32_t mask) const { return cpu.eflags & mask; }
};

}  // namespace popek::test
