// Small host-code sequences shared by the run-time routines and the block
// emitter: moving guest registers and arithmetic flags between the host and
// CpuState, and keeping live guest flags across code that clobbers RFLAGS.
#pragma once
#include <asmjit/x86.h>

#include <cstddef>

#include "core/cpu_state.h"
#include "translator/host_abi.h"

namespace popek::dbt::seq {

namespace x86 = asmjit::x86;

inline x86::Mem cpu_field(size_t offset, uint32_t size) {
  return x86::ptr(host::kCpu, static_cast<int32_t>(offset), size);
}
inline x86::Mem guest_reg_slot(Reg r) { return cpu_field(offsetof(CpuState, regs) + 4 * r, 4); }

// Guest registers host -> CpuState (no flags touched).
inline void spill_registers(x86::Assembler& a) {
  for (int r = 0; r < 8; ++r) a.mov(guest_reg_slot(Reg(r)), host::gpd(Reg(r)));
}
// Guest registers CpuState -> host (no flags touched).
inline void fill_registers(x86::Assembler& a) {
  for (int r = 0; r < 8; ++r) a.mov(host::gpd(Reg(r)), guest_reg_slot(Reg(r)));
}

// Host arithmetic flags -> CpuState.eflags. Clobbers eax, ecx, edx and the
// flags: spill the guest registers first.
inline void save_flags(x86::Assembler& a) {
  a.lahf();
  a.seto(x86::al);
  a.movzx(x86::ecx, x86::ah);
  a.and_(x86::ecx, flag::ARITH & 0xff);
  a.movzx(x86::edx, x86::al);
  a.shl(x86::edx, 11);
  a.or_(x86::ecx, x86::edx);
  a.mov(x86::edx, cpu_field(offsetof(CpuState, eflags), 4));
  a.and_(x86::edx, ~flag::ARITH);
  a.or_(x86::edx, x86::ecx);
  a.mov(cpu_field(offsetof(CpuState, eflags), 4), x86::edx);
}

// CpuState.eflags -> host arithmetic flags. Clobbers eax and ecx: fill the
// guest registers afterwards.
inline void load_flags(x86::Assembler& a) {
  a.mov(x86::eax, cpu_field(offsetof(CpuState, eflags), 4));
  a.mov(x86::ecx, x86::eax);
  a.shr(x86::ecx, 11);
  a.and_(x86::ecx, 1);
  a.mov(x86::ah, x86::al);
  a.mov(x86::al, x86::cl);
  a.cmp(x86::al, 0x81);  // OF := (al == 1): 1 - (-127) overflows, 0 - (-127) does not
  a.sahf();              // SF ZF AF PF CF := ah
}

// Saves the arithmetic flags into r10 without PUSHF: r10 bits 8-15 = SF ZF
// AF PF CF (LAHF layout), bit 0 = OF. Guest EAX is preserved; r11 is
// clobbered. Register moves rather than XCHG: moves are eliminated at
// rename, XCHG is three uops.
inline void stash_flags(x86::Assembler& a) {
  a.mov(host::kStash, x86::rax);
  a.lahf();
  a.seto(x86::al);
  a.mov(host::kTmp2, x86::rax);
  a.mov(x86::rax, host::kStash);
  a.mov(host::kStash, host::kTmp2);
}
// Puts the stashed flags back into RFLAGS. r10 keeps the stash unchanged,
// so a path may unstash more than once; r11 is clobbered.
inline void unstash_flags(x86::Assembler& a) {
  a.mov(host::kTmp2, x86::rax);
  a.mov(x86::rax, host::kStash);
  a.cmp(x86::al, 0x81);
  a.sahf();
  a.mov(x86::rax, host::kTmp2);
}

}  // namespace popek::dbt::seq
