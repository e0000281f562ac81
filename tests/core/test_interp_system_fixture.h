// Fixture for the system-side interpreter tests: real descriptor tables in
// guest memory (GDT, IDT, TSSs, an LDT) and a CPU put into protected mode
// at a chosen CPL with caches that match the GDT, so that every check the
// interpreter makes reads the same structures a guest would build.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/core/interp_fixture.h"

namespace popek::test {

// Guest memory layout (paging off unless a test turns it on).
constexpr uint32_t kGdt = 0x10000, kIdt = 0x11000, kTss0 = 0x20000, kTss1 = 0x12400, kTss2 = 0x12800,
                   kLdt = 0x13000;
constexpr uint32_t kCodeAt = 0x1000;
constexpr uint32_t kStack0Top = 0x90000, kStack1Top = 0x88000, kStack3Top = 0x80000;
constexpr uint32_t kHandlers = 0x5000;  // vector v's handler is at kHandlers + 16 * v
constexpr uint32_t kIoBitmapOffset = 0x68;

namespace sel {
constexpr uint16_t Code0 = 0x08, Data0 = 0x10, Code3 = 0x1b, Data3 = 0x23, Tss0 = 0x28, Tss1 = 0x30,
                   Tss2 = 0x38, Ldt = 0x40, Code1 = 0x49, Data1 = 0x51, Free = 0x58;
}
// Access bytes (P, DPL, S, type).
namespace acc {
constexpr uint8_t CodeR = 0x9a, CodeX = 0x98, CodeConfR = 0x9e, DataW = 0x92, DataR = 0x90, Tss32 = 0x89,
                  Tss16 = 0x81, Ldt = 0x82, CallGate32 = 0x8c, CallGate16 = 0x84, TaskGate = 0x85,
                  IntGate32 = 0x8e, TrapGate32 = 0x8f, IntGate16 = 0x86;
constexpr uint8_t dpl(unsigned d) { return static_cast<uint8_t>(d << 5); }
constexpr uint8_t NotPresent = 0x80;  // xor to clear P
}  // namespace acc
constexpr uint8_t kFlags32 = 0xc;  // G | D/B
constexpr uint8_t kFlags16 = 0x0;

inline uint32_t handler(uint8_t vector) { return kHandlers + 16u * vector; }

struct SysFixture : InterpFixture, ::testing::Test {
  void set_desc(uint16_t s, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags = kFlags32,
                uint32_t table = kGdt) {
    const uint32_t lo = (limit & 0xffff) | (base << 16);
    const uint32_t hi = ((base >> 16) & 0xff) | (uint32_t(access) << 8) | (limit & 0xf0000) |
                        (uint32_t(flags) << 20) | (base & 0xff000000u);
    mem.write32(table + (s & ~7u), lo);
    mem.write32(table + (s & ~7u) + 4, hi);
  }
  void set_gate(uint16_t s, uint16_t target, uint32_t offset, uint8_t access, uint8_t params = 0,
                uint32_t table = kGdt) {
    mem.write32(table + (s & ~7u), (offset & 0xffff) | (uint32_t(target) << 16));
    mem.write32(table + (s & ~7u) + 4, (offset & 0xffff0000u) | (uint32_t(access) << 8) | (params & 0x1f));
  }
  void set_idt(uint8_t vector, uint16_t target, uint32_t offset, uint8_t access) {
    set_gate(static_cast<uint16_t>(vector * 8), target, offset, access, 0, kIdt);
  }
  uint32_t desc_hi(uint16_t s, uint32_t table = kGdt) { return mem.read32(table + (s & ~7u) + 4); }
  uint8_t desc_access(uint16_t s, uint32_t table = kGdt) { return static_cast<uint8_t>(desc_hi(s, table) >> 8); }

  // The cache a descriptor loads (computed here independently of the interpreter).
  SegmentCache cache_of(uint16_t s, uint32_t table = kGdt) {
    const uint32_t lo = mem.read32(table + (s & ~7u)), hi = mem.read32(table + (s & ~7u) + 4);
    uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & (1u << 23)) limit = (limit << 12) | 0xfff;
    const uint32_t base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    return SegmentCache{s, static_cast<uint16_t>((hi >> 8) & 0xf0ff), base, limit};
  }

  // A 32-bit TSS with ring 0/1/2 stacks and an all-zero (permit) I/O bitmap
  // of `bitmap_bytes` bytes followed by 0xFF.
  void make_tss32(uint32_t base, uint16_t s, uint32_t bitmap_bytes = 0) {
    for (uint32_t i = 0; i < 0x68 + bitmap_bytes + 1; ++i) mem.write8(base + i, 0);
    mem.write32(base + 4, kStack0Top);
    mem.write32(base + 8, sel::Data0);
    mem.write32(base + 0xc, kStack1Top);
    mem.write32(base + 0x10, sel::Data1);
    mem.write16(base + 0x66, static_cast<uint16_t>(kIoBitmapOffset));
    mem.write8(base + 0x68 + bitmap_bytes, 0xff);
    set_desc(s, base, 0x68 + bitmap_bytes, acc::Tss32, 0);
  }

  // Protected mode at `cpl` (0 or 3): flat code/data for rings 0, 1 and 3,
  // TSS0 loaded in TR (busy), every IDT vector an interrupt gate (DPL 0) to
  // handler(v) in ring 0, no LDT. Code at kCodeAt.
  void protected_mode(unsigned cpl = 0) {
    interp.reset();
    for (uint32_t a = kGdt; a < kLdt + 0x100; a += 4) mem.write32(a, 0);
    set_desc(sel::Code0, 0, 0xfffff, acc::CodeR);
    set_desc(sel::Data0, 0, 0xfffff, acc::DataW);
    set_desc(sel::Code3, 0, 0xfffff, acc::CodeR | acc::dpl(3));
    set_desc(sel::Data3, 0, 0xfffff, acc::DataW | acc::dpl(3));
    set_desc(sel::Code1, 0, 0xfffff, acc::CodeR | acc::dpl(1));
    set_desc(sel::Data1, 0, 0xfffff, acc::DataW | acc::dpl(1));
    make_tss32(kTss0, sel::Tss0, 0x2000);
    set_desc(sel::Tss0, kTss0, 0x68 + 0x2000, acc::Tss32 | 0x2, 0);  // busy: it is the current task
    for (int v = 0; v < 256; ++v) set_idt(static_cast<uint8_t>(v), sel::Code0, handler(static_cast<uint8_t>(v)), acc::IntGate32);
    cpu.gdtr = DescriptorTableReg{kGdt, 0x7ff};
    cpu.idtr = DescriptorTableReg{kIdt, 0x7ff};
    cpu.cr0 |= cr0::PE;
    cpu.tr = cache_of(sel::Tss0);
    cpu.ldtr = SegmentCache{0, 0, 0, 0};
    enter_ring(cpl);
  }
  // Loads CS/SS/DS/ES/FS/GS for ring `cpl` (0, 1 or 3) and its stack.
  void enter_ring(unsigned cpl) {
    const uint16_t code = cpl == 3 ? sel::Code3 : cpl == 1 ? sel::Code1 : sel::Code0;
    const uint16_t data = cpl == 3 ? sel::Data3 : cpl == 1 ? sel::Data1 : sel::Data0;
    for (int s = 0; s < 6; ++s) cpu.seg[s] = cache_of(s == CS ? code : data);
    cpu.cpl = static_cast<uint8_t>(cpl);
    cpu.eip = kCodeAt;
    cpu.regs[ESP] = cpl == 3 ? kStack3Top : cpl == 1 ? kStack1Top : kStack0Top;
  }

  // Loads `code` at kCodeAt and runs one step.
  void run1(std::initializer_list<uint8_t> code) {
    load(kCodeAt, code);
    cpu.eip = kCodeAt;
    step();
  }

  uint32_t stack32(unsigned slot) { return mem.read32(cpu.seg[SS].base + cpu.regs[ESP] + 4 * slot); }
  uint16_t stack16(unsigned slot) {
    const uint32_t sp = cpu.seg[SS].big() ? cpu.regs[ESP] : (cpu.regs[ESP] & 0xffff);
    return mem.read16(cpu.seg[SS].base + sp + 2 * slot);
  }

  // After a protected-mode exception with an error code delivered to ring 0
  // through a 32-bit gate: checks the vector (by handler address), error code
  // and faulting EIP.
  void expect_fault(uint8_t vector, uint32_t error, uint32_t eip = kCodeAt) {
    EXPECT_EQ(cpu.eip, handler(vector)) << "vector " << int(vector);
    EXPECT_EQ(stack32(0), error) << "error code for vector " << int(vector);
    EXPECT_EQ(stack32(1), eip) << "pushed EIP for vector " << int(vector);
  }
  void expect_fault_no_error(uint8_t vector, uint32_t eip = kCodeAt) {
    EXPECT_EQ(cpu.eip, handler(vector)) << "vector " << int(vector);
    EXPECT_EQ(stack32(0), eip) << "pushed EIP for vector " << int(vector);
  }
};

}  // namespace popek::test
