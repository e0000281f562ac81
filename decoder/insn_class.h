// Popek's own classification of every i686 instruction: which translator file
// handles it (group), what it means for binary translation (sensitive,
// privileged, ends the block, ...), and which EFLAGS bits it reads and writes.
//
// The table is data, keyed by Zydis mnemonic plus a "form" for the few
// mnemonics whose forms differ in kind (MOV to a segment or control register,
// PUSH/POP of a segment register, far JMP/CALL/RET). It is deliberately not
// derived from Zydis at run time: Zydis's metadata has gaps and errors (see
// insn_class.cpp for the list), and the translator's correctness rests on these
// facts. The unit test cross-checks the table against Zydis and fails on any
// difference that is not a documented exception.
//
// Two entry points:
//  - classify(ZydisMnemonic): the default-form row of a mnemonic, nullptr when
//    the mnemonic is not an i686 instruction (the interpreter raises #UD).
//  - classify(const DecodedInsn&): the row for this exact instruction (form
//    variant, non-i686 encodings that share an i686 mnemonic rejected) with
//    the flag masks narrowed by what the encoding fixes (immediate shift
//    counts, REP prefixes, operand size). Use this one when translating.
#pragma once
#include <Zydis/Zydis.h>

#include <cstdint>
#include <optional>
#include <span>

#include "decoder/decoder.h"

namespace popek {

// EFLAGS bit masks for the read/written/undefined columns. Same bit positions
// as the hardware register (and as ZYDIS_CPUFLAG_*). Kept separate from
// core's `flag` namespace so that the decoder layer does not include core.
namespace insn_flags {
constexpr uint32_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6,
                   SF = 1u << 7, TF = 1u << 8, IF = 1u << 9, DF = 1u << 10,
                   OF = 1u << 11, IOPL = 3u << 12, NT = 1u << 14, RF = 1u << 16,
                   VM = 1u << 17, AC = 1u << 18, VIF = 1u << 19, VIP = 1u << 20,
                   ID = 1u << 21;
// The six arithmetic status flags.
constexpr uint32_t kStatus = CF | PF | AF | ZF | SF | OF;
// Every architecturally defined EFLAGS bit of an i686.
constexpr uint32_t kAll = kStatus | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;
}  // namespace insn_flags

// Which translator file an instruction is routed to.
enum class InsnGroup : uint8_t {
  Arith,     // ADD..CMP, INC/DEC, NEG, MUL/DIV, XADD, CMPXCHG(8B)
  Logic,     // AND, OR, XOR, NOT, TEST
  Shift,     // shifts, rotates, SHLD/SHRD
  Bit,       // BT*, BSF/BSR, SETcc
  Bcd,       // AAA, AAS, AAM, AAD, DAA, DAS
  String,    // MOVS, CMPS, SCAS, LODS, STOS (INS/OUTS are Io)
  DataMove,  // MOV, MOVZX/SX, XCHG, CMOVcc, LEA, BSWAP, XLAT, CBW..CDQ
  Stack,     // PUSH/POP (general), PUSHA/POPA, ENTER, LEAVE
  Control,   // JMP, Jcc, LOOP*, J(E)CXZ, CALL, RET, INT*, IRET
  Segment,   // segment register loads/stores, LxS, LAR/LSL/VERR/VERW, ARPL
  Flag,      // CLC/STC/CMC, CLD/STD, CLI/STI, LAHF/SAHF, PUSHF/POPF
  System,    // descriptor tables, CRn/DRn, MSRs, CPUID, TSC, HLT, caches, SYSENTER
  Io,        // IN, OUT, INS, OUTS
  X87,       // x87 FPU, FXSAVE/FXRSTOR
  Mmx,       // MMX (Pentium II): listed, not implemented yet
  Misc,      // NOP, PAUSE, UD0/1/2, BOUND, SALC
};

// Forms of one mnemonic that need a different row. Default is the plain form
// (GPR/memory MOV, general PUSH/POP, near JMP/CALL/RET).
enum class InsnForm : uint8_t {
  Default,
  SegmentLoad,           // MOV Sreg,r/m and POP Sreg, for DS/ES/FS/GS
  StackSegmentLoad,      // MOV SS,r/m and POP SS (interrupt shadow)
  SegmentStore,          // MOV r/m,Sreg and PUSH Sreg
  ControlRegisterWrite,  // MOV CRn,r32
  ControlRegisterRead,   // MOV r32,CRn
  DebugRegisterWrite,    // MOV DRn,r32
  DebugRegisterRead,     // MOV r32,DRn
  Far,                   // far JMP/CALL (ptr16:xx or m16:xx) and far RET
};

// Attribute bits (InsnClass::attrs).
namespace insn_attr {
// Behaves differently when run natively in host user mode (Popek–Goldberg
// sensitive): must be rewritten to act on the virtual CPU state.
constexpr uint32_t kSensitive = 1u << 0;
// #GP(0) unless CPL is 0.
constexpr uint32_t kPrivileged = 1u << 1;
// #GP at CPL>0 only when a CR4 bit says so (RDTSC with TSD, RDPMC without PCE).
constexpr uint32_t kConditionallyPrivileged = 1u << 2;
// Outcome depends on IOPL (CPL>IOPL in protected mode, or V86 with IOPL<3).
constexpr uint32_t kIoplSensitive = 1u << 3;
// The translator must end the block after this instruction.
constexpr uint32_t kEndsBlock = 1u << 4;
// Flags in flags_written/flags_undefined may be left untouched (shift count
// of 0, REP with ECX=0, a task switch that may or may not happen): the
// instruction must not count as overwriting them.
constexpr uint32_t kWritesFlagsConditionally = 1u << 5;
// Inhibits interrupts until after the next instruction (STI, MOV SS, POP SS).
constexpr uint32_t kInterruptShadow = 1u << 6;
// Loads a segment register (selector and descriptor cache).
constexpr uint32_t kLoadsSegment = 1u << 7;
// #UD in real mode and in V86 mode.
constexpr uint32_t kProtectedModeOnly = 1u << 8;
// A LOCK prefix is legal (with a memory destination).
constexpr uint32_t kLockable = 1u << 9;
// REP/REPE/REPNE prefixes repeat it (string and string I/O instructions).
constexpr uint32_t kRepeatable = 1u << 10;
// No 64-bit-mode encoding exists: the host cannot run it as is, even though
// it is not sensitive (PUSHA/POPA, BCD, BOUND, INTO, LDS/LES, ARPL, SALC).
constexpr uint32_t kNoHostEncoding = 1u << 11;
// An i686 instruction Popek does not implement yet: raise #UD (and do not
// advertise the feature in CPUID).
constexpr uint32_t kNotImplemented = 1u << 12;
// The mnemonic has rows for other forms: use classify(const DecodedInsn&).
constexpr uint32_t kHasOtherForms = 1u << 13;
}  // namespace insn_attr

struct InsnClass {
  ZydisMnemonic mnemonic;
  InsnForm form;
  InsnGroup group;
  uint32_t attrs;
  // EFLAGS the result depends on. A flag that is written only sometimes (e.g.
  // IF by POPF at CPL>IOPL) is also listed as read: its old value may survive.
  uint32_t flags_read;
  // EFLAGS that may be given a defined value.
  uint32_t flags_written;
  // EFLAGS that may be left with an undefined value. May overlap with
  // flags_written when the encoding decides (SHL: OF defined only for count 1).
  uint32_t flags_undefined;

  constexpr bool has(uint32_t attr) const { return (attrs & attr) != 0; }
  constexpr bool sensitive() const { return has(insn_attr::kSensitive); }
  constexpr bool privileged() const { return has(insn_attr::kPrivileged); }
  constexpr bool iopl_sensitive() const { return has(insn_attr::kIoplSensitive); }
  constexpr bool ends_block() const { return has(insn_attr::kEndsBlock); }
  constexpr bool writes_flags_conditionally() const {
    return has(insn_attr::kWritesFlagsConditionally);
  }
  constexpr bool implemented() const { return !has(insn_attr::kNotImplemented); }

  // For flag liveness: flags whose incoming value this instruction may observe
  // or pass through, and flags whose incoming value is certainly dead after it.
  constexpr uint32_t flags_used() const {
    return flags_read | (writes_flags_conditionally() ? flags_written | flags_undefined : 0);
  }
  constexpr uint32_t flags_killed() const {
    return writes_flags_conditionally() ? 0 : flags_written | flags_undefined;
  }
};

// The default-form row for `m`, or nullptr if `m` is not an i686 instruction.
const InsnClass* classify(ZydisMnemonic m);

// The row for (m, form), or nullptr.
const InsnClass* classify(ZydisMnemonic m, InsnForm form);

// The form of a decoded instruction (Default for all but the few mnemonics
// with form rows).
InsnForm insn_form(const DecodedInsn& d);

// The table row for this decoded instruction, or nullptr when it is not an
// i686 instruction: unknown mnemonic, a VEX/EVEX/XOP/3DNow! encoding, or a
// later extension sharing an i686 mnemonic (SSE2 MOVSD/CMPSD, MMX mnemonics
// on XMM registers, the 0F 0D prefetch/NOP space).
const InsnClass* lookup(const DecodedInsn& d);

// lookup() with the flag masks and attributes narrowed to this encoding.
std::optional<InsnClass> classify(const DecodedInsn& d);

// The whole table, default rows and form rows, in table order.
std::span<const InsnClass> insn_class_table();

const char* to_string(InsnGroup g);
const char* to_string(InsnForm f);

}  // namespace popek
