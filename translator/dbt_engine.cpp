#include "translator/dbt_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <unistd.h>

#include "core/cpuid_msr.h"
#include "translator/block_disassembly.h"
#include "translator/block_emitter.h"
#include "translator/predecoded_helper.h"

namespace popek::dbt {

DbtEngine::DbtEngine(Interpreter& interp, const DbtOptions& options)
    : interp_(interp),
      cpu_(interp.cpu),
      mem_(interp.mem),
      clock_(interp.clock),
      options_(options),
      cache_(options.cache_bytes, options.wx),
      builder_(options.max_block_insns) {
  init();
}

DbtEngine::DbtEngine(CpuState& cpu, PhysicalMemory& mem, IoBus& io, VirtualClock& clock,
                     InterruptController* intc, const DbtOptions& options)
    : owned_interp_(std::make_unique<Interpreter>(cpu, mem, io, clock, intc)),
      interp_(*owned_interp_),
      cpu_(cpu),
      mem_(mem),
      clock_(clock),
      options_(options),
      cache_(options.cache_bytes, options.wx),
      builder_(options.max_block_insns) {
  init();
}

void DbtEngine::init() {
  ctx_ = std::make_unique<DbtContext>();
  std::memset(ctx_.get(), 0, sizeof(DbtContext));
  for (auto& priv : ctx_->tlb)
    for (auto& kind : priv)
      for (TlbEntry& e : kind) e = TlbEntry{kInvalidTag, 0, 0};  // flushes reset only filled entries
  tlb_ = std::make_unique<InlineTlb>(ctx_->tlb);
  ctx_->engine = this;
  emitter_ = std::make_unique<BlockEmitter>();
  if (!emit_runtime_routines(cache_, &DbtEngine::fallback_helper, &DbtEngine::tlb_fill_helper,
                             options_.validate_emission, rt_))
    throw std::runtime_error("popek: cannot emit the translator's run-time routines");
  ctx_->ib_miss_code = reinterpret_cast<const void*>(rt_.ib_miss);
  for (IndirectEntry& e : ctx_->ib) e = IndirectEntry{0, 0, reinterpret_cast<const void*>(rt_.lookup_miss)};
  ctx_->ret_epoch = 1;  // ReturnLink::epoch 0 is never current
  for (ReturnStackEntry& e : ctx_->rsb) e = ReturnStackEntry{kNoReturnTag, nullptr};
  // POPEK_PERF_MAP=1: name every block for `perf report` (perf's JIT map
  // convention, /tmp/perf-PID.map), with the run-time routines.
  if (const char* v = std::getenv("POPEK_PERF_MAP"); v && *v && *v != '0') {
    perf_map_ = std::fopen(("/tmp/perf-" + std::to_string(::getpid()) + ".map").c_str(), "a");
    if (perf_map_) {
      std::setvbuf(perf_map_, nullptr, _IOLBF, 0);
      std::fprintf(perf_map_, "%lx %zx dbt_runtime_routines\n", reinterpret_cast<unsigned long>(cache_.runtime_area()),
                   cache_.runtime_capacity());
    }
  }
  flush_tlb();
  mem_.set_code_write_hook(&DbtEngine::code_write_hook, this);
  cache_.set_drop_hook(&DbtEngine::block_dropped_hook, this);
  interp_.mmu.set_invalidation_hook(&DbtEngine::mmu_invalidation_hook, this);
}

DbtEngine::~DbtEngine() {
  if (perf_map_) std::fclose(perf_map_);
  for (uint32_t page : cache_.code_pages()) mem_.unprotect_code_page(page);
  mem_.set_code_write_hook(nullptr, nullptr);
  if (interp_.mmu.invalidation_hook_ctx() == this) interp_.mmu.set_invalidation_hook(nullptr, nullptr);
}

void DbtEngine::flush() {
  if (options_.check_cache && !check_failed_) {
    std::vector<std::string> problems = check_cache();
    if (!problems.empty()) {
      check_failed_ = true;
      last_error_ = "translation cache check at a flush: " + problems[0];
      if (problems.size() > 1) last_error_ += " (and " + std::to_string(problems.size() - 1) + " more)";
    }
  }
  pending_chain_ = nullptr;
  pending_indirect_ = false;
  pending_ret_link_ = nullptr;  // points into a block about to be freed
  clear_indirect_cache();       // empties the return ring too: its links are in those blocks
  const bool map_current = snapshot_.map_generation == mem_.map_generation();
  for (uint32_t page : cache_.code_pages()) mem_.unprotect_code_page(page);
  forget_own_map_change(map_current);
  if (profiler_) profiler_->before_flush();  // the samples refer to the code about to go
  cache_.flush();
  front_.invalidate_all();  // it points at freed blocks
  state_dirty_ = true;
}

// ---------------------------------------------------------------- mode and state

bool DbtEngine::flat_segments() const {
  if (!(cpu_.cr0 & cr0::PE) || (cpu_.eflags & flag::VM)) return false;
  for (SegReg s : {CS, DS, ES, SS}) {
    const SegmentCache& sc = cpu_.seg[s];
    if (sc.base != 0 || sc.limit != 0xffffffffu || !sc.present() || !(sc.attr & seg_attr::S)) return false;
    const uint16_t type = sc.attr & seg_attr::TYPE_MASK;
    if (s == CS) continue;
    if ((type & seg_attr::CODE) || !(type & seg_attr::WRITABLE) || (type & seg_attr::EXPAND_DOWN)) return false;
  }
  return true;
}

bool DbtEngine::alignment_checking() const {
  return (cpu_.cr0 & cr0::AM) && (cpu_.eflags & flag::AC) && cpu_.cpl == 3;
}

uint16_t DbtEngine::mode_key() const {
  uint16_t m = 0;
  if (cpu_.seg[CS].big()) m |= mode_bit::kCode32;
  if (cpu_.seg[SS].big()) m |= mode_bit::kStack32;
  if (cpu_.cr0 & cr0::PE) m |= mode_bit::kPe;
  if (cpu_.eflags & flag::VM) m |= mode_bit::kVm;
  if (cpu_.cr0 & cr0::PG) m |= mode_bit::kPg;
  if (alignment_checking()) m |= mode_bit::kAlignCheck;
  else if (flat_segments()) m |= mode_bit::kFlat;
  m |= static_cast<uint16_t>((cpu_.cpl & 3) << mode_bit::kCplShift);
  return m;
}

void DbtEngine::flush_tlb() {
  tlb_->flush_all();
  ++cache_.stats().tlb_flushes;
  clear_indirect_cache();  // its entries were found through the old mappings
  front_.invalidate_all();  // and so were the front cache's
}

void DbtEngine::block_dropped_hook(void* self, const Block& b) { static_cast<DbtEngine*>(self)->block_dropped(b); }

// SMC (TranslationCache::invalidate_range/page) dropped b: only its own
// entries go. The lookup cache holds a block in the slot of its EIP, the
// front cache in the slot of its linear address.
void DbtEngine::block_dropped(const Block& b) {
  ++ctx_->ret_epoch;  // a return link may lead to b (links are not tracked per block)
  const uint32_t i = indirect_index(b.eip);
  if (ctx_->ib[i].code == b.code + b.checked_entry_offset) {
    ctx_->ib[i] = IndirectEntry{0, 0, reinterpret_cast<const void*>(rt_.lookup_miss)};
    ib_slots_.erase(i);
  }
  front_.forget(b);
}

void DbtEngine::mmu_invalidation_hook(void* self, TlbInvalidation what, uint32_t linear) {
  static_cast<DbtEngine*>(self)->on_mmu_invalidation(what, linear);
}

// The interpreter's MMU invalidated entries (MOV CRn, a task switch, INVLPG,
// a page fault, a reset): drop the same ones here. An indirect-cache entry
// names a block whose code page was translated through the MMU when it was
// added, so it dies with that translation.
void DbtEngine::on_mmu_invalidation(TlbInvalidation what, uint32_t linear) {
  mapping_changed_ = true;
  ++ctx_->ret_epoch;  // return links die with any lookup-cache entry (dbt_context.h)
  DbtStats& st = cache_.stats();
  const IndirectEntry empty{0, 0, reinterpret_cast<const void*>(rt_.lookup_miss)};
  auto empty_slot = [&](uint32_t i) { ctx_->ib[i] = empty; };
  const MmuSnapshot now = mmu_snapshot();
  switch (what) {
    case TlbInvalidation::All:
      flush_tlb();
      snapshot_.cr0 = now.cr0;
      snapshot_.cr3 = now.cr3;
      snapshot_.cr4 = now.cr4;
      break;
    case TlbInvalidation::NonGlobal:
      tlb_->flush_non_global();
      ++st.tlb_flushes;
      ib_slots_.drop_non_global(empty_slot);
      front_.invalidate_non_global();
      snapshot_.cr3 = now.cr3;
      break;
    case TlbInvalidation::Page:
      tlb_->flush_page(linear);
      ++st.tlb_page_flushes;
      ib_slots_.drop_page(linear, empty_slot);
      front_.invalidate_page(linear);
      break;
  }
}

void DbtEngine::add_indirect(const Block& b) {
  if (b.page2 != kNoPage2) return;  // its entry would not die with the second page's mapping
  const uint32_t i = indirect_index(b.eip);
  ctx_->ib[i] = IndirectEntry{b.eip, b.key.mode, b.code + b.checked_entry_offset};
  ib_slots_.fill(i, IndirectSlots::Mapping{b.key.linear & 0xfffff000u, found_mapping_.global, found_mapping_.large});
}

void DbtEngine::forget_own_map_change(bool snapshot_was_current) {
  // Protecting a code page removes only its write pointer (the engine drops
  // the write entries to it itself); unprotecting one adds a write pointer
  // that no entry holds yet. Neither needs a flush.
  if (snapshot_was_current) snapshot_.map_generation = mem_.map_generation();
}

void DbtEngine::clear_indirect_cache() {
  const IndirectEntry empty{0, 0, reinterpret_cast<const void*>(rt_.lookup_miss)};
  if (ib_slots_.size() < kIndirectEntries / 4) {
    ib_slots_.for_each_filled([&](uint32_t i) { ctx_->ib[i] = empty; });
  } else {
    for (IndirectEntry& e : ctx_->ib) e = empty;
  }
  ib_slots_.clear();
  // The return ring's links are as good as lookup-cache entries: they all
  // go, and the ring empties (a flush frees the blocks its links are in).
  ++ctx_->ret_epoch;
  for (ReturnStackEntry& e : ctx_->rsb) e = ReturnStackEntry{kNoReturnTag, nullptr};
}

void DbtEngine::enter_indirect_epoch(const Block& b) {
  auto& ep = indirect_epoch_;
  if (ep.cs_base == b.key.cs_base && ep.cs_limit == b.key.cs_limit) return;
  clear_indirect_cache();
  ep.cs_base = b.key.cs_base;
  ep.cs_limit = b.key.cs_limit;
}

// The same limit and rights checks as Interpreter::linear_address, folded
// into one number per (access kind, segment): the largest offset of an
// access's last byte that passes, or -1 for "always take the slow path"
// (also used for everything while alignment checking is on).
void DbtEngine::refresh_segment_table() {
  const bool checks_rights = (cpu_.cr0 & cr0::PE) && !(cpu_.eflags & flag::VM);
  const bool align = alignment_checking();
  for (int s = 0; s < 8; ++s) {
    for (unsigned kind = 0; kind < kTlbKinds; ++kind) {
      int64_t limit = -1;
      if (s < 6) {
        const SegmentCache& sc = cpu_.seg[s];
        const uint16_t type = sc.attr & seg_attr::TYPE_MASK;
        const bool code = type & seg_attr::CODE;
        bool ok = true;
        if (checks_rights) {
          if (!sc.present()) ok = false;
          if (sc.attr & seg_attr::S) {
            if (kind == unsigned(TlbKind::Write) && (code || !(type & seg_attr::WRITABLE))) ok = false;
            if (kind == unsigned(TlbKind::Read) && code && !(type & seg_attr::READABLE)) ok = false;
          }
        }
        const bool expand_down = (sc.attr & seg_attr::S) && !code && (type & seg_attr::EXPAND_DOWN);
        if (ok && !expand_down && !align) limit = sc.limit;
      }
      ctx_->seg_limit[kind][s] = limit;
    }
  }
}

DbtEngine::MmuSnapshot DbtEngine::mmu_snapshot() const {
  return MmuSnapshot{cpu_.cr0 & (cr0::PG | cr0::PE | cr0::WP), cpu_.cr3,
                     cpu_.cr4 & (cr4::PSE | cr4::PGE | cr4::PAE), mem_.a20_mask(), mem_.map_generation()};
}

// CPL is not here: user and supervisor entries live in separate arrays. The
// MMU's hook reports every CRn change made by guest instructions, so a
// mismatch here means a memory map or A20 change, or CRn set from outside
// the interpreter (tests, loaders): flush as the interpreter would.
// The segment table and the mode key are recomputed only when what they
// are computed from changed: most syncs follow a helper (a segment load
// of the same selector, IRET to the same mode) that left them as they were.
void DbtEngine::sync_state() {
  sync_mmu();
  DerivedInputs in;
  std::memset(&in, 0, sizeof in);  // padding included: compared with memcmp
  std::memcpy(in.seg, cpu_.seg, sizeof in.seg);
  in.cr0 = cpu_.cr0 & (cr0::PE | cr0::PG | cr0::AM);
  in.eflags = cpu_.eflags & (flag::VM | flag::AC);
  in.cpl = cpu_.cpl;
  if (!derived_valid_ || std::memcmp(&in, &derived_inputs_, sizeof in) != 0) {
    refresh_segment_table();
    mode_ = mode_key();
    derived_inputs_ = in;
    derived_valid_ = true;
  }
  synced_eflags_ = cpu_.eflags;
  state_dirty_ = false;
}

void DbtEngine::sync_mmu() {
  const MmuSnapshot now = mmu_snapshot();
  if (!(now == snapshot_)) {
    MmuSnapshot with_new_cr3 = snapshot_;
    with_new_cr3.cr3 = now.cr3;
    if (with_new_cr3 == now) on_mmu_invalidation(TlbInvalidation::NonGlobal, 0);
    else flush_tlb();
    snapshot_ = now;
  }
}

uint32_t DbtEngine::intr_line() const { return interp_.intc && interp_.intc->intr_pending() ? 1 : 0; }

bool DbtEngine::interrupt_deliverable() const {
  if (cpu_.nmi_pending && !cpu_.in_nmi) return true;
  return (cpu_.eflags & flag::IF) && interp_.intc && interp_.intc->intr_pending();
}

// Why the next instruction must go to the interpreter whatever the cache
// holds, or InterpReason::Other when translated code may run it. Armed
// DR0-DR3 breakpoints (DR7 L0-3/G0-3) are matched by the interpreter's
// step loop only, so translated code does not run then.
InterpReason DbtEngine::interpreter_reason() const {
  if (cpu_.halted) return InterpReason::Halted;
  if (cpu_.inhibit_irq) return InterpReason::Shadow;
  if (cpu_.eflags & (flag::TF | flag::RF)) return InterpReason::TrapFlag;
  if (cpu_.dr[7] & 0xff) return InterpReason::Breakpoint;
  if (interrupt_deliverable()) return InterpReason::Interrupt;
  return InterpReason::Other;
}

// ---------------------------------------------------------------- translation

Block* DbtEngine::find_or_translate(uint64_t fit_steps) {
  fetch_fault_ = {};
  const SegmentCache& cs = cpu_.seg[CS];
  miss_reason_ = InterpReason::NoBlock;
  if (cpu_.eip > cs.limit) return nullptr;
  const uint32_t linear = cs.base + cpu_.eip;
  if (Block* b = front_.find(linear, cs.base, cs.limit, mode_, found_mapping_)) {
    DbtStats& st = cache_.stats();
    ++st.lookups;
    ++st.hits;
    ++st.front_hits;
    return b;
  }
  const Mmu::Translation t = interp_.mmu.try_translate(linear, AccessType::Fetch, cpu_.cpl == 3);
  if (t.fault) {
    fetch_fault_ = PendingPageFault{true, linear, t.error_code};  // the dispatcher delivers it
    return nullptr;
  }
  const Mmu::CachedAttrs attrs = interp_.mmu.cached_attrs(linear);  // valid right after the translation
  found_mapping_ = FrontCache::Mapping{attrs.global, attrs.large};
  BlockKey key{linear, t.pa & mem_.a20_mask(), cs.base, cs.limit, mode_};
  struct Probe {
    const DbtEngine* e;
    const BlockKey& key;
  } probe{this, key};
  Block* b = cache_.lookup(key, [](void* ctx) {
    const Probe& p = *static_cast<const Probe*>(ctx);
    return p.e->usable_page2(p.key.linear, p.key.phys);
  }, &probe);
  if (!b) {
    release_orphaned_pages();  // the lookup may have discarded a block for another second page
    b = translate(key, fit_steps);  // may flush the cache (and the front cache)
  }
  // A two-page block stays out of the front cache: its entries die with
  // the first page's mapping only.
  if (b && b->page2 == kNoPage2) front_.add(linear, cs.base, cs.limit, mode_, found_mapping_, b);
  return b;
}

uint32_t DbtEngine::usable_page2(uint32_t linear, uint32_t phys) const {
  const uint32_t next = (linear & 0xfffff000u) + 0x1000;  // wraps at 4 GiB, as the fetch does
  const Mmu::Peek p = interp_.mmu.peek(next, AccessType::Fetch, cpu_.cpl == 3);
  if (!p.ok) return kNoPage2;
  const uint32_t pa = p.pa & mem_.a20_mask();
  // Both linear pages on one frame would need two ranges of one page in
  // the SMC index: such a block stops before the instruction instead.
  if ((pa >> 12) == (phys >> 12) || !mem_.host_ptr_read(pa)) return kNoPage2;
  return pa >> 12;
}

Block* DbtEngine::translate(const BlockKey& key, uint64_t fit_steps) {
  struct Timer {  // adds the host time of this call to translation_ns
    uint64_t& ns;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    ~Timer() { ns += uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()); }
  } timer{cache_.stats().translation_ns};
  struct Phase {  // --profile: samples taken meanwhile are the translator's
    BlockProfiler* p;
    explicit Phase(BlockProfiler* prof) : p(prof) {
      if (p) p->set_translating(true);
    }
    ~Phase() {
      if (p) p->set_translating(false);
    }
  } phase{profiler_.get()};
  const uint8_t* bytes = mem_.host_ptr_read(key.phys);
  if (!bytes) {  // MMIO or unmapped: the interpreter runs it
    miss_reason_ = InterpReason::NotRam;
    return nullptr;
  }
  const uint32_t eip = key.linear - key.cs_base;
  const uint32_t to_page_end = 0x1000 - (key.phys & 0xfff);
  const uint64_t to_limit = uint64_t(key.cs_limit) - eip + 1;
  const bool limit_bound = to_limit < to_page_end;
  const uint32_t available = limit_bound ? static_cast<uint32_t>(to_limit) : to_page_end;
  GuestBlock& gb = guest_block_;  // reused: its instruction vector keeps its storage
  builder_.build(bytes, available, limit_bound, eip, key.mode & mode_bit::kCode32,
                 key.mode & mode_bit::kStack32, gb);
  // An instruction that continues on the next page (QEMU's rule): the
  // block takes it, and ends after it, when that page is usable now; it
  // then depends on both physical pages. Otherwise the block stops before
  // it and the interpreter runs it (raising the fetch #PF with CR2 on the
  // second page and EIP on the instruction).
  uint32_t page2 = kNoPage2;
  bool cut_at_page2 = false;
  const uint8_t* bytes2 = nullptr;
  if (gb.cut) {
    const uint32_t start = gb.guest_bytes();        // the instruction's offset
    const uint32_t in_page = to_page_end - start;   // its bytes on this page (< 15)
    const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(15, to_limit - start));
    if (len > in_page) {
      page2 = usable_page2(key.linear, key.phys);
      if (page2 == kNoPage2) {
        cut_at_page2 = true;
      } else {
        bytes2 = mem_.host_ptr_read(page2 << 12);
        uint8_t buf[16];
        std::memcpy(buf, bytes + start, in_page);
        std::memcpy(buf + in_page, bytes2, len - in_page);
        if (!builder_.append_straddler(buf, len, gb)) page2 = kNoPage2;  // invalid: the interpreter's #UD/#GP
      }
    }
  }
  if (gb.insns.empty()) return nullptr;  // miss_reason_: NoBlock
  if (gb.insns.size() > fit_steps) {
    miss_reason_ = InterpReason::DoesNotFit;
    return nullptr;
  }
  miss_reason_ = InterpReason::Other;  // an emission failure (below)

  EmitOptions opt;
  opt.flat = key.mode & mode_bit::kFlat;
  opt.validate = options_.validate_emission;
  BlockProfile* profile = profiler_ ? &profiler_->record_for(key, eip) : nullptr;
  if (profile) opt.profile = &profile->counters;
  for (int attempt = 0; attempt < 70; ++attempt) {
    auto meta = std::make_unique<Block>();
    meta->profile = profile;
    meta->key = key;
    meta->eip = eip;
    meta->guest_bytes = gb.guest_bytes();
    meta->page2 = page2;
    meta->cut_at_page2 = cut_at_page2;
    if (page2 == kNoPage2) {
      meta->guest_code.assign(bytes, bytes + meta->guest_bytes);
    } else {
      meta->guest_code.assign(bytes, bytes + to_page_end);
      meta->guest_code.insert(meta->guest_code.end(), bytes2, bytes2 + (meta->guest_bytes - to_page_end));
    }
    EmitResult er = emitter_->emit(gb, rt_, opt, cache_.next_code_address(), *meta);
    if (er.error == TranslateError::AssemblerError && er.failed_insn >= 0 && er.failed_insn < 64 &&
        !((opt.force_fallback >> er.failed_insn) & 1)) {
      opt.force_fallback |= uint64_t(1) << er.failed_insn;  // run that one in the interpreter
      continue;
    }
    if (er.error != TranslateError::None) return nullptr;
    if (er.code_size > cache_.free_bytes()) {
      if (er.code_size > cache_.block_area_bytes()) return nullptr;
      flush();  // full: start over; the code must be re-emitted for the new base
      continue;
    }
    meta->code = cache_.commit_code(er.code, er.code_size);
    meta->code_size = static_cast<uint32_t>(er.code_size);
    for (const uint32_t page : {key.phys >> 12, page2}) {
      if (page == kNoPage2 || mem_.is_code_page(page)) continue;
      const bool map_current = snapshot_.map_generation == mem_.map_generation();
      mem_.protect_code_page(page);
      tlb_->drop_writes_to(page);
      forget_own_map_change(map_current);
    }
    if (page2 != kNoPage2) ++cache_.stats().two_page_blocks;
    Block* b = cache_.insert(std::move(meta));
    if (profile) profiler_->on_translated(*profile, *b);
    if (block_trace_) block_trace_(trace_block(*b));
    if (perf_map_)
      std::fprintf(perf_map_, "%lx %x dbt_%04x_%08x\n", reinterpret_cast<unsigned long>(b->code), b->code_size,
                   static_cast<unsigned>(key.mode), b->eip);
    return b;
  }
  return nullptr;
}

std::string DbtEngine::trace_block(const Block& b) const {
  char head[160];
  std::snprintf(head, sizeof head,
                "block %04x:%08x linear %08x phys %08x mode %03x: %u guest insns, %u bytes -> %u host bytes\n",
                static_cast<unsigned>(cpu_.seg[CS].selector), b.eip, b.key.linear, b.key.phys,
                static_cast<unsigned>(b.key.mode), b.insn_count, b.guest_bytes, b.code_size);
  return head + disassemble(b);
}

std::vector<HostSymbol> DbtEngine::routine_names() const {
  return {{rt_.exit_spill, "exit_spill"},
          {rt_.exit_nospill, "exit_nospill"},
          {rt_.fallback, "fallback"},
          {rt_.tlb_fill, "tlb_fill"},
          {rt_.ib_miss, "ib_miss"},
          {rt_.lookup_miss, "lookup_miss"},
          {rt_.slow_path, "slow_path"},
          {rt_.budget_exit, "budget_exit"},
          {rt_.stashed_lookup_miss, "stashed_lookup_miss"}};
}

std::string DbtEngine::disassemble(const Block& b) const { return disassemble_block(b, routine_names()); }

void DbtEngine::enable_profiling(const ProfileOptions& options) {
  if (cache_.block_count()) flush();  // blocks translated so far have no counters
  profiler_ = std::make_unique<BlockProfiler>(options);
  const uint64_t runtime = reinterpret_cast<uint64_t>(cache_.runtime_area());
  profiler_->set_runtime_area(runtime, runtime + cache_.runtime_capacity());
}

ProfileReport DbtEngine::profile_report(size_t top, ProfileSort sort) {
  if (!profiler_) return {};
  return profiler_->report(top, sort, routine_names());
}

const Block* DbtEngine::block_at_current() {
  sync_state();
  return find_or_translate();
}

std::vector<std::string> DbtEngine::check_cache() const {
  CacheCheckInput in;
  const std::vector<HostSymbol> names = routine_names();  // outlives `in`'s pointers into it
  for (const HostSymbol& r : names) in.routines.push_back({r.address, r.name.c_str()});
  CacheCheckInput::IndirectTable ib{"indirect-branch cache", {}, {rt_.ib_miss, rt_.lookup_miss}};
  for (const IndirectEntry& e : ctx_->ib) ib.entries.emplace_back(e.eip, e.code);
  in.tables.push_back(std::move(ib));
  std::vector<std::string> problems = cache_.check(in);
  if (ctx_->ib_miss_code != reinterpret_cast<const void*>(rt_.ib_miss))
    problems.push_back("the context's ib_miss_code is not the ib_miss routine");
  return problems;
}

// ---------------------------------------------------------------- dispatch

DbtRunResult DbtEngine::run(uint64_t max_steps, const std::function<bool()>& should_stop) {
  DbtRunResult r;
  state_dirty_ = true;  // the caller may have changed CpuState since the last run
  const bool soft_slice = options_.end_slice_at_block && !clock_.deterministic();
  if (profiler_ && profiler_->wants_sampling() && !profiler_->sampling() && profiler_->sampling_error().empty()) {
    std::string error;
    if (!profiler_->start_sampling(&ctx_->profile_current, error)) profiler_->set_sampling_error(error);
  }
  while (r.steps < max_steps) {
    if (check_failed_) {
      r.stop = DbtStop::HostError;
      break;
    }
    if (should_stop && should_stop()) {
      r.stop = DbtStop::Requested;
      break;
    }
    DispatchUnit u = dispatch_unit(max_steps - r.steps, soft_slice && r.steps > 0);
    if (u.slice_end) break;
    r.steps += u.steps;
    if (!u.block && u.step_result == StepResult::Halted) {
      r.stop = DbtStop::Halted;
      break;
    }
    if (u.step_result == StepResult::TripleFault || u.exit == ExitReason::TripleFault) {
      r.stop = DbtStop::TripleFault;
      break;
    }
    if (u.exit == ExitReason::HostError) {
      r.stop = DbtStop::HostError;
      break;
    }
  }
  return r;
}

DispatchUnit DbtEngine::dispatch(uint64_t max_steps) {
  state_dirty_ = true;
  return dispatch_unit(max_steps, false);
}

DispatchUnit DbtEngine::dispatch_unit(uint64_t max_steps, bool may_end_slice) {
  // Translated code and its helpers keep the derived state current (every
  // helper ends with sync_state()); only the MMU snapshot is compared here.
  if (derived_stale()) sync_state();
  else sync_mmu();
  if (max_steps == 0) return {};
  if (const InterpReason why = interpreter_reason(); why != InterpReason::Other) {
    pending_chain_ = nullptr;
    pending_ret_link_ = nullptr;  // an interrupt may come first: not the RET's target
    return interpreter_step(why);
  }
  // Near the end of a hard slice (deterministic clock) a new block may not
  // fit in the steps left: the interpreter then runs one instruction and
  // the next dispatch looks one instruction further on. translate() decodes
  // first and does not emit a block that would be refused here (popek
  // --profile showed thousands of such blocks, never executed, on
  // big_code). A soft slice ends before the block instead, and runs it next.
  Block* b = find_or_translate(may_end_slice ? UINT64_MAX : max_steps);  // may flush the cache, which drops pending_chain_
  if (b) enter_indirect_epoch(*b);
  if (pending_chain_ && b && options_.chain_blocks) try_chain(*pending_chain_, *b);
  if (pending_indirect_ && b && options_.chain_blocks)
    add_indirect(*b);
  if (pending_ret_link_ && b && b->page2 == kNoPage2 && options_.chain_blocks) {
    // The RET that left through ib_miss predicted this return address
    // (its tag matched): its CALL's link now leads to b, for this epoch.
    // (Not to a two-page block: the link would skip its second page's check.)
    pending_ret_link_->code = b->code + b->checked_entry_offset;
    pending_ret_link_->epoch = ctx_->ret_epoch;
  }
  pending_chain_ = nullptr;
  pending_indirect_ = false;
  pending_ret_link_ = nullptr;
  if (b && b->insn_count > max_steps && may_end_slice) {
    DispatchUnit u;
    u.slice_end = true;
    return u;
  }
  if (!b && fetch_fault_.pending) return fetch_fault_step(std::exchange(fetch_fault_, {}));
  if (!b) return interpreter_step(miss_reason_);
  if (b->insn_count > max_steps) return interpreter_step(InterpReason::DoesNotFit);
  return run_block(b, max_steps);
}

// Chains only within one guest page (the target's mapping is the one the
// dispatcher validated for the source) and within one mode and code segment.
void DbtEngine::try_chain(ExitStub& from, Block& to) {
  const Block& src = *from.block;
  if (!src.valid || !to.valid || from.chained_to || from.target_eip != to.eip) return;
  if ((src.key.linear >> 12) != (to.key.linear >> 12) || (src.key.phys >> 12) != (to.key.phys >> 12)) return;
  // A jump into a two-page block would skip the check of its second page
  // (TranslationCache::lookup): the dispatcher's full lookup enters it.
  if (to.page2 != kNoPage2) return;
  if (src.key.mode != to.key.mode || src.key.cs_base != to.key.cs_base || src.key.cs_limit != to.key.cs_limit)
    return;
  cache_.chain(from, to);
}

DispatchUnit DbtEngine::interpreter_step(InterpReason why) {
  DispatchUnit u;
  ++cache_.stats().interpreter_steps;
  ++cache_.stats().interp_reasons[unsigned(why)];
  state_dirty_ = true;  // anything may have changed: a segment load, an interrupt, a mode switch
  u.step_result = interp_.step();
  u.steps = u.step_result == StepResult::Halted ? 0 : 1;
  cache_.stats().retired_total += u.steps;
  return u;
}

// What Interpreter::step() would do at CS:EIP: the dispatcher only gets
// here when the step would execute the instruction (interpreter_reason() is
// Other), and its fetch faults on the same first byte with the same access.
DispatchUnit DbtEngine::fetch_fault_step(const PendingPageFault& f) {
  DispatchUnit u;
  DbtStats& st = cache_.stats();
  ++st.direct_fetch_faults;
  state_dirty_ = true;  // the delivery may switch stacks, CPL, mode
  u.step_result = interp_.fault_step(interp_.mmu.take_page_fault(f.linear, f.error_code));
  u.steps = 1;
  cache_.stats().retired_total += u.steps;
  return u;
}

DispatchUnit DbtEngine::run_block(Block* b, uint64_t max_steps) {
  DbtContext& c = *ctx_;
  c.budget_left = static_cast<int64_t>(max_steps);
  c.exit_unretired = 0;
  c.exit_reason = uint32_t(ExitReason::BlockEnd);
  c.chain_from = nullptr;
  c.ib_pending = 0;
  c.ret_link = nullptr;
  c.intr_pending = intr_line();
  c.profile_current = nullptr;
  entry_budget_ = c.budget_left;
  clock_synced_ = 0;
  const uint64_t fallbacks_before = fallback_steps_;
  rt_.enter(&c, &cpu_, b->code);
  const int64_t consumed = entry_budget_ - c.budget_left - c.exit_unretired;
  clock_.retire(static_cast<uint64_t>(consumed - clock_synced_));
  const uint64_t native = static_cast<uint64_t>(consumed) - (fallback_steps_ - fallbacks_before);
  native_retired_ += native;
  DbtStats& st = cache_.stats();
  st.retired_native += native;
  st.retired_total += static_cast<uint64_t>(consumed);
  ++st.unchained_exits;
  ++block_runs_;
  if (c.ib_pending == 1) ++st.indirect_misses;
  else if (c.ib_pending == 2) ++st.cross_page_misses;
  st.indirect_hits = c.ib_lookups - st.indirect_misses;
  st.return_predictions = c.ret_predicted;
  st.cross_page_hits = c.checked_entries - st.indirect_hits - c.ret_predicted;
  st.chained_exits = c.block_entries - block_runs_ - c.checked_entries;
  if (c.exit_reason == uint32_t(ExitReason::BlockEnd) && c.chain_from)
    pending_chain_ = static_cast<ExitStub*>(c.chain_from);
  pending_indirect_ = c.exit_reason == uint32_t(ExitReason::BlockEnd) && c.ib_pending;
  if (pending_indirect_ && c.ib_pending == 1 && c.ret_link) pending_ret_link_ = static_cast<ReturnLink*>(c.ret_link);
  if (profiler_) profile_exit();
  DispatchUnit u;
  u.block = b;
  u.steps = static_cast<uint64_t>(consumed);
  u.exit = static_cast<ExitReason>(c.exit_reason);
  return u;
}

// The block that returned to the dispatcher is the last one whose entry code
// ran (profile_current). Helper exits were counted by run_fallback.
void DbtEngine::profile_exit() {
  DbtContext& c = *ctx_;
  BlockProfile* p = c.profile_current ? static_cast<BlockCounters*>(c.profile_current)->owner : nullptr;
  c.profile_current = nullptr;
  switch (static_cast<ExitReason>(c.exit_reason)) {
    case ExitReason::BlockEnd:
      profiler_->count_exit(p, c.chain_from  ? ExitKind::DirectUnchained
                               : c.ib_pending ? ExitKind::IndirectMiss
                                              : ExitKind::Unchained);
      break;
    case ExitReason::BudgetExhausted:
      profiler_->count_exit(p, ExitKind::Budget);
      break;
    case ExitReason::TripleFault:
    case ExitReason::HostError:
      profiler_->count_exit(p, ExitKind::Fault);
      break;
    case ExitReason::Helper:
      break;
  }
  profiler_->poll();
}

// ---------------------------------------------------------------- helpers (called from generated code)

uint32_t DbtEngine::fallback_helper(DbtContext* ctx, const FallbackSite* site) {
  DbtEngine& e = *static_cast<DbtEngine*>(ctx->engine);
  try {
    return e.run_fallback(*site);
  } catch (const std::exception& ex) {
    e.last_error_ = ex.what();
  } catch (...) {
    e.last_error_ = "unknown exception in the fallback helper";
  }
  ctx->exit_reason = uint32_t(ExitReason::HostError);
  ctx->exit_unretired = site->unretired_before;
  return 1;
}

uint32_t DbtEngine::run_fallback(const FallbackSite& s) {
  DbtContext& c = *ctx_;
  DbtStats& st = cache_.stats();
  // Bring the clock up to this instruction: it may read time (IN from a timer).
  const int64_t consumed = entry_budget_ - c.budget_left - s.unretired_before;
  clock_.retire(static_cast<uint64_t>(consumed - clock_synced_));
  clock_synced_ = consumed;
  cpu_.eip = s.eip;
  // A page fault the site's TLB fill found (the fill ran just before this
  // call, from the same site's slow path).
  const PendingPageFault fill_fault = std::exchange(fill_fault_, {});
  if (interrupt_deliverable() || cpu_.inhibit_irq) {
    // Interpreter::step() would deliver instead of executing: leave, so the
    // dispatcher does it at this instruction boundary.
    c.exit_reason = uint32_t(ExitReason::Helper);
    c.exit_unretired = s.unretired_before;
    if (s.block->profile) ++s.block->profile->exits[size_t(ExitKind::Helper)];
    return 1;
  }
  const BlockKey& key = s.block->key;
  mapping_changed_ = false;
  StepResult r = StepResult::Ok;
  bool targeted = false;
  if (fill_fault.pending && (s.flags & site_flag::kFillFaultExact)) {
    // The instruction's first fault, found without running it: deliver it
    // as the interpreter's step would (CR2, TLB, #DF rules), no exception.
    ++st.direct_fill_faults;
    r = interp_.fault_step(interp_.mmu.take_page_fault(fill_fault.linear, fill_fault.error_code));
    ++clock_synced_;
    ++fallback_steps_;
  } else if (s.helper != uint8_t(TargetedHelper::None) && run_targeted(s)) {
    targeted = true;
    // Retired as part of the block (the exit accounts for it and its clock
    // tick), not by the interpreter.
    ++st.sensitive_helper_calls;
    if (s.block->profile) ++s.block->profile->helper_calls;
  } else {
    ++st.fallbacks;
    if (s.flags & site_flag::kMemorySlowPath) ++st.memory_slow_paths;
    else ++st.fallbacks_by_mnemonic[s.mnemonic];
    // A fault the predecoded helper met is the instruction's: delivered
    // without running it again (which would raise it a second time).
    r = helper_fault_ ? interp_.fault_step(*std::exchange(helper_fault_, std::nullopt)) : interp_.step();
    ++clock_synced_;
    ++fallback_steps_;
    if (s.block->profile) ++s.block->profile->fallbacks;
  }
  if (r == StepResult::TripleFault) {
    c.exit_reason = uint32_t(ExitReason::TripleFault);
    c.exit_unretired = s.unretired_before - 1;
    return 1;
  }
  const bool diverted = cpu_.eip != s.next_eip;
  // TLB invalidations (MOV CRn, INVLPG, task switches, page faults) reached
  // the inline TLB through the MMU's hook while the instruction ran. A
  // targeted helper changes registers and device state only: the memory
  // map and A20 may move (sync_mmu), segments and the mode cannot. The
  // predecoded helper runs interpreter handlers (segment loads, IRET, CRn).
  if (targeted && s.helper != uint8_t(TargetedHelper::Predecoded)) sync_mmu();
  else sync_state();
  // An invalidation (MOV CR3, INVLPG...) may have changed the mapping of
  // this block's page, which chained jumps within the page do not check.
  const bool leave = (s.flags & site_flag::kAlwaysExit) || diverted || !s.block->valid || cpu_.halted ||
                     mapping_changed_ ||
                     interrupt_deliverable() ||
                     cpu_.inhibit_irq || (cpu_.eflags & (flag::TF | flag::RF)) ||
                     cpu_.seg[CS].base != key.cs_base || cpu_.seg[CS].limit != key.cs_limit ||
                     mode_ != key.mode;
  c.intr_pending = intr_line();  // an OUT to the PIC, an EOI...
  if (!leave) return 0;
  if (s.block->profile) {
    // A delivered fault moves EIP elsewhere without being a control
    // transfer (a REP string instruction that yielded stays on its own EIP).
    const bool faulted = diverted && !(s.flags & site_flag::kControlTransfer) && cpu_.eip != s.eip;
    ++s.block->profile->exits[size_t(faulted ? ExitKind::Fault : ExitKind::Helper)];
  }
  c.exit_reason = uint32_t(ExitReason::Helper);
  c.exit_unretired = s.unretired_before - 1;
  return 1;
}

bool DbtEngine::run_targeted(const FallbackSite& s) {
  const bool pe = cpu_.cr0 & cr0::PE;
  switch (static_cast<TargetedHelper>(s.helper)) {
    case TargetedHelper::In:
    case TargetedHelper::Out: {
      const uint16_t port = s.io_port >= 0 ? static_cast<uint16_t>(s.io_port) : static_cast<uint16_t>(cpu_.regs[EDX]);
      const unsigned size = s.io_size;
      try {
        if (!interp_.io_permitted(port, size)) return false;  // #GP(0): the interpreter raises it
      } catch (const GuestFault&) {
        return false;  // #PF reading the TSS bitmap: likewise
      }
      uint32_t& eax = cpu_.regs[EAX];
      if (static_cast<TargetedHelper>(s.helper) == TargetedHelper::In) {
        const uint32_t v = interp_.io_in(port, size);
        if (size == 1) eax = (eax & ~0xffu) | (v & 0xff);
        else if (size == 2) eax = (eax & ~0xffffu) | (v & 0xffff);
        else eax = v;
      } else {
        const uint32_t mask = size == 1 ? 0xffu : size == 2 ? 0xffffu : 0xffffffffu;
        interp_.io_out(port, size, eax & mask);
      }
      break;
    }
    case TargetedHelper::Rdtsc: {
      if ((cpu_.cr4 & cr4::TSD) && pe && cpu_.cpl != 0) return false;  // #GP(0)
      // The interpreter's TSC (core/cpuid_msr.cpp tsc_now): virtual clock
      // ticks plus the guest's offset; the clock is current (run_fallback).
      const uint64_t tsc = clock_.now() + cpu_.tsc_offset;
      cpu_.regs[EAX] = static_cast<uint32_t>(tsc);
      cpu_.regs[EDX] = static_cast<uint32_t>(tsc >> 32);
      break;
    }
    case TargetedHelper::Cpuid: {
      uint32_t r[4];
      cpuid_values(cpu_.regs[EAX], r);
      cpu_.regs[EAX] = r[0];
      cpu_.regs[EBX] = r[1];
      cpu_.regs[ECX] = r[2];
      cpu_.regs[EDX] = r[3];
      break;
    }
    case TargetedHelper::Rdmsr: {
      if (pe && cpu_.cpl != 0) return false;  // #GP(0), also in V86 mode
      uint64_t v;
      if (!msr_read(interp_, cpu_.regs[ECX], v)) return false;  // #GP(0)
      cpu_.regs[EAX] = static_cast<uint32_t>(v);
      cpu_.regs[EDX] = static_cast<uint32_t>(v >> 32);
      break;
    }
    case TargetedHelper::Wrmsr: {
      if (pe && cpu_.cpl != 0) return false;
      // msr_write validates before it changes anything: a refused value
      // leaves the MSR as it was, and step() raises #GP(0).
      if (!msr_write(interp_, cpu_.regs[ECX], (uint64_t(cpu_.regs[EDX]) << 32) | cpu_.regs[EAX])) return false;
      break;
    }
    case TargetedHelper::Predecoded: {
      // The interpreter's handler on the block's decoded instruction; a
      // fault is handed back with nothing changed, and run_fallback
      // delivers it (as step() would after running the instruction again).
      if (!predecoded_helper_ready(cpu_, *s.insn)) return false;
      helper_fault_ = interp_.execute_one(*s.insn);  // commits EIP (a branch target for IRET, SYSENTER...)
      return !helper_fault_;
    }
    default:
      return false;
  }
  cpu_.eip = s.next_eip;
  return true;
}

uint32_t DbtEngine::tlb_fill_helper(DbtContext* ctx, uint32_t linear, uint32_t request) {
  DbtEngine& e = *static_cast<DbtEngine*>(ctx->engine);
  try {
    return e.fill_tlb(linear, request);
  } catch (...) {
    return 0;  // the fallback path runs the instruction and reports whatever it raises
  }
}

uint32_t DbtEngine::fill_tlb(uint32_t linear, uint32_t request) {
  const auto kind = static_cast<TlbKind>(request & 1);
  const auto priv = static_cast<TlbPrivilege>((request >> 1) & 1);
  const unsigned size = request >> 8;
  DbtStats& st = cache_.stats();
  ++st.tlb_fills;
  fill_fault_ = {};
  if ((linear & 0xfff) + size > 0x1000) {
    ++st.tlb_fill_failures;
    return 0;
  }
  // The privilege of the array the code reads (the block's CPL), which is
  // the CPL the access is made at.
  const bool user = priv == TlbPrivilege::User;
  const bool write = kind == TlbKind::Write;
  const Mmu::Translation t = interp_.mmu.try_translate(linear, write ? AccessType::Write : AccessType::Read, user);
  if (t.fault) {
    // Nothing changes yet (no CR2, no invalidation): the site's fallback
    // either delivers it or re-runs the instruction, which finds it again.
    ++st.tlb_fill_failures;
    fill_fault_ = PendingPageFault{true, linear, t.error_code};
    return 0;
  }
  const uint32_t pa = t.pa;
  uint8_t* host = write ? mem_.host_ptr_write(pa) : mem_.host_ptr_read(pa);
  if (!host) {  // MMIO, unmapped, ROM (write) or a page holding translated code (write)
    ++st.tlb_fill_failures;
    return 0;
  }
  const Mmu::CachedAttrs attrs = interp_.mmu.cached_attrs(linear);
  const InlineTlb::Mapping m{linear, pa & mem_.a20_mask(), attrs.global, attrs.large};
  const uint32_t offset = pa & 0xfff;
  tlb_->install(priv, kind, m, host - offset);
  // The other kind too when the MMU already allows it without a walk, as a
  // hardware TLB entry would (a read next to a write, or a write to a page
  // that is already dirty): a read-modify-write pattern then misses once.
  const TlbKind other = write ? TlbKind::Read : TlbKind::Write;
  if (interp_.mmu.cached(linear, write ? AccessType::Read : AccessType::Write, user)) {
    if (uint8_t* h = write ? mem_.host_ptr_read(pa) : mem_.host_ptr_write(pa)) tlb_->install(priv, other, m, h - offset);
  }
  return 1;
}

void DbtEngine::code_write_hook(void* self, uint32_t pa, unsigned size) {
  static_cast<DbtEngine*>(self)->on_code_write(pa, size);
}

// Only the blocks translated from the written bytes go (the running one
// included: its fallback site sees it invalid and leaves). The page keeps
// its write protection while it holds blocks.
void DbtEngine::on_code_write(uint32_t pa, unsigned size) {
  const uint32_t page = pa >> 12;
  cache_.invalidate_range(pa, size ? size : 1);  // the drop hook clears the blocks' cache entries
  if (!cache_.page_has_blocks(page)) mem_.unprotect_code_page(page);
  release_orphaned_pages();  // the other pages of two-page blocks
}

void DbtEngine::release_orphaned_pages() {
  for (const uint32_t p : cache_.take_orphaned_pages())
    if (!cache_.page_has_blocks(p)) mem_.unprotect_code_page(p);
}

}  // namespace popek::dbt
