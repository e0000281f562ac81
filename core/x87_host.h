// The host's own x87 as the arithmetic engine of the guest FPU.
//
// Host long double on x86-64 is the very 80-bit format the guest uses, and
// the translator runs guest x87 instructions natively, so the interpreter
// gets bit-exact, hardware-identical results (rounding, precision control,
// denormals, NaN propagation, stack-fault masked responses, C0-C3, "undefined"
// condition codes) by executing the same instruction on the host:
//
//   FRSTOR  guest state image (all exceptions masked on the host)
//   SAHF    guest SF/ZF/AF/PF/CF (for FCMOVcc)
//   <the guest's x87 opcode byte and ModRM, memory operand at [rdi]>
//   LAHF / SETO                  (for FCOMI/FUCOMI)
//   FNSAVE  result image
//
// With every exception masked the host can never take SIGFPE; the guest
// model (core/x87_model.cpp) turns the host's exception flags into the
// unmasked-exception behaviour the guest's control word asks for. The host's
// own control word is saved and restored around each call. No libm is used:
// transcendental results are those of the host FSIN/FPATAN/... instructions.
#pragma once
#include <cstdint>

namespace popek::x87 {

// FNSAVE/FRSTOR image in the 32-bit protected-mode layout (the only one in
// 64-bit mode). Registers are in stack order (st[0] = ST(0)); the tag word
// is indexed by physical register.
struct HostFpuImage {
  uint32_t cw;
  uint32_t sw;
  uint32_t tw;
  uint32_t fip;
  uint32_t fcs_fop;
  uint32_t fdp;
  uint32_t fds;
  uint8_t st[8][10];
};
static_assert(sizeof(HostFpuImage) == 108);

// Host EFLAGS after the instruction as LAHF|SETO leave them: SF ZF AF PF CF
// in bits 15..8 (EFLAGS layout), OF in bit 0.
struct HostFlags {
  uint8_t lahf;
  bool of;
};

// Runs the register form `opcode` (D8..DF) / `modrm` (mod must be 3).
// `flags_in` is loaded into SF ZF AF PF CF first (EFLAGS bit layout).
HostFlags host_execute_reg(uint8_t opcode, uint8_t modrm, HostFpuImage& img, uint8_t flags_in);

// Runs the memory form `opcode` (D8..DF) / ModRM.reg = `reg` with its memory
// operand at `mem` (at least 16 bytes, aligned or not).
void host_execute_mem(uint8_t opcode, unsigned reg, HostFpuImage& img, void* mem);

// True if (opcode, modrm) is an x87 register form the host may execute: the
// guest handlers only pass encodings Zydis decoded to an i686 x87 mnemonic,
// and this is the last line of defence against handing the host a #UD.
bool host_register_form_valid(uint8_t opcode, uint8_t modrm);
// True if (opcode, ModRM.reg) is a memory form of at most 10 bytes that
// the engine may run (not the environment/control forms, not FISTTP).
bool host_memory_form_valid(uint8_t opcode, unsigned reg);

}  // namespace popek::x87
