// Identity, time and model-specific registers: CPUID, RDTSC, RDPMC, RDMSR,
// WRMSR, SYSENTER, SYSEXIT.
//
// The guest sees a Pentium II (Klamath): GenuineIntel, family 6 model 3
// stepping 3, highest basic leaf 2. Leaf 1 EDX reports what the emulator
// implements: FPU DE PSE TSC MSR CX8 SEP MTRR PGE CMOV FXSR. Not reported:
// VME (not implemented), PAE, MCE/MCA, APIC (no local APIC), PAT, PSE-36,
// MMX. A leaf above 2 returns leaf 2's data, as Intel CPUs do.
//
// The TSC counts virtual nanoseconds (a 1 GHz part) plus an offset that
// WRMSR 0x10 sets; as on P6, WRMSR writes only its low 32 bits (the upper
// 32 are cleared). Performance counters read as 0. MSRs: TSC,
// PLATFORM_ID (reads 0), APIC_BASE, BIOS_SIGN_ID, SYSENTER_CS/ESP/EIP, the
// MTRRs (8 variable pairs, fixed ranges, default type); anything else is
// #GP(0), as are reserved bits and invalid memory types in the MTRRs.
#include <cstdint>

#include "core/cpuid_msr.h"
#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

constexpr uint32_t kCpuidMaxLeaf = 2;
constexpr uint32_t kSignature = 0x0633;  // family 6, model 3, stepping 3
namespace feat {
constexpr uint32_t FPU = 1u << 0, DE = 1u << 2, PSE = 1u << 3, TSC = 1u << 4, MSR = 1u << 5, CX8 = 1u << 8,
                   SEP = 1u << 11, MTRR = 1u << 12, PGE = 1u << 13, CMOV = 1u << 15, FXSR = 1u << 24;
}
constexpr uint32_t kFeaturesEdx = feat::FPU | feat::DE | feat::PSE | feat::TSC | feat::MSR | feat::CX8 |
                                  feat::SEP | feat::MTRR | feat::PGE | feat::CMOV | feat::FXSR;

namespace msr {
constexpr uint32_t TSC = 0x10, PLATFORM_ID = 0x17, APIC_BASE = 0x1b, BIOS_SIGN_ID = 0x8b, MTRR_CAP = 0xfe,
                   SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176, MTRR_PHYS_FIRST = 0x200,
                   MTRR_PHYS_LAST = 0x20f, MTRR_FIX64K = 0x250, MTRR_FIX16K_80000 = 0x258,
                   MTRR_FIX16K_A0000 = 0x259, MTRR_FIX4K_FIRST = 0x268, MTRR_FIX4K_LAST = 0x26f,
                   MTRR_DEF_TYPE = 0x2ff;
}
constexpr uint64_t kMtrrCap = 0x508;            // 8 variable ranges, fixed ranges, write-combining
constexpr uint64_t kPhysMask = 0xfffffffffull;  // 36-bit physical addresses
constexpr uint64_t kApicBaseWritable = (kPhysMask & ~0xfffull) | (1u << 11);

void cpuid_leaf(uint32_t leaf, uint32_t out[4]) {  // EAX EBX ECX EDX
  if (leaf > kCpuidMaxLeaf) leaf = kCpuidMaxLeaf;
  switch (leaf) {
    case 0:
      out[0] = kCpuidMaxLeaf;
      out[1] = 0x756e6547;  // "Genu"
      out[3] = 0x49656e69;  // "ineI"
      out[2] = 0x6c65746e;  // "ntel"
      break;
    case 1:
      out[0] = kSignature;
      out[1] = out[2] = 0;
      out[3] = kFeaturesEdx;
      break;
    default:  // 2: TLBs, 16 KiB L1 I and D caches, 512 KiB L2
      out[0] = 0x03020101;
      out[1] = out[2] = 0;
      out[3] = 0x0c040843;
      break;
  }
}

bool valid_memory_type(uint64_t t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

bool valid_fixed_mtrr(uint64_t v) {
  for (int i = 0; i < 8; ++i)
    if (!valid_memory_type((v >> (8 * i)) & 0xff)) return false;
  return true;
}

// Index into MsrState::mtrr_fixed, or -1.
int fixed_mtrr_index(uint32_t m) {
  if (m == msr::MTRR_FIX64K) return 0;
  if (m == msr::MTRR_FIX16K_80000) return 1;
  if (m == msr::MTRR_FIX16K_A0000) return 2;
  if (m >= msr::MTRR_FIX4K_FIRST && m <= msr::MTRR_FIX4K_LAST) return 3 + int(m - msr::MTRR_FIX4K_FIRST);
  return -1;
}

uint64_t tsc_now(const Interpreter& in) { return in.clock.now() + in.cpu.tsc_offset; }

bool read_msr(const Interpreter& in, uint32_t m, uint64_t& v) {
  const MsrState& s = in.cpu.msr;
  if (int f = fixed_mtrr_index(m); f >= 0) v = s.mtrr_fixed[f];
  else if (m >= msr::MTRR_PHYS_FIRST && m <= msr::MTRR_PHYS_LAST) v = s.mtrr_var[m - msr::MTRR_PHYS_FIRST];
  else if (m == msr::TSC) v = tsc_now(in);
  else if (m == msr::PLATFORM_ID) v = 0;
  else if (m == msr::APIC_BASE) v = s.apic_base;
  else if (m == msr::BIOS_SIGN_ID) v = s.bios_sign_id;
  else if (m == msr::MTRR_CAP) v = kMtrrCap;
  else if (m == msr::SYSENTER_CS) v = s.sysenter_cs;
  else if (m == msr::SYSENTER_ESP) v = s.sysenter_esp;
  else if (m == msr::SYSENTER_EIP) v = s.sysenter_eip;
  else if (m == msr::MTRR_DEF_TYPE) v = s.mtrr_def_type;
  else return false;
  return true;
}

bool write_mtrr(MsrState& s, uint32_t m, uint64_t v) {
  if (int f = fixed_mtrr_index(m); f >= 0) {
    if (!valid_fixed_mtrr(v)) return false;
    s.mtrr_fixed[f] = v;
    return true;
  }
  if (m >= msr::MTRR_PHYS_FIRST && m <= msr::MTRR_PHYS_LAST) {
    const bool mask_reg = m & 1;
    const uint64_t allowed = mask_reg ? ((kPhysMask & ~0xfffull) | (1u << 11)) : ((kPhysMask & ~0xfffull) | 0xff);
    if ((v & ~allowed) || (!mask_reg && !valid_memory_type(v & 0xff))) return false;
    s.mtrr_var[m - msr::MTRR_PHYS_FIRST] = v;
    return true;
  }
  if (m == msr::MTRR_DEF_TYPE) {
    if ((v & ~0xcffull) || !valid_memory_type(v & 0xff)) return false;
    s.mtrr_def_type = v;
    return true;
  }
  return false;
}

bool write_msr(Interpreter& in, uint32_t m, uint64_t v) {
  MsrState& s = in.cpu.msr;
  switch (m) {
    case msr::TSC:
      in.cpu.tsc_offset = (v & 0xffffffffu) - in.clock.now();
      return true;
    case msr::APIC_BASE:
      if (v & ~(kApicBaseWritable | (1u << 8))) return false;
      s.apic_base = (v & kApicBaseWritable) | (s.apic_base & (1u << 8));  // BSP is read-only
      return true;
    case msr::BIOS_SIGN_ID:
      s.bios_sign_id = v;
      return true;
    case msr::SYSENTER_CS:
      s.sysenter_cs = v & 0xffff;
      return true;
    case msr::SYSENTER_ESP:
      s.sysenter_esp = v & 0xffffffffu;
      return true;
    case msr::SYSENTER_EIP:
      s.sysenter_eip = v & 0xffffffffu;
      return true;
    default:
      return write_mtrr(s, m, v);
  }
}

// ---- handlers ----

void CPUID(Interpreter& in, const DecodedInsn&) {
  uint32_t r[4];
  cpuid_leaf(in.cpu.regs[EAX], r);
  in.cpu.regs[EAX] = r[0];
  in.cpu.regs[EBX] = r[1];
  in.cpu.regs[ECX] = r[2];
  in.cpu.regs[EDX] = r[3];
}

void set_edx_eax(Interpreter& in, uint64_t v) {
  in.cpu.regs[EAX] = static_cast<uint32_t>(v);
  in.cpu.regs[EDX] = static_cast<uint32_t>(v >> 32);
}

void RDTSC(Interpreter& in, const DecodedInsn&) {
  if ((in.cpu.cr4 & cr4::TSD) && in.protected_mode() && in.cpl() != 0) raise_fault(vec::GP, 0);
  set_edx_eax(in, tsc_now(in));
}

void RDPMC(Interpreter& in, const DecodedInsn&) {
  if (!(in.cpu.cr4 & cr4::PCE) && in.protected_mode() && in.cpl() != 0) raise_fault(vec::GP, 0);
  if (in.cpu.regs[ECX] > 1) raise_fault(vec::GP, 0);  // P6: counters 0 and 1
  set_edx_eax(in, 0);
}

void RDMSR(Interpreter& in, const DecodedInsn&) {
  require_cpl0(in);
  uint64_t v;
  if (!read_msr(in, in.cpu.regs[ECX], v)) raise_fault(vec::GP, 0);
  set_edx_eax(in, v);
}

void WRMSR(Interpreter& in, const DecodedInsn&) {
  require_cpl0(in);
  const uint64_t v = (uint64_t(in.cpu.regs[EDX]) << 32) | in.cpu.regs[EAX];
  if (!write_msr(in, in.cpu.regs[ECX], v)) raise_fault(vec::GP, 0);
}

// Flat 4 GiB segments SYSENTER/SYSEXIT load (SDM vol. 2).
SegmentCache flat_segment(uint16_t sel, unsigned dpl, bool code) {
  const uint16_t type = code ? (seg_attr::CODE | seg_attr::READABLE | seg_attr::ACCESSED)
                             : (seg_attr::WRITABLE | seg_attr::ACCESSED);
  const uint16_t attr = static_cast<uint16_t>(seg_attr::P | seg_attr::S | seg_attr::DB | seg_attr::G | type |
                                              (dpl << seg_attr::DPL_SHIFT));
  return SegmentCache{sel, attr, 0, 0xffffffffu};
}

void SYSENTER(Interpreter& in, const DecodedInsn&) {
  const uint16_t cs = static_cast<uint16_t>(in.cpu.msr.sysenter_cs & 0xfffc);
  if (!in.protected_mode() || cs == 0) raise_fault(vec::GP, 0);
  in.cpu.eflags &= ~(flag::VM | flag::IF | flag::RF);
  in.cpu.seg[CS] = flat_segment(cs, 0, true);
  in.cpu.seg[SS] = flat_segment(static_cast<uint16_t>(cs + 8), 0, false);
  in.set_cpl(0);
  in.cpu.regs[ESP] = static_cast<uint32_t>(in.cpu.msr.sysenter_esp);
  in.next_eip = static_cast<uint32_t>(in.cpu.msr.sysenter_eip);
}

void SYSEXIT(Interpreter& in, const DecodedInsn&) {
  const uint16_t cs = static_cast<uint16_t>(in.cpu.msr.sysenter_cs & 0xfffc);
  if (!in.protected_mode() || in.v86_mode() || in.cpl() != 0 || cs == 0) raise_fault(vec::GP, 0);
  in.cpu.seg[CS] = flat_segment(static_cast<uint16_t>((cs + 16) | 3), 3, true);
  in.cpu.seg[SS] = flat_segment(static_cast<uint16_t>((cs + 24) | 3), 3, false);
  in.set_cpl(3);
  in.cpu.regs[ESP] = in.cpu.regs[ECX];
  in.next_eip = in.cpu.regs[EDX];
}

}  // namespace

void cpuid_values(uint32_t leaf, uint32_t out[4]) { cpuid_leaf(leaf, out); }
bool msr_read(const Interpreter& in, uint32_t m, uint64_t& v) { return read_msr(in, m, v); }
bool msr_write(Interpreter& in, uint32_t m, uint64_t v) { return write_msr(in, m, v); }

void sys::register_identity_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_CPUID, CPUID);
  t.set(ZYDIS_MNEMONIC_RDTSC, RDTSC);
  t.set(ZYDIS_MNEMONIC_RDPMC, RDPMC);
  t.set(ZYDIS_MNEMONIC_RDMSR, RDMSR);
  t.set(ZYDIS_MNEMONIC_WRMSR, WRMSR);
  t.set(ZYDIS_MNEMONIC_SYSENTER, SYSENTER);
  t.set(ZYDIS_MNEMONIC_SYSEXIT, SYSEXIT);
}

}  // namespace popek
