// The "predecoded" targeted helper: sensitive and x87 instructions that the
// translator leaves to the interpreter's handlers run from their fallback
// site on the DecodedInsn the block builder already made, through
// Interpreter::execute_one(const DecodedInsn&): the interpreter's own
// handler (one implementation of the semantics), without step()'s fetch,
// decode cache, interrupt check and breakpoint check.
//
// Only instructions whose handlers are fault-atomic (every access that may
// fault comes before the first change of state, or the change is repeated
// identically, like an accessed bit) are listed, so that a fault can be
// handed back: the helper then declines and step() runs the instruction
// again and delivers the fault exactly. The forms with a state change
// before a fault (MOV DRn with DR7.GD, IRET with NT: a task switch) and
// the x87 environment instructions (FSAVE/FRSTOR/FSTENV/FLDENV) decline or
// are not listed. The list: MOV Sreg,r/m; POP Sreg; LDS..LSS; MOV CRn/DRn;
// LAR/LSL/VERR/VERW; IRET/IRETD; SYSENTER/SYSEXIT; INVLPG; POP m; the x87
// instructions of the FPU categories; FXSAVE/FXRSTOR.
#pragma once
#include "core/cpu_state.h"
#include "decoder/decoder.h"

namespace popek::dbt {

// At translation time: whether instruction `d` (a fallback) gets the helper.
bool predecoded_helper_applies(const DecodedInsn& d);
// At run time: false for the forms that must go through step() (see above),
// and while an instruction breakpoint or single-stepping is armed.
bool predecoded_helper_ready(const CpuState& cpu, const DecodedInsn& d);

}  // namespace popek::dbt
