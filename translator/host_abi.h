// The host register convention of translated code (x86-64, System V host).
//
//   guest EAX ECX EDX EBX -> host eax ecx edx ebx   (same numbers: AH..DH, CL,
//                                                    EDX:EAX keep working)
//   guest ESP             -> host r12d              (host rsp stays the host's)
//   guest EBP ESI EDI     -> host ebp esi edi
//   CpuState*             -> r15 (pinned)
//   DbtContext*           -> r13 (pinned)
//   scratch               -> r8 (guest linear address / host pointer),
//                            r9, r11 (TLB lookup), r10 (flag stash)
//   held across accesses  -> r14 (CALL r/m target, MOVS value, POPF mask;
//                            callee-saved, so C++ helpers preserve it)
//
// The upper 32 bits of the host registers that hold guest registers are
// always zero (every load is a 32-bit move, 8/16-bit writes keep them), so
// 64-bit address arithmetic on them equals the guest's 32-bit arithmetic
// modulo 2^32.
//
// Guest arithmetic flags (CF PF AF ZF SF OF) live in the host RFLAGS while a
// block runs; everything else of EFLAGS stays in CpuState.eflags.
#pragma once
#include <asmjit/x86.h>

#include "core/cpu_state.h"

namespace popek::dbt {

namespace host {
namespace x86 = asmjit::x86;
inline const x86::Gp kCpu = x86::r15;
inline const x86::Gp kCtx = x86::r13;
inline const x86::Gp kAddr = x86::r8;   // linear address, then host pointer
inline const x86::Gp kTmp1 = x86::r9;
inline const x86::Gp kTmp2 = x86::r11;
inline const x86::Gp kStash = x86::r10;  // arithmetic flags saved by stash_flags()

// Host register id of guest register `r` (EAX..EDI order).
constexpr uint32_t kGuestToHost[8] = {
    x86::Gp::kIdAx, x86::Gp::kIdCx, x86::Gp::kIdDx, x86::Gp::kIdBx,
    x86::Gp::kIdR12, x86::Gp::kIdBp, x86::Gp::kIdSi, x86::Gp::kIdDi,
};

inline x86::Gp gpd(Reg r) { return x86::gpd(kGuestToHost[r]); }
inline x86::Gp gpw(Reg r) { return x86::gpw(kGuestToHost[r]); }
inline x86::Gp gpq(Reg r) { return x86::gpq(kGuestToHost[r]); }
}  // namespace host

}  // namespace popek::dbt
