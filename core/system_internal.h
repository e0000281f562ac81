// Helpers shared by the system files of the interpreter (segmentation,
// far transfers, interrupts, task switches, system instructions). Not part
// of the Interpreter API: the translator reaches these through the
// Interpreter methods (load_segment, far_jump, interrupt, ...).
#pragma once
#include <cstdint>

#include "core/descriptor.h"
#include "core/interpreter.h"

namespace popek::sys {

// ---- descriptor tables (core/segmentation.cpp) ----

// Reads the GDT/LDT descriptor `sel` points at. False when the selector's
// index lies beyond the table limit, or it is an LDT selector and the LDTR is
// unusable. Page faults on the table propagate.
bool fetch_descriptor(Interpreter& in, uint16_t sel, Descriptor& out);
// Sets the accessed bit of a code/data descriptor in memory (and in `d`).
void mark_accessed(Interpreter& in, Descriptor& d);
// Marks a TSS descriptor busy or available in memory (and in `d`).
void set_tss_busy(Interpreter& in, Descriptor& d, bool busy);

// ---- segment register loads ----

// The three contexts that validate a stack segment, each with its own
// exception vectors (SDM: MOV SS; stack switch from the TSS; return to an
// outer level).
enum class StackCheck : uint8_t {
  MovSs,      // invalid: #GP(sel), null: #GP(0), not present: #SS(sel)
  InnerTss,   // invalid: #TS(sel+EXT), null: #TS(EXT), not present: #SS(sel+EXT)
  OuterReturn // invalid: #GP(sel), null: #GP(0), not present: #SS(sel)
};
// Checks `sel` as the stack segment for privilege level `cpl`; returns its
// descriptor or raises the fault for `ctx`.
Descriptor check_stack_segment(Interpreter& in, uint16_t sel, unsigned cpl, StackCheck ctx, uint32_t ext = 0);
// Checks the target of a far RET/IRET: a present code segment whose RPL is
// not below the CPL (conforming: DPL <= RPL; else DPL == RPL).
Descriptor check_return_code_segment(Interpreter& in, uint16_t sel);

// Loads CS from a validated code descriptor: RPL forced to `cpl`, which also
// becomes the CPL. Sets the accessed bit.
void load_code_segment(Interpreter& in, uint16_t sel, Descriptor& d, unsigned cpl);
// Loads a validated code/data descriptor into `seg` (accessed bit set).
void load_segment_descriptor(Interpreter& in, SegReg seg, uint16_t sel, Descriptor& d);
// A null selector in a data segment register: the cache becomes unusable.
void load_null_segment(Interpreter& in, SegReg seg, uint16_t sel);
// V86-mode load: base = sel << 4, limit 0xFFFF, DPL 3 read/write data.
void load_v86_segment(Interpreter& in, SegReg seg, uint16_t sel);
// After a return to an outer level: DS/ES/FS/GS holding data or
// non-conforming code with DPL < CPL are nulled.
void null_inaccessible_data_segments(Interpreter& in);

// Whether `size` bytes at `offset` lie inside the segment's limit
// (expand-down aware). Rights are the caller's business.
bool offset_in_limit(const SegmentCache& sc, uint32_t offset, unsigned size);

// ---- frames on a stack that is not (yet) SS:ESP ----
// Builds a frame in three phases, in the order the CPU reports faults:
// push() records, check_limits() raises #SS(error) if a slot lies outside
// the segment, write() stores (may #PF, at the privilege of `cpl`). Only
// then does the caller commit SS:ESP and the rest of the state.
class StackFrame {
 public:
  StackFrame(const SegmentCache& ss, uint32_t esp, unsigned cpl, uint32_t limit_error)
      : ss_(ss), esp_(esp), sp_(ss.big() ? esp : (esp & 0xffff)), cpl_(cpl), error_(limit_error) {}
  void push(uint32_t value, unsigned size);
  void check_limits() const;
  void write(Interpreter& in) const;
  // ESP to load once committed (SS.B = 0 changes only SP).
  uint32_t esp() const { return ss_.big() ? sp_ : ((esp_ & 0xffff0000u) | (sp_ & 0xffff)); }

 private:
  struct Slot {
    uint32_t offset;
    uint32_t value;
    uint8_t size;
  };
  static constexpr int kMaxSlots = 48;  // 31 call-gate parameters + 17
  SegmentCache ss_;
  uint32_t esp_, sp_;
  unsigned cpl_;
  uint32_t error_;
  Slot slots_[kMaxSlots];
  int count_ = 0;
};

// ---- task state segments (core/task_switch.cpp) ----

enum class TaskSwitchReason : uint8_t { Jump, Call, Iret, Interrupt };

// Switches to the task whose TSS descriptor `tss` (selector `sel`) has been
// validated by the caller (type, DPL, present, busy state). `return_eip` is
// saved as the outgoing task's EIP. Faults while loading the incoming
// task's segments are raised in the context of the new task. `ext` is the
// EXT bit for error codes (the switch was caused by an external event).
void task_switch(Interpreter& in, uint16_t sel, Descriptor& tss, TaskSwitchReason why, uint32_t return_eip,
                 uint32_t ext);
// Reads SS:ESP for privilege level `dpl` from the current TSS (#TS(TR+EXT)
// if beyond its limit).
void tss_inner_stack(Interpreter& in, unsigned dpl, uint32_t ext, uint16_t& ss, uint32_t& esp);
// True if the current TSS is a 32-bit one.
inline bool tss_is_32bit(const Interpreter& in) { return in.cpu.tr.attr & 0x8; }
// Checks the TSS selector named by a task gate (JMP/CALL/INT) and returns its
// descriptor: GDT only, an available TSS, present.
Descriptor check_task_gate_target(Interpreter& in, uint16_t tss_sel, uint32_t ext);

// ---- EFLAGS ----
namespace eflags {
// Bits an i686 lets software write (POPF at CPL 0, IRET at CPL 0).
constexpr uint32_t kWritable = flag::CF | flag::PF | flag::AF | flag::ZF | flag::SF | flag::TF | flag::IF |
                               flag::DF | flag::OF | flag::IOPL | flag::NT | flag::AC | flag::ID;
// Bits that exist at all (what a task switch or IRET to V86 can load).
constexpr uint32_t kDefined = kWritable | flag::RF | flag::VM | flag::VIF | flag::VIP;
}  // namespace eflags

}  // namespace popek::sys

namespace popek::sys {

// ---- mode and privilege checks for system instructions ----
// #UD in real and V86 mode (LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW, ARPL).
inline void require_protected_mode(const Interpreter& in) {
  if (!in.protected_mode() || in.v86_mode()) raise_fault(vec::UD);
}
// #GP(0) unless CPL 0; real mode counts as CPL 0, V86 mode as CPL 3.
inline void require_cpl0(const Interpreter& in) {
  if (in.protected_mode() && in.cpl() != 0) raise_fault(vec::GP, 0);
}
inline void set_zf(Interpreter& in, bool z) {
  in.cpu.eflags = z ? (in.cpu.eflags | flag::ZF) : (in.cpu.eflags & ~flag::ZF);
}
inline unsigned operand_bytes(const DecodedInsn& d) { return d.insn.operand_width / 8; }

// ---- handler groups registered by register_system_handlers ----
void register_segment_handlers(HandlerTable& t);     // interp_segment.cpp
void register_privileged_handlers(HandlerTable& t);  // interp_privileged.cpp
void register_io_handlers(HandlerTable& t);          // io_permission.cpp
void register_identity_handlers(HandlerTable& t);    // cpuid_msr.cpp

// The special-register forms of MOV/PUSH/POP (see exec_special_register_form).
void MOV_Sreg(Interpreter& in, const DecodedInsn& d);      // both directions
void PUSH_Sreg(Interpreter& in, const DecodedInsn& d);
void POP_Sreg(Interpreter& in, const DecodedInsn& d);
void MOV_CRn(Interpreter& in, const DecodedInsn& d);       // both directions
void MOV_DRn(Interpreter& in, const DecodedInsn& d);       // both directions

}  // namespace popek::sys
