// Shared state of one block emission (block_emitter.cpp, emit_memory.cpp,
// emit_native.cpp). Not part of the translator's interface.
#pragma once
#include <asmjit/x86.h>

#include <cstddef>
#include <new>
#include <vector>

#include "translator/block_emitter.h"
#include "translator/host_sequences.h"

namespace popek::dbt {

namespace x86 = asmjit::x86;

// The cold paths of a block: closures that emit code after the body, in
// the order they were added. Kept in inline storage (no heap allocation per
// closure, as std::function would make for most of them) and reused from
// block to block by the BlockEmitter.
class ColdPaths {
 public:
  static constexpr size_t kCapacity = 128;  // bytes of captures per closure
  template <class F>
  void push_back(F f) {
    static_assert(sizeof(F) <= kCapacity && alignof(F) <= alignof(std::max_align_t),
                  "a cold-path closure captures too much: capture by reference");
    Entry& e = entries_.emplace_back();
    new (e.storage) F(std::move(f));
    e.run = [](void* p) { (*static_cast<F*>(p))(); };
    e.destroy = [](void* p) { static_cast<F*>(p)->~F(); };
    e.relocate = [](void* from, void* to) {
      new (to) F(std::move(*static_cast<F*>(from)));
      static_cast<F*>(from)->~F();
    };
  }
  // Runs every closure in order (a closure must not add another: the
  // storage of the running one would move).
  void run_all() {
    for (size_t i = 0; i < entries_.size(); ++i) entries_[i].run(entries_[i].storage);
  }
  void clear() { entries_.clear(); }
  ColdPaths() { entries_.reserve(32); }
  ColdPaths(const ColdPaths&) = delete;
  ColdPaths& operator=(const ColdPaths&) = delete;

 private:
  struct Entry {
    alignas(std::max_align_t) unsigned char storage[kCapacity];
    void (*run)(void*) = nullptr;
    void (*destroy)(void*) = nullptr;
    void (*relocate)(void* from, void* to) = nullptr;
    Entry() = default;
    Entry(Entry&& o) noexcept : run(o.run), destroy(o.destroy), relocate(o.relocate) {
      if (relocate) relocate(o.storage, storage);
      o.destroy = nullptr;
    }
    Entry& operator=(Entry&&) = delete;
    ~Entry() {
      if (destroy) destroy(storage);
    }
  };
  std::vector<Entry> entries_;
};

struct Emission {
  x86::Assembler& a;
  const RuntimeRoutines& rt;
  const GuestBlock& gb;
  const EmitOptions& opt;
  Block& meta;
  const BlockPlan& plan;
  ColdPaths& cold;  // emitted after the body, in order
  uint32_t next_site = 0;

  // Where the guest's arithmetic flags are while the body is emitted:
  // RFLAGS (rflags_valid) and/or the stash in r10 (stash_valid); at least
  // one always. Host code that clobbers RFLAGS (TLB lookup, budget check)
  // needs the stash first. An exposure point needs RFLAGS: an exit, a
  // fallback, a slow path (a fault pushes EFLAGS, so even flags that are
  // dead for the block's own reads must be exact there), and a guest
  // instruction that reads flags or writes only some of them. A guest
  // instruction that overwrites all six with defined values needs neither.
  // This keeps flags exact everywhere while restoring them (CMP AL/SAHF)
  // only where something looks.
  bool rflags_valid = true;
  bool stash_valid = false;
  void need_stash() {
    if (!stash_valid) seq::stash_flags(a);
    stash_valid = true;
  }
  void need_rflags() {
    if (!rflags_valid) seq::unstash_flags(a);
    rflags_valid = true;
  }
  void rflags_clobbered() { rflags_valid = false; }
  // Around a native guest instruction k.
  void before_guest(unsigned k) {
    const InsnPlan& ip = plan.insns[k];
    const bool kills_all = ip.flags_killed == insn_flags::kStatus && !ip.flags_used;
    if (ip.flags_used || (ip.flags_written && !kills_all)) need_rflags();
  }
  void after_guest(unsigned k) {
    if (plan.insns[k].flags_written) {
      rflags_valid = true;
      stash_valid = false;
    }
  }

  // ---- block_emitter.cpp ----
  // Leaves the block for guest `eip` through exit_spill.
  void exit_to(uint32_t eip);
  // The same through a patchable jump that the dispatcher may chain, or,
  // for a target on another guest page (which a patched jump could not
  // validate), through the lookup cache entry of that EIP.
  void chained_exit(uint32_t eip);
  void lookup_exit(uint32_t eip);
  // After the entry's flag stash: where the checked entry joins.
  asmjit::Label after_stash{};
  // Out-of-line exit after instruction k (not the block's last), taken by
  // a jump to the returned label while the flags are in the stash: the
  // instructions after k count as not retired. With `inhibit`, it opens the
  // interrupt shadow first (STI).
  asmjit::Label leave_after(unsigned k, bool inhibit);
  // Indirect-branch cache lookup for the guest EIP in `eip` (kept in r9d):
  // r8 := the target block's checked entry, or the ib_miss routine (which
  // leaves to the dispatcher). Clobbers the flags; the caller then jumps to r8.
  // `from_return`: a RET's prediction path calls it with the whole tag
  // (mode << 32 | EIP) in r9 already and the --profile lookup counted.
  void indirect_lookup(const x86::Gp& eip, bool from_return = false);
  void profile_indirect_lookup();  // --profile: counts one lookup of this block (clobbers r11, flags)
  // A fallback site for instruction k, and the call that runs it (the
  // guest flags must be in RFLAGS at the call).
  FallbackSite* new_site(unsigned k, uint8_t site_flags);
  void call_fallback(FallbackSite* site);    // the call only (cold paths manage the flags)
  // A cold path entered with the flags stashed: runs the site through the
  // slow_path routine (flags restored, instruction run, flags stashed again)
  // and continues at `resume` with both RFLAGS and the stash valid.
  void stashed_fallback(FallbackSite* site, asmjit::Label resume);
  void inline_fallback(FallbackSite* site);  // in the body: flags to RFLAGS, call, track

  // ---- emit_memory.cpp ----
  // Guest effective address (offset) of memory operand `op` into r8d,
  // wrapped to 16 bits for 16-bit addressing.
  void effective_address(const ZydisDecodedOperand& op, unsigned address_width);
  // Memory operand of instruction k: leaves the host pointer in r8, with
  // the slow path (limit/rights failure, TLB miss, MMIO, SMC page) running
  // the whole instruction in the interpreter and continuing at `resume`.
  void host_pointer(unsigned k, asmjit::Label resume);
  // The checks and lookup of one access of instruction k, with r8d holding
  // the guest offset in `seg`: leaves the host pointer in r8, the flags in
  // the stash and RFLAGS clobbered. Returns the slow-path label (which may
  // be jumped to while the stash is valid): it restores the flags, runs the
  // whole instruction in the interpreter, re-stashes and continues at
  // `resume` with both RFLAGS and the stash valid.
  asmjit::Label guarded_access(unsigned k, SegReg seg, unsigned size, TlbKind kind, asmjit::Label resume);

  // ---- emit_stack.cpp ----
  // PUSH r/imm, POP r, CALL rel, RET [imm16]: the stack access through the
  // TLB, ESP committed after it succeeded.
  bool push(unsigned k);
  bool pop(unsigned k);
  bool call_direct(unsigned k);
  bool ret(unsigned k);
  bool push_all(unsigned k);
  bool pop_all(unsigned k);
  bool leave(unsigned k);

  // ---- emit_control.cpp ----
  // LOOPcc/JCXZ without touching the flags; JMP/CALL r/m through the
  // indirect-branch cache.
  bool loop_branch(unsigned k);
  bool jump_indirect(unsigned k);
  bool call_indirect(unsigned k);

  // ---- emit_string.cpp ----
  // STOS/LODS/MOVS without REP.
  bool string_op(unsigned k);
  // REP MOVS/STOS, REPE/REPNE SCAS: one interpreter chunk as a host REP
  // when it stays on one page (flat segments, DF clear); else the
  // interpreter from the instruction's start.
  bool rep_string(unsigned k);

  // BT/BTS/BTR/BTC m, r (emit_native.cpp): the unit that holds the bit.
  bool bit_string(unsigned k);

  // ---- emit_divide.cpp ----
  // DIV/IDIV: the #DE conditions checked inline, then the host divide.
  bool divide(unsigned k);
  // A site for instruction k whose cold path restores the stashed flags,
  // runs the whole instruction in the interpreter, re-stashes and continues
  // at `resume` (as a memory slow path does). Returns the label to jump to
  // while the stash is valid.
  asmjit::Label interpreter_path(unsigned k, asmjit::Label resume);
  // Leaves the block in the middle at instruction k with CpuState.eip =
  // `eip`, the slots after k unretired (a REP chunk that yields). The guest
  // flags must be in RFLAGS.
  void yield_exit(unsigned k, uint32_t eip);

  // ---- emit_sensitive.cpp ----
  // Sensitive instructions against the virtual CPU state.
  bool pushf(unsigned k);
  bool popf(unsigned k);
  bool if_change(unsigned k);
  bool read_state(unsigned k);
  bool push_sreg(unsigned k);
  bool store_state(unsigned k);

  // ---- emit_native.cpp ----
  // Emits the guest instruction on host registers ([r8] for memory).
  // Returns false if asmjit refused it.
  bool native_instruction(unsigned k);
  bool lea(unsigned k);
};

// Host register for a guest GPR operand (8/16/32-bit).
x86::Gp host_register(ZydisRegister r);
// 64-bit host register holding the guest register named by `r` (any width).
x86::Gp host_register64(ZydisRegister r);

// emit_stack.cpp: r8d := (ESP + delta) wrapped to the stack size; ESP +=
// delta (SP only on a 16-bit stack). Neither touches the flags.
void stack_offset(Emission& e, int32_t delta);
void commit_stack_pointer(Emission& e, int32_t delta);
// emit_stack.cpp: a near CALL's push onto the return-prediction ring
// (dbt_context.h, ReturnStackEntry): the tag of `return_eip` and the block's
// ReturnLink. Uses r9, r11; clobbers RFLAGS (the flags must be stashed).
void push_return_prediction(Emission& e, uint32_t return_eip);

inline x86::Mem ctx_field(size_t offset, uint32_t size) {
  return x86::ptr(host::kCtx, static_cast<int32_t>(offset), size);
}

}  // namespace popek::dbt
