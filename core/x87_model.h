// The guest x87 model: everything about the guest FPU that is not
// arithmetic. Arithmetic runs on the host x87 (core/x87_host.h) with every
// exception masked; this layer supplies what the guest's own control word
// asks for on top of that:
//  - #NM (CR0.EM/TS) and the deferred #MF of waiting instructions;
//  - unmasked exceptions, as hardware behaves (measured by trapping the same
//    instruction on the host: tests/core/test_interp_x87_trap*.cpp):
//    an unmasked IE/DE/ZE leaves registers, TOP and memory as they were and
//    sets the flags up to the first unmasked one, the condition codes of the
//    masked response (see refuse() for the C1/C2 details) and, for FCOMI,
//    the EFLAGS of the masked response anyway (the SDM says EFLAGS are not
//    written; hardware writes them). Exception: FLD m32/m64 of a denormal
//    still loads it with DE unmasked. An unmasked OE/UE stores the
//    exponent-biased result in a register destination (SDM 8.5.4, 8.5.5)
//    and nothing in a memory destination (then without PE, C1=0); with UE
//    unmasked a tiny result underflows even when exact. An unmasked PE just
//    reports;
//  - ES/B, FIP/FCS/FOP/FDP/FDS, guest memory operands.
//
// Deliberate choices:
//  - CR0.NE=0: there is no FERR#/IRQ13 path in this machine. A waiting
//    instruction that finds an unmasked exception pending proceeds as if
//    IGNNE# were asserted (the exception stays flagged, ES stays set).
//  - Results of transcendental instructions are the host CPU's (FSIN etc.
//    differ between CPU vendors/generations); the translator runs the same
//    host instructions, so both engines agree.
#pragma once
#include <cstdint>

#include "core/cpu_state.h"
#include "core/x87_host.h"
#include "decoder/decoder.h"

namespace popek {
class Interpreter;
class HandlerTable;
}

namespace popek::x87 {

// Status word.
namespace swb {
constexpr uint16_t IE = 1u << 0, DE = 1u << 1, ZE = 1u << 2, OE = 1u << 3, UE = 1u << 4, PE = 1u << 5,
                   SF = 1u << 6, ES = 1u << 7, C0 = 1u << 8, C1 = 1u << 9, C2 = 1u << 10,
                   TOP = 7u << 11, C3 = 1u << 14, B = 1u << 15;
constexpr uint16_t EXCEPTIONS = 0x3f;                // IE..PE
constexpr uint16_t FLAGS = EXCEPTIONS | SF;          // what an instruction may raise
constexpr uint16_t CC = C0 | C1 | C2 | C3;
}  // namespace swb

// Control word.
namespace cwb {
constexpr uint16_t MASKS = 0x3f;
constexpr uint16_t WRITABLE = 0x1f3f;  // masks, PC, RC, IC (bits 6-7, 13-15 reserved)
constexpr uint16_t FIXED1 = 0x40;      // bit 6 reads as 1 (as measured on hardware)
constexpr uint16_t INIT = 0x037f;
}  // namespace cwb

enum Tag : unsigned { kTagValid = 0, kTagZero = 1, kTagSpecial = 2, kTagEmpty = 3 };

inline unsigned top(const X87State& f) { return (f.sw >> 11) & 7; }
inline unsigned phys(const X87State& f, unsigned st_index) { return (top(f) + st_index) & 7; }
inline unsigned tag(const X87State& f, unsigned physical) { return (f.tw >> (2 * physical)) & 3; }
inline void set_tag(X87State& f, unsigned physical, unsigned t) {
  f.tw = static_cast<uint16_t>((f.tw & ~(3u << (2 * physical))) | (t << (2 * physical)));
}

// Tag of a register's contents as FSTENV/FSAVE report it for a non-empty
// register: zero, valid (normal), or special (NaN, infinity, denormal,
// pseudo-denormal, unnormal, pseudo-NaN/infinity).
unsigned classify(const Float80& v);
// Recomputes the tags of the non-empty registers from their contents.
void retag(X87State& f);
// Sets or clears ES and B from the exception flags and masks.
void update_summary(X87State& f);
// FNINIT: CW 037F, SW 0, all empty, pointers zero (register contents kept).
void initialize(X87State& f);

// 80-bit little-endian image of a register (10 bytes) and back.
void store80(const Float80& v, uint8_t* dst);
Float80 load80(const uint8_t* src);

// Checks every x87 instruction makes first: #NM if CR0.EM or CR0.TS, then,
// for a waiting instruction, #MF if an unmasked exception is pending.
void begin(Interpreter& in, bool waiting);
// The pending-exception check of waiting instructions (and WAIT/FWAIT).
void check_pending(Interpreter& in);

// The memory operand of the instruction being executed.
struct MemRef {
  SegReg seg;
  uint32_t offset;
};
// Index of the memory operand in d.ops, or -1.
int memory_operand_index(const DecodedInsn& d);
MemRef memory_ref(Interpreter& in, const DecodedInsn& d, int op_index);
// `offset + delta`, wrapped to the instruction's address size.
uint32_t offset_add(const DecodedInsn& d, uint32_t offset, uint32_t delta);
// Multi-byte guest accesses. Reads fault before anything is copied; a write
// is checked whole (check_write_guest) before any byte is stored.
void read_guest(Interpreter& in, SegReg seg, uint32_t offset, uint8_t* dst, unsigned n);
void check_write_guest(Interpreter& in, SegReg seg, uint32_t offset, unsigned n);
void write_guest(Interpreter& in, SegReg seg, uint32_t offset, const uint8_t* src, unsigned n);

// The ModRM byte (0 if the instruction has none).
uint8_t modrm_byte(const DecodedInsn& d);
// FIP/FCS/FOP (and FDP/FDS for a memory operand): done by every x87
// instruction except the control ones (FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW,
// FNSTENV, FLDENV, FNSAVE, FRSTOR, FXSAVE, FXRSTOR, WAIT).
void record_last_instruction(Interpreter& in, const DecodedInsn& d, const MemRef* mem);

// Guest state <-> host FRSTOR/FNSAVE image. The host image has all
// exceptions masked and no exception flags, ES or B set.
HostFpuImage to_host_image(const X87State& f);

// ---- the engine: instructions executed on the host x87 ----

enum class MemDir : uint8_t { Load, Store };
// Which arithmetic an instruction performs, for biased OE/UE results:
// the two-operand families, FSCALE, the exact partial remainders, functions
// of ST(0) that are linear near zero (FSIN, FPTAN, FSINCOS, F2XM1) and
// products ST(1) * g(ST(0)) (FYL2X, FYL2XP1; FPATAN = atan(ST(1)/ST(0))),
// whose result lands in ST(1) before the pop.
enum class Arith : uint8_t { None, Add, Mul, Sub, SubR, Div, DivR, Scale, Remainder, TinyArgument, Factor };

struct EngineForm {
  MemDir mem = MemDir::Load;  // direction of a memory operand, if the form has one
  Arith arith = Arith::None;
  bool reads_eflags = false;   // FCMOVcc
  bool writes_eflags = false;  // FCOMI/FUCOMI(P)
};

void run_engine(Interpreter& in, const DecodedInsn& d, const EngineForm& form);

// What an exponent-biased result is computed from.
struct BiasInput {
  Arith op;
  Float80 a;       // two-operand forms: the destination; others: ST(0)
  Float80 b;       // two-operand forms: the source; others: ST(1)
  Float80 masked;  // the masked response's result
  uint16_t cw;
  uint8_t opcode;  // the instruction itself (one-register forms run as is)
  uint8_t modrm;
  bool overflow;   // OE (bias -24576) or UE (+24576)
};
// Exponent-biased result for an unmasked overflow or underflow, rounded per
// the control word. Writes the result and the PE/C1 bits of its rounding;
// false if the case is not covered.
bool biased_result(const BiasInput& in, Float80& out, uint16_t& sw_bits);
// The ST index (before the instruction) of the register that receives the
// result of an arithmetic form.
unsigned result_st(const DecodedInsn& d, Arith op);

// FNSTENV, FLDENV, FNSAVE, FRSTOR, FXSAVE, FXRSTOR (core/x87_env.cpp).
void register_env_handlers(HandlerTable& t);

}  // namespace popek::x87
