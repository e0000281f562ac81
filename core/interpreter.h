// The reference interpreter: executes one guest instruction at a time with
// the exact semantics of an i686 (Pentium Pro/II class) CPU, the SDM being
// the authority. It is the oracle the translator is checked against.
//
// Instruction handlers live in one file per group (interp_arith.cpp,
// interp_string.cpp, interp_system.cpp, ...). Each file registers its
// handlers in the mnemonic-indexed HandlerTable; a mnemonic with no handler
// raises #UD and is logged once with its bytes and address.
//
// Guest faults unwind the current instruction as a GuestFault (core/fault.h).
// Handlers therefore perform every access that may fault before they commit
// register state (write memory first, then update ESP/EIP and registers).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/cpu_state.h"
#include "core/fault.h"
#include "core/io_bus.h"
#include "core/irq.h"
#include "core/mmu.h"
#include "core/physical_memory.h"
#include "decoder/decoder.h"

namespace popek {

class Interpreter;
using InsnHandler = void (*)(Interpreter&, const DecodedInsn&);

class HandlerTable {
 public:
  HandlerTable() { table_.fill(nullptr); }
  void set(ZydisMnemonic m, InsnHandler h) { table_[m] = h; }
  InsnHandler get(ZydisMnemonic m) const { return table_[m]; }

 private:
  std::array<InsnHandler, ZYDIS_MNEMONIC_MAX_VALUE + 1> table_;
};

// Per-group registration functions (one per interp_*.cpp file).
void register_arith_handlers(HandlerTable&);    // ADD..CMP, INC/DEC, NEG, MUL/DIV, BCD
void register_logic_handlers(HandlerTable&);    // AND/OR/XOR/NOT/TEST, shifts, rotates, bit ops
void register_datamove_handlers(HandlerTable&); // MOV, MOVZX/SX, XCHG, CMOV, SETcc, LEA, XADD, CMPXCHG...
void register_stack_handlers(HandlerTable&);    // PUSH/POP (GPR, mem, imm), PUSHA/POPA, ENTER/LEAVE
void register_control_handlers(HandlerTable&);  // near JMP/Jcc/CALL/RET, LOOPcc, JCXZ
void register_string_handlers(HandlerTable&);   // MOVS/CMPS/SCAS/LODS/STOS (+REP)
void register_system_handlers(HandlerTable&);   // sensitive/privileged instructions, far transfers, I/O
void register_x87_handlers(HandlerTable&);      // x87, FXSAVE/FXRSTOR, WAIT

// MOV, PUSH and POP share their Zydis mnemonic between the general-purpose
// forms (registered by interp_datamove.cpp / interp_stack.cpp) and the forms
// with a segment, control or debug register operand (MOV Sreg, MOV CRn/DRn,
// PUSH/POP Sreg), which those handlers forward here. The system group
// (interp_system.cpp) defines it; a weak default in interp_datamove.cpp raises
// #UD until it does.
void exec_special_register_form(Interpreter&, const DecodedInsn&);
// Likewise JMP, CALL and RET: the far forms (d.insn.meta.branch_type ==
// ZYDIS_BRANCH_TYPE_FAR: ptr16:16/32, m16:16/32, RETF [imm16]) are the system
// group's; interp_control.cpp forwards them here (defined in interp_system.cpp).
void exec_far_transfer_form(Interpreter&, const DecodedInsn&);

// Where an interrupt or exception comes from; decides the pushed return
// address, the DPL check of the gate, and V86 IOPL rules.
enum class IntKind : uint8_t {
  Exception,     // fault or trap raised by the CPU
  Hardware,      // external interrupt (INTR) or NMI
  Software,      // INT n
  SoftwareInt3,  // INT3 (the DPL check applies, not the V86 IOPL redirect)
  SoftwareInto,  // INTO
  Icebp,         // INT1 / ICEBP
};

// What the outside world asks of the CPU beyond memory and ports.
struct CpuHooks {
  std::function<void()> on_triple_fault;       // reset or exit
  std::function<void(bool)> on_a20_change;     // not used by the CPU itself today
};

enum class StepResult : uint8_t { Ok, Halted, TripleFault };

class Interpreter {
 public:
  Interpreter(CpuState& cpu, PhysicalMemory& mem, IoBus& io, VirtualClock& clock,
              InterruptController* intc);

  // Executes one instruction, or delivers one pending interrupt, or idles
  // one step if halted. Advances the clock by the instructions retired.
  StepResult step();
  // Runs up to `max_insns` instructions; stops early on HLT with IF=0 and no
  // NMI, on triple fault, or when `stop` becomes true.
  uint64_t retired() const { return retired_; }

  // Processor reset (power-on state, F000:FFF0).
  void reset();

  // ---- state shared with handler files ----
  CpuState& cpu;
  PhysicalMemory& mem;
  IoBus& io;
  VirtualClock& clock;
  InterruptController* intc;
  Mmu mmu;
  CpuHooks hooks;

  // The instruction being executed.
  uint32_t insn_eip = 0;   // EIP of its first byte
  uint32_t next_eip = 0;   // where execution continues; handlers change it to branch
  const DecodedInsn* cur = nullptr;
  // Set by an instruction after which no single-step trap is taken: one
  // that delivered an interrupt (INT n/INT3/INTO/INT1, task-gate events) or
  // loaded SS (MOV SS/POP SS delay the trap by one instruction).
  bool suppress_single_step = false;

  // ---- mode queries ----
  bool protected_mode() const { return cpu.cr0 & cr0::PE; }
  bool v86_mode() const { return cpu.eflags & flag::VM; }
  bool real_mode() const { return !(cpu.cr0 & cr0::PE); }
  unsigned cpl() const { return cpu.cpl; }
  unsigned iopl() const { return (cpu.eflags >> 12) & 3; }
  bool code32() const { return cpu.seg[CS].big(); }
  bool stack32() const { return cpu.seg[SS].big(); }
  bool user_access() const { return cpu.cpl == 3; }

  // ---- registers ----
  uint32_t reg_read(ZydisRegister r) const;           // GPR 8/16/32, Sreg (selector), CRn, DRn
  void reg_write(ZydisRegister r, uint32_t value);    // GPR 8/16/32 only (keeps upper bits)
  static int gpr_index(ZydisRegister r);              // 0..7 for any-width GPR, -1 otherwise
  static SegReg sreg_index(ZydisRegister r);          // ES..GS, SEG_NONE otherwise

  // ---- operands ----
  uint32_t effective_address(const ZydisDecodedOperand& op) const;  // offset, wrapped to address size
  SegReg operand_segment(const ZydisDecodedOperand& op) const;
  uint32_t op_read(const DecodedInsn& d, int i);
  void op_write(const DecodedInsn& d, int i, uint32_t value);
  unsigned op_size(const DecodedInsn& d, int i) const { return d.ops[i].size / 8; }

  // ---- segmented memory (limit and rights checks, then paging) ----
  // Checks an access of `size` bytes at seg:offset and returns its linear
  // address. Raises #GP(0), or #SS(0) for SS, on a violation.
  uint32_t linear_address(SegReg seg, uint32_t offset, unsigned size, AccessType type);
  uint32_t read_mem(SegReg seg, uint32_t offset, unsigned size);
  void write_mem(SegReg seg, uint32_t offset, unsigned size, uint32_t value);
  uint64_t read_mem64(SegReg seg, uint32_t offset);
  void write_mem64(SegReg seg, uint32_t offset, uint64_t value);
  // Checks seg:offset for a write without writing (for multi-part commits).
  void check_write_mem(SegReg seg, uint32_t offset, unsigned size);
  // Supervisor (implicit) linear accesses: descriptor tables, TSS.
  uint32_t read_sys(uint32_t linear, unsigned size) { return mmu.read(linear, size, AccessType::Read, false); }
  void write_sys(uint32_t linear, unsigned size, uint32_t v) { mmu.write(linear, size, v, false); }

  // ---- stack (SS.B selects ESP or SP) ----
  uint32_t stack_pointer() const { return stack32() ? cpu.regs[ESP] : (cpu.regs[ESP] & 0xffff); }
  void set_stack_pointer(uint32_t v);
  void push(uint32_t value, unsigned size);   // size 2 or 4; commits ESP only after the write
  uint32_t pop(unsigned size);                // commits ESP after the read
  uint32_t stack_read(uint32_t offset_from_sp, unsigned size);  // read at SP+offset without popping

  // ---- flags ----
  bool condition(unsigned cc) const;  // x86 condition code 0..15 (O NO B AE E NE BE A S NS P NP L GE LE G)
  void set_arith_flags(uint32_t host_flags, uint32_t mask = flag::ARITH) {
    cpu.eflags = (cpu.eflags & ~mask) | (host_flags & mask);
  }

  // ---- control transfer helpers ----
  // Near branch: truncates to 16 bits for 16-bit operand size, checks CS limit (#GP(0)).
  void branch_near(uint32_t target, unsigned operand_size_bytes);

  // ---- system helpers (core/segmentation.cpp, core/interrupts.cpp, core/task_switch.cpp) ----
  void load_segment(SegReg seg, uint16_t selector);          // MOV/POP Sreg semantics for the current mode
  void load_segment_real(SegReg seg, uint16_t selector);     // base = selector << 4
  // Far transfers in every mode (protected mode: code segments, call gates,
  // task gates and TSSs, privilege changes; core/far_transfer.cpp, iret.cpp).
  void far_jump(uint16_t selector, uint32_t offset, unsigned opsize);
  void far_call(uint16_t selector, uint32_t offset, unsigned opsize);
  void far_return(unsigned opsize, uint16_t imm);
  void iret(unsigned opsize);
  // Delivers an interrupt/exception through the IVT (real mode) or IDT.
  // `return_eip` is what is pushed (faults: insn_eip; traps/INT n: next_eip).
  void interrupt(uint8_t vector, IntKind kind, bool has_error, uint32_t error_code, uint32_t return_eip);
  // Reads an 8-byte descriptor from the GDT or LDT; false if beyond the table limit.
  bool read_descriptor(uint16_t selector, uint64_t& desc);
  void set_cpl(unsigned cpl) { cpu.cpl = static_cast<uint8_t>(cpl); }
  // Recomputes anything derived from CR0/CR4/EFLAGS changes (TLB flush on CR3/paging toggles, etc.).
  void on_cr_write(int cr, uint32_t old_value);
  // Raises #DB (a fault, DR6.Bn set) if an enabled DR0-DR3 instruction
  // breakpoint matches CS:EIP (core/interp_privileged.cpp). The step loop
  // calls it before each fetch while DR7 enables any breakpoint and RF = 0.
  void check_instruction_breakpoints();

  // ---- I/O with IOPL and TSS bitmap checks ----
  bool io_permitted(uint16_t port, unsigned size);  // only #PF (reading the TSS); callers raise #GP(0)
  uint32_t io_in(uint16_t port, unsigned size);
  void io_out(uint16_t port, unsigned size, uint32_t value);

  // ---- x87 helpers ----
  // #NM check (CR0.EM/TS), pending-#MF check for waiting instructions.
  void fpu_check_available(bool waiting);

  // Logs an unimplemented instruction once (by mnemonic) and raises #UD.
  [[noreturn]] void unimplemented(const DecodedInsn& d);
  // Counters.
  uint64_t unimplemented_count() const { return unimplemented_count_; }
  const HandlerTable& handlers() const { return handlers_; }

  // Loads the decoded instruction at CS:EIP (raising #PF/#GP on fetch).
  void fetch_decode(DecodedInsn& out);
  // The same through a decode cache keyed by physical address and mode;
  // a hit is validated against the current bytes, so self-modifying code
  // is always seen. Returns a pointer valid until the next call.
  const DecodedInsn& fetch_decode_cached();
  // fetch_decode_cached() that hands a page fault of the fetch back instead
  // of throwing it: null with `fault` set (CR2 and the TLB already updated,
  // ready for delivery). Other fetch faults (#GP beyond the CS limit, #UD)
  // are still raised.
  const DecodedInsn* fetch_decode_cached(GuestFault& fault);
  uint64_t decode_cache_hits() const { return dcache_hits_; }

  // Runs the instruction at CS:EIP through its handler and commits it as
  // step() does, but hands a fault back instead of delivering it (the CPU is
  // then as it was before the instruction). Takes no interrupt, breakpoint
  // or single-step trap and does not advance the clock: for tests and
  // harnesses that inspect faults as data.
  std::optional<GuestFault> execute_one();
  // The same for an instruction already decoded from CS:EIP in the current
  // code and stack size (the translator's targeted helpers): no fetch, no
  // decode. Handlers commit nothing before their last access that may
  // fault, so after a returned fault the CPU is as it was and step() can
  // run the instruction again to deliver it.
  std::optional<GuestFault> execute_one(const DecodedInsn& d);

  // Delivers `f` (raised while executing the current instruction),
  // escalating to #DF and triple fault per the SDM's double-fault table.
  void deliver_fault(const GuestFault& f);
  // The step in which the instruction at CS:EIP raises `f` before changing
  // anything, found by a caller without running the instruction (the
  // translator's instruction fetch, or a translated access whose TLB fill
  // faulted; for #PF it has called mmu.take_page_fault()). Counts and
  // delivers it exactly as step() does when that instruction faults, with
  // no C++ exception unless the delivery itself faults. The caller has made
  // sure step() would have executed the instruction: no interrupt
  // deliverable, no interrupt shadow, not halted, no breakpoint armed.
  StepResult fault_step(const GuestFault& f);

 private:
  bool try_deliver_external_interrupt();
  // Executes a decoded instruction at insn_eip and commits EIP (faults unwind).
  void run_decoded(const DecodedInsn& d);
  void execute(const DecodedInsn& d);

  // fetch_decode() with a page fault handed back (false, `fault` set).
  bool fetch_decode(DecodedInsn& out, GuestFault& fault);

  struct DecodeCacheEntry {
    uint32_t pa = 0xffffffffu;
    uint8_t mode = 0xff;  // code32 | stack32 << 1
    DecodedInsn insn;
  };
  static constexpr unsigned kDecodeCacheEntries = 4096;
  std::vector<DecodeCacheEntry> dcache_;
  DecodedInsn scratch_insn_;
  uint64_t dcache_hits_ = 0;

  Decoder decoder_;
  HandlerTable handlers_;
  uint64_t retired_ = 0;
  uint64_t unimplemented_count_ = 0;
  std::unordered_set<int> logged_unimplemented_;
  int delivering_ = -1;  // vector being delivered, for #DF escalation
};

}  // namespace popek
