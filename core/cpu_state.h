// CpuState: the whole architectural state of the guest i686 CPU in one
// standard-layout struct. The translator pins a pointer to it in a host
// register and reaches fields by offsetof, so the layout is checked below.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace popek {

enum Reg : int { EAX = 0, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
// Encoding order of the segment registers (as in MOV Sreg's ModRM.reg).
enum SegReg : int { ES = 0, CS, SS, DS, FS, GS, SEG_NONE = 7 };

// EFLAGS bits.
namespace flag {
constexpr uint32_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6,
                   SF = 1u << 7, TF = 1u << 8, IF = 1u << 9, DF = 1u << 10,
                   OF = 1u << 11, IOPL = 3u << 12, NT = 1u << 14, RF = 1u << 16,
                   VM = 1u << 17, AC = 1u << 18, VIF = 1u << 19, VIP = 1u << 20,
                   ID = 1u << 21;
constexpr uint32_t ARITH = CF | PF | AF | ZF | SF | OF;
constexpr uint32_t FIXED1 = 1u << 1;  // bit 1 always reads as 1
}  // namespace flag

namespace cr0 {
constexpr uint32_t PE = 1u << 0, MP = 1u << 1, EM = 1u << 2, TS = 1u << 3,
                   ET = 1u << 4, NE = 1u << 5, WP = 1u << 16, AM = 1u << 18,
                   NW = 1u << 29, CD = 1u << 30, PG = 1u << 31;
}
namespace cr4 {
constexpr uint32_t VME = 1u << 0, PVI = 1u << 1, TSD = 1u << 2, DE = 1u << 3,
                   PSE = 1u << 4, PAE = 1u << 5, MCE = 1u << 6, PGE = 1u << 7,
                   PCE = 1u << 8, OSFXSR = 1u << 9, OSXMMEXCPT = 1u << 10;
}

// Descriptor attribute bits as kept in SegmentCache::attr. This is the
// descriptor's bytes 5 and 6 (type/S/DPL/P in bits 0-7, AVL/D-B/G in 12-15),
// i.e. the "access rights" layout LAR returns shifted right by 8.
namespace seg_attr {
constexpr uint16_t TYPE_MASK = 0x0f, ACCESSED = 0x01, S = 0x10,
                   DPL_SHIFT = 5, DPL_MASK = 0x60, P = 0x80, AVL = 0x1000,
                   DB = 0x4000, G = 0x8000;
// Code/data type bits (with S=1).
constexpr uint16_t CODE = 0x08, CONFORMING = 0x04, READABLE = 0x02,
                   EXPAND_DOWN = 0x04, WRITABLE = 0x02;
}  // namespace seg_attr

struct SegmentCache {
  uint16_t selector;
  uint16_t attr;   // see seg_attr
  uint32_t base;
  uint32_t limit;  // byte-granular effective limit (G already applied)
  uint8_t dpl() const { return (attr >> seg_attr::DPL_SHIFT) & 3; }
  bool present() const { return attr & seg_attr::P; }
  bool big() const { return attr & seg_attr::DB; }
};

struct DescriptorTableReg {
  uint32_t base;
  uint32_t limit;  // 16 bits architecturally
};

// x87 register file in the FNSAVE layout's spirit: physical registers
// (not stack-relative), each an 80-bit extended value in little-endian bytes.
struct Float80 {
  uint64_t mantissa;
  uint16_t sign_exponent;
  uint16_t pad[3];
};
struct X87State {
  uint16_t cw;   // control word
  uint16_t sw;   // status word (TOP in bits 11-13)
  uint16_t tw;   // full 16-bit tag word (2 bits per physical register)
  uint16_t fop;  // last opcode (11 bits)
  uint32_t fip;  // last instruction pointer (offset)
  uint16_t fcs;  // last instruction selector
  uint16_t fds;  // last data selector
  uint32_t fdp;  // last data pointer (offset)
  uint32_t pad;
  Float80 st[8];  // physical registers R0..R7
};

struct MsrState {
  uint64_t apic_base;
  uint64_t sysenter_cs;
  uint64_t sysenter_esp;
  uint64_t sysenter_eip;
  uint64_t misc_enable;
  uint64_t bios_sign_id;
  uint64_t mtrr_cap;
  uint64_t mtrr_def_type;
  uint64_t mtrr_fixed[11];
  uint64_t mtrr_var[16];  // base/mask pairs for 8 variable MTRRs
  uint64_t pat;
  uint64_t efer_unused;
};

struct CpuState {
  uint32_t regs[8];  // EAX ECX EDX EBX ESP EBP ESI EDI
  uint32_t eip;
  uint32_t eflags;
  SegmentCache seg[6];  // ES CS SS DS FS GS
  SegmentCache ldtr;
  SegmentCache tr;
  DescriptorTableReg gdtr;
  DescriptorTableReg idtr;
  uint32_t cr0, cr2, cr3, cr4;
  uint32_t dr[8];
  uint8_t cpl;
  uint8_t halted;        // HLT executed, waiting for an interrupt
  uint8_t a20_enabled;   // mirror of the machine's A20 gate, for the MMU
  uint8_t inhibit_irq;   // one-instruction interrupt shadow (STI, MOV SS)
  uint8_t nmi_pending;
  uint8_t in_nmi;
  uint8_t pad0[2];
  uint64_t tsc_offset;   // TSC = virtual clock ticks + tsc_offset
  X87State fpu;
  MsrState msr;
  uint32_t mxcsr;        // reported by FXSAVE only (no SSE execution)
  uint32_t pad1;

  uint16_t sel(SegReg s) const { return seg[s].selector; }
  uint32_t reg(Reg r) const { return regs[r]; }
};

static_assert(std::is_standard_layout_v<CpuState>, "CpuState must be standard layout");
static_assert(offsetof(CpuState, regs) == 0, "regs first for translator addressing");
static_assert(offsetof(CpuState, eip) == 32);
static_assert(offsetof(CpuState, eflags) == 36);
static_assert(sizeof(SegmentCache) == 12);
static_assert(sizeof(Float80) == 16);

}  // namespace popek
