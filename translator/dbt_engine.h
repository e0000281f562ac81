// DbtEngine: runs the guest through translated blocks, on the same CpuState,
// PhysicalMemory, IoBus, VirtualClock and InterruptController as the
// Interpreter, which it uses for everything it does not translate
// (fallbacks, interrupt and exception delivery, HLT, single-stepping).
//
// Steps. The engine counts exactly what Interpreter::step() counts: one step
// per instruction, per delivered fault and per delivered interrupt, and it
// advances the VirtualClock by the same amounts, at the latest before any
// instruction that can observe time (every I/O instruction is a fallback,
// and the clock is brought up to date before each fallback). Interrupts are
// taken only at block boundaries; every instruction that can make one
// deliverable (IF set, an I/O write, a mode change) ends its block, so the
// guest sees them at the same instruction as under the interpreter. A block
// runs only if it fits in the remaining step budget, so a run of N steps
// stops where the interpreter's would.
//
// Host safety. Translated code never divides natively, never executes a
// guest memory access outside the host pointer its TLB entry proved, and
// returns to the dispatcher through bounded paths; C++ exceptions never
// cross generated code (helpers catch at their boundary).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/interpreter.h"
#include "translator/block_builder.h"
#include "translator/block_profiler.h"
#include "translator/dbt_context.h"
#include "translator/front_cache.h"
#include "translator/indirect_slots.h"
#include "translator/inline_tlb.h"
#include "translator/runtime_routines.h"
#include "translator/translation_cache.h"

namespace popek::dbt {

struct DbtOptions {
  size_t cache_bytes = TranslationCache::kDefaultCodeBytes;
  bool chain_blocks = true;  // patch direct exits to their targets (same guest page)
  unsigned max_block_insns = BlockBuilder::kDefaultMaxInsns;
  WxMode wx = WxMode::Dual;  // how the translation cache keeps W^X (code_region.h)
  // Run check_cache() before every flush; a problem stops the run (HostError).
  bool check_cache = false;
  // With a real-time (not deterministic) clock the caller's step budget is
  // a slice length that nothing observes: run() may then end the slice
  // early, at the block boundary where the next block does not fit in what
  // is left, instead of interpreting the tail one instruction at a time. It
  // never runs past the budget, and a run() that has taken no step yet
  // still interprets (so a budget smaller than every block progresses).
  bool end_slice_at_block = false;
#ifdef NDEBUG
  bool validate_emission = false;  // asmjit's assembler validation
#else
  bool validate_emission = true;
#endif
};

enum class DbtStop : uint8_t {
  Budget,       // ran max_steps steps
  Halted,       // HLT: the CPU waits for an interrupt (Interpreter::step() returned Halted)
  TripleFault,  // the interpreter's on_triple_fault hook has run
  Requested,    // should_stop() returned true
  HostError,    // an internal error (a C++ exception in a helper); see last_error()
};

struct DbtRunResult {
  uint64_t steps = 0;
  DbtStop stop = DbtStop::Budget;
};

// What one dispatch did (for the verify engine and tracing).
struct DispatchUnit {
  const Block* block = nullptr;  // null: the interpreter took one step
  uint64_t steps = 0;
  StepResult step_result = StepResult::Ok;
  ExitReason exit = ExitReason::BlockEnd;
  bool slice_end = false;  // nothing ran: the next block does not fit (DbtOptions::end_slice_at_block)
};

class DbtEngine {
 public:
  // Shares `interp` (its CpuState, memory, I/O bus, clock, interrupt
  // controller, hooks and MMU). This is how a Machine wires it.
  explicit DbtEngine(Interpreter& interp, const DbtOptions& options = {});
  // Owns an interpreter built on these parts (tests).
  DbtEngine(CpuState& cpu, PhysicalMemory& mem, IoBus& io, VirtualClock& clock, InterruptController* intc,
            const DbtOptions& options = {});
  ~DbtEngine();
  DbtEngine(const DbtEngine&) = delete;
  DbtEngine& operator=(const DbtEngine&) = delete;

  // Runs up to `max_steps` steps. should_stop is checked between blocks and
  // interpreter steps (e.g. the machine's exit or reset request).
  DbtRunResult run(uint64_t max_steps, const std::function<bool()>& should_stop = {});
  // One dispatch: one block (at most `max_steps` slots) or one interpreter step.
  // The caller may have changed CpuState since the last call (the verify
  // engine does), so the state derived from it is recomputed first.
  DispatchUnit dispatch(uint64_t max_steps);

  // Drops every translation (e.g. after a machine reset or a memory map change).
  void flush();
  // Instructions retired: by translated code plus by the interpreter.
  uint64_t retired() const { return native_retired_ + interp_.retired(); }
  const DbtStats& stats() const { return cache_.stats(); }
  Interpreter& interpreter() { return interp_; }
  const std::string& last_error() const { return last_error_; }
  // TranslationCache::check() with the run-time routines and the
  // indirect-branch cache: the problems found, one line each (empty: none).
  std::vector<std::string> check_cache() const;
  // How the cache keeps W^X (Dual falls back to Mprotect without memfd).
  WxMode wx_mode() const { return cache_.wx_mode(); }
  // Read-only views for tests and tools.
  const TranslationCache& cache() const { return cache_; }
  const DbtContext& context() const { return *ctx_; }

  // The block for the current CS:EIP, translated if needed (tests, tracing).
  const Block* block_at_current();
  // Guest and host disassembly of a block, through Zydis, with the run-time
  // routines named.
  std::string disassemble(const Block& b) const;
  // The `--trace blocks` text of a block: a header (guest CS:EIP, linear and
  // physical address, mode key, instruction and byte counts) and the guest
  // disassembly beside the host disassembly.
  std::string trace_block(const Block& b) const;
  // Calls `sink` with trace_block() of every block right after it is
  // translated (null: off). The frontend's --trace blocks is one line:
  //   engine.set_block_trace([](const std::string& t) { std::fputs(t.c_str(), stderr); });
  void set_block_trace(std::function<void(const std::string&)> sink) { block_trace_ = std::move(sink); }

  // --profile (block_profiler.h): from now on, blocks are translated with
  // execution counters and exits are classified; the translations made so
  // far are dropped. Time sampling starts on the thread of the next run().
  void enable_profiling(const ProfileOptions& options);
  BlockProfiler* profiler() { return profiler_.get(); }
  // Stops sampling and returns the `top` blocks (profiling must be on).
  ProfileReport profile_report(size_t top, ProfileSort sort);

 private:
  // What the inline TLB's entries depend on besides what the MMU's
  // invalidation hook reports: the memory map and A20 (and, as a safety net
  // for code that changes CRn without the interpreter, the paging bits).
  struct MmuSnapshot {
    uint32_t cr0 = 0, cr3 = 0, cr4 = 0, a20_mask = 0;  // cr0/cr4: the bits whose change flushes all
    uint64_t map_generation = ~0ull;
    bool operator==(const MmuSnapshot&) const = default;
  };
  MmuSnapshot mmu_snapshot() const;

  void init();
  bool interrupt_deliverable() const;
  uint32_t intr_line() const;  // the interrupt controller's INTR, whatever IF says
  uint16_t mode_key() const;  // computed from CpuState; mode_ holds it after sync_state()
  bool flat_segments() const;
  bool alignment_checking() const;
  // The block for CS:EIP, translated if missing and it would be at most
  // `fit_steps` instructions long. Null when there is none; when the fetch
  // of CS:EIP itself page-faults, fetch_fault_ holds the fault.
  Block* find_or_translate(uint64_t fit_steps = UINT64_MAX);
  // A page fault found without the interpreter, not yet delivered (nothing
  // of it is in CPU state yet: Mmu::take_page_fault() comes at delivery).
  struct PendingPageFault {
    bool pending = false;
    uint32_t linear = 0, error_code = 0;
  };
  PendingPageFault fetch_fault_;  // find_or_translate: the fetch of CS:EIP faulted
  PendingPageFault fill_fault_;   // fill_tlb: the access faulted; its site's fallback comes next
  // The step in which the instruction at CS:EIP faults on its fetch.
  DispatchUnit fetch_fault_step(const PendingPageFault& f);
  DispatchUnit dispatch_unit(uint64_t max_steps, bool may_end_slice);
  // Whether state derived from CpuState (segment table, mode key) may be
  // stale: set whenever code other than translated blocks and their helpers
  // may have changed CpuState (an interpreter step, the caller between
  // runs). A translated POPF can change EFLAGS.AC natively: that is compared
  // at each dispatch.
  bool derived_stale() const {
    return state_dirty_ || ((cpu_.eflags ^ synced_eflags_) & (flag::AC | flag::VM));
  }
  Block* translate(const BlockKey& key, uint64_t fit_steps);
  DispatchUnit interpreter_step(InterpReason why);
  InterpReason interpreter_reason() const;  // Other: translated code may run
  InterpReason miss_reason_ = InterpReason::Other;  // why find_or_translate() returned null
  // The physical page number the linear page after `linear`'s maps to now,
  // if a block may hold code from it (present and accessed for a fetch at
  // the current CPL, RAM or ROM, not the page of `phys` itself); else
  // kNoPage2. No side effects (Mmu::peek).
  uint32_t usable_page2(uint32_t linear, uint32_t phys) const;
  void release_orphaned_pages();  // unprotects TranslationCache::take_orphaned_pages()
  DispatchUnit run_block(Block* b, uint64_t max_steps);
  void sync_state();  // sync_mmu() and the segment table and mode key, unconditionally
  void sync_mmu();    // TLB flush on MMU changes (CR0/CR3/CR4, CPL, A20, memory map)
  void refresh_segment_table();
  void flush_tlb();  // every entry, and the indirect-branch cache
  // The MMU's invalidation hook: the inline TLB and the indirect-branch
  // cache drop what the interpreter's TLB drops.
  static void mmu_invalidation_hook(void* self, TlbInvalidation what, uint32_t linear);
  void on_mmu_invalidation(TlbInvalidation what, uint32_t linear);
  // Adds b, just returned by find_or_translate(), to the lookup cache
  // (indirect branches and cross-page exits), remembering its mapping.
  void add_indirect(const Block& b);
  // protect/unprotect_code_page bump the map generation; the engine's own
  // bumps need no flush (see translate, on_code_write).
  void forget_own_map_change(bool snapshot_was_current);
  void try_chain(ExitStub& from, Block& to);
  void clear_indirect_cache();
  void enter_indirect_epoch(const Block& b);
  uint32_t run_fallback(const FallbackSite& site);
  // Runs a site's targeted helper (IN/OUT/RDTSC/CPUID/RDMSR/WRMSR) on CpuState; false when it
  // declines (the instruction would fault): Interpreter::step() runs it,
  // or, when the predecoded helper ran it and it faulted (helper_fault_),
  // Interpreter::fault_step() delivers that fault.
  bool run_targeted(const FallbackSite& site);
  std::optional<GuestFault> helper_fault_;
  uint32_t fill_tlb(uint32_t linear, uint32_t request);  // request: tlb_fill_request()
  void on_code_write(uint32_t pa, unsigned size);
  void profile_exit();  // --profile: classifies the exit of the last block run

  static uint32_t fallback_helper(DbtContext* ctx, const FallbackSite* site);
  static uint32_t tlb_fill_helper(DbtContext* ctx, uint32_t linear, uint32_t request);
  static void code_write_hook(void* self, uint32_t pa, unsigned size);

  std::unique_ptr<Interpreter> owned_interp_;
  Interpreter& interp_;
  CpuState& cpu_;
  PhysicalMemory& mem_;
  VirtualClock& clock_;
  DbtOptions options_;
  TranslationCache cache_;
  RuntimeRoutines rt_;
  BlockBuilder builder_;
  GuestBlock guest_block_;                 // translate()'s, reused from block to block
  std::unique_ptr<class BlockEmitter> emitter_;  // likewise (block_emitter.h)
  std::unique_ptr<DbtContext> ctx_;
  MmuSnapshot snapshot_;
  bool state_dirty_ = true;     // see derived_stale()
  uint32_t synced_eflags_ = 0;  // EFLAGS at the last sync_state()
  uint16_t mode_ = 0;           // mode_key() at the last sync_state()
  // What the segment table and mode_ were last computed from (sync_state).
  struct DerivedInputs {
    SegmentCache seg[6];
    uint32_t cr0;     // PE, PG, AM
    uint32_t eflags;  // VM, AC
    uint32_t cpl;
  };
  DerivedInputs derived_inputs_{};
  bool derived_valid_ = false;
  FrontCache front_;  // find_or_translate()'s first look (front_cache.h)
  // The mapping attributes of the page of the block find_or_translate()
  // returned last (from its front entry or a fresh fetch translation).
  FrontCache::Mapping found_mapping_;
  static void block_dropped_hook(void* self, const Block& b);
  void block_dropped(const Block& b);
  ExitStub* pending_chain_ = nullptr;  // the direct exit the last block left through
  bool pending_indirect_ = false;      // the last block left through an indirect-cache miss
  ReturnLink* pending_ret_link_ = nullptr;  // ... from a predicted RET: the link to fill
  // The lookup cache holds blocks of one (CS base, CS limit); the mode is
  // in each entry's tag.
  struct {
    uint32_t cs_base = 0, cs_limit = ~0u;
  } indirect_epoch_;
  // Step accounting of the block entry in progress.
  int64_t entry_budget_ = 0;
  int64_t clock_synced_ = 0;
  uint64_t fallback_steps_ = 0;
  uint64_t native_retired_ = 0;
  uint64_t block_runs_ = 0;  // dispatcher entries into translated code
  std::string last_error_;
  std::function<void(const std::string&)> block_trace_;
  std::FILE* perf_map_ = nullptr;  // POPEK_PERF_MAP
  bool check_failed_ = false;  // a check_cache() at a flush found problems (options_.check_cache)
  std::unique_ptr<InlineTlb> tlb_;  // the bookkeeping of ctx_->tlb
  // The lookup cache's filled slots and their mappings, by page, so that an
  // invalidation drops only the entries whose mapping it may change.
  IndirectSlots ib_slots_;
  bool mapping_changed_ = false;  // the MMU invalidated something (since the dispatcher cleared it)
  std::unique_ptr<BlockProfiler> profiler_;  // --profile
  std::vector<HostSymbol> routine_names() const;
};

}  // namespace popek::dbt
