// The translation cache: one fixed executable region holding the shared
// run-time routines (emitted once, never flushed) and translated blocks
// (bump allocated; the whole block area is flushed when it fills), plus the
// block index and the translator's statistics.
//
// Blocks are found by (linear EIP, mode key, CS base and limit, physical
// address of the first byte). The physical address makes a block found
// through a linear address whose mapping changed (CR3 switch, PTE edit)
// a miss rather than stale code. The key index is an open-addressing table
// (block_index.h). A page index lists the blocks of each
// physical page with a bitmap of the guest bytes they were translated from,
// so that a write into a code page invalidates only the blocks whose bytes
// it overlaps (see invalidate_range).
//
// W^X: the region (CodeRegion, code_region.h) is never writable and
// executable in one mapping. Every address here (Block::code, the areas,
// next_code_address) is in the execute view; every write to the region goes
// through CodeRegion::write(), which copies through the write view.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "decoder/decoder.h"
#include "translator/block_index.h"
#include "translator/code_region.h"

namespace popek::dbt {

// Mode bits of the block key: what the emitted code or its decoding assumed.
namespace mode_bit {
constexpr uint16_t kCode32 = 1 << 0;   // CS.D
constexpr uint16_t kStack32 = 1 << 1;  // SS.B
constexpr uint16_t kPe = 1 << 2;       // CR0.PE
constexpr uint16_t kVm = 1 << 3;       // EFLAGS.VM
constexpr uint16_t kPg = 1 << 4;       // CR0.PG
constexpr uint16_t kFlat = 1 << 5;     // CS/DS/ES/SS: base 0, limit 4 GiB, usable
constexpr uint16_t kCplShift = 6;      // two bits of CPL
// Alignment checking is on (CR0.AM, EFLAGS.AC, CPL 3): every access takes
// the slow path, where the interpreter raises #AC.
constexpr uint16_t kAlignCheck = 1 << 8;
}  // namespace mode_bit

struct Block;
struct BlockProfile;

// A point in a block where one guest instruction runs in the interpreter
// (not translated natively yet, or its memory access missed the fast path).
struct FallbackSite {
  Block* block;
  uint32_t eip;               // guest EIP of the instruction
  uint32_t next_eip;          // where the block continues if control flow did not change
  uint32_t unretired_before;  // block slots not yet executed when it starts (n - k)
  uint16_t index;             // k: instruction index in the block
  uint8_t flags;              // site_flag
  uint8_t helper;             // TargetedHelper: a direct C++ implementation to try first
  uint16_t mnemonic;          // ZydisMnemonic, for the statistics
  uint8_t io_size;            // IN/OUT: bytes
  uint8_t pad;
  int32_t io_port;            // IN/OUT: the immediate port, or -1 for DX
  const DecodedInsn* insn;    // Predecoded: the instruction (owned by the block)
};

// Sensitive instructions run by a targeted C++ helper from the fallback
// site instead of Interpreter::step() (no decode, no handler dispatch).
// The helper declines (and step() runs) whenever the instruction would
// fault, so the interpreter still raises every exception.
// Predecoded: the interpreter's handler on the block's DecodedInsn
// (translator/predecoded_helper.h).
enum class TargetedHelper : uint8_t { None = 0, In, Out, Rdtsc, Cpuid, Rdmsr, Wrmsr, Predecoded };
namespace site_flag {
constexpr uint8_t kAlwaysExit = 1;  // the block ends after it (control transfer, ends-block class)
constexpr uint8_t kMemorySlowPath = 2;  // reached because a native memory access missed
constexpr uint8_t kControlTransfer = 4;  // changes EIP by design (not a sign of a fault)
// A memory slow path whose TLB fill, when it fails with a page fault, has
// found the instruction's first fault: the helper delivers that #PF itself
// instead of re-running the instruction in the interpreter (insn_plan.h
// fill_fault_is_exact).
constexpr uint8_t kFillFaultExact = 8;
}  // namespace site_flag

// A direct exit of a block (Jcc, JMP rel, fall-through at the block's end).
// Its code starts with `jmp rel32` (patch_offset is the rel32's offset in
// the block's code): 0 falls through to the unchained exit, which records
// this stub in DbtContext::chain_from; the dispatcher then patches the jump
// to the target block when it may (same guest page, same mode).
struct ExitStub {
  Block* block = nullptr;
  uint32_t patch_offset = 0;
  uint32_t target_eip = 0;
  Block* chained_to = nullptr;
};

// The return-prediction link of a block that ends in a near CALL: the
// checked entry of the block at its return address, valid while `epoch`
// equals DbtContext::ret_epoch (dbt_context.h, ReturnStackEntry). Filled by
// the RET that returns there (on an indirect-cache hit) or by the
// dispatcher (after a miss). Generated code reads and writes it.
struct ReturnLink {
  const void* code = nullptr;
  uint64_t epoch = 0;  // 0: never valid (the context's epoch starts at 1)
};
static_assert(offsetof(ReturnLink, code) == 0 && offsetof(ReturnLink, epoch) == 8);

// Block::page2 when the block holds bytes of one page only.
constexpr uint32_t kNoPage2 = 0xffffffffu;

struct Block {
  BlockKey key;
  uint32_t eip = 0;             // guest EIP of the first instruction
  uint32_t guest_bytes = 0;
  uint32_t insn_count = 0;      // block slots (guest instructions)
  uint32_t native_count = 0;    // instructions emitted as host code
  const uint8_t* code = nullptr;
  uint32_t code_size = 0;
  // Offset in `code` of the checked entry, the lookup cache's way in: it
  // runs the block only if r9 holds its tag (lookup_tag: mode << 32 | EIP).
  uint32_t checked_entry_offset = 0;
  // A block whose last instruction continues on the next linear page holds
  // bytes of two physical pages: page2 is the second one's page number (the
  // key's phys names the first). It runs only while the next linear page
  // still maps there (TranslationCache::lookup), it is in both pages' SMC
  // index, and it is entered only through the dispatcher's full lookup:
  // never chained into, never in the front or lookup cache (their entries
  // die with the first page's mapping only).
  uint32_t page2 = kNoPage2;
  // The block stopped before such an instruction because the next page was
  // not usable (not present, not yet accessed, not RAM): a lookup replaces
  // it once the page is.
  bool cut_at_page2 = false;
  bool valid = true;
  std::unique_ptr<FallbackSite[]> sites;
  uint32_t site_count = 0;
  ExitStub exits[2];                     // chainable exits (at most two: Jcc)
  uint32_t exit_count = 0;
  std::vector<ExitStub*> incoming;       // patched jumps into this block
  std::vector<uint8_t> guest_code;       // the guest bytes, for disassembly
  std::vector<std::unique_ptr<DecodedInsn>> decoded;  // of the Predecoded sites
  std::vector<uint32_t> insn_host_offset;  // per guest instruction, then the end of the body
  ReturnLink return_link;                  // blocks ending in a near CALL (see ReturnLink)
  BlockProfile* profile = nullptr;         // --profile: its record (block_profiler.h)
  uint32_t profile_bytes = 0;              // --profile: host bytes of the counting code in it
};

// Why the dispatcher let the interpreter take a step (DbtStats::interp_reasons).
enum class InterpReason : uint8_t {
  Halted,        // HLT: waiting for an interrupt
  Interrupt,     // an interrupt or NMI is deliverable
  Shadow,        // the STI / MOV SS interrupt shadow
  TrapFlag,      // EFLAGS.TF or RF
  Breakpoint,    // DR7 arms an instruction breakpoint
  FetchFault,    // the fetch of the first byte faults (the interpreter delivers it)
  NotRam,        // code in MMIO or unmapped memory
  NoBlock,       // the first instruction cannot start a block (CS limit, undecodable, page end)
  DoesNotFit,    // the block is longer than the steps left in the slice
  Other,
};
constexpr unsigned kInterpReasons = 10;
const char* to_string(InterpReason r);

struct DbtStats {
  uint64_t lookups = 0, hits = 0, misses = 0;
  uint64_t front_hits = 0;  // hits in the dispatcher's front cache (no fetch translation, no key index)
  uint64_t blocks_translated = 0, guest_insns_translated = 0, host_bytes = 0;
  uint64_t two_page_blocks = 0;  // blocks whose last instruction continues on the next page
  uint64_t chain_patches = 0, chain_unpatches = 0, unchained_exits = 0;
  uint64_t indirect_hits = 0, indirect_misses = 0;
  uint64_t return_predictions = 0;  // RETs that went to their CALL's return link (not counted above)
  // Direct exits to another guest page, through the lookup cache.
  uint64_t cross_page_hits = 0, cross_page_misses = 0;
  uint64_t smc_invalidations = 0, flushes = 0;
  uint64_t fallbacks = 0;          // guest instructions run by the interpreter from blocks
  uint64_t interpreter_steps = 0;  // steps the dispatcher gave to the interpreter
  // Why the dispatcher gave them (InterpReason), for --stats.
  uint64_t interp_reasons[10] = {};
  uint64_t tlb_fills = 0, tlb_fill_failures = 0, tlb_flushes = 0;
  uint64_t tlb_page_flushes = 0;   // single-page invalidations (INVLPG, page faults)
  uint64_t retired_native = 0;     // guest instructions retired by host code
  uint64_t retired_total = 0;      // every step (instruction, fault or interrupt)
  // Block entries without the dispatcher: patched direct jumps (chained
  // exits), inline indirect-cache hits and cross-page lookup hits. Derived
  // from inline counters (DbtContext::block_entries, ib_lookups,
  // checked_entries) when read through DbtEngine.
  uint64_t chained_exits = 0;
  uint64_t sensitive_helper_calls = 0;  // targeted helpers (IN/OUT/RDTSC) that ran the instruction
  uint64_t memory_slow_paths = 0;       // fallbacks reached from a native access's slow path
  // Page faults delivered without re-running the instruction in the
  // interpreter (and without a C++ exception): found by the dispatcher's
  // instruction fetch, or by a translated access's TLB fill.
  uint64_t direct_fetch_faults = 0, direct_fill_faults = 0;
  uint64_t translation_ns = 0;          // host time in DbtEngine::translate (flushes included)
  const char* tc_wx = "";  // the cache's W^X mode (to_string(WxMode)), for --stats
  std::unordered_map<uint16_t, uint64_t> fallbacks_by_mnemonic;  // generic fallbacks, per ZydisMnemonic
  // The `n` mnemonics with the most generic fallbacks, most first.
  std::vector<std::pair<std::string, uint64_t>> top_fallbacks(size_t n) const;
  std::string to_json() const;
};

// What TranslationCache::check() needs from its owner beyond the cache: the
// run-time routine entries block code may branch to, and the engine's
// tables of indirect targets (the indirect-branch cache, ...). New kinds of
// jump targets are added here, as data, not as new checker code.
struct CacheCheckInput {
  struct Routine {
    uint64_t address;
    const char* name;
  };
  struct IndirectTable {
    const char* name;
    std::vector<std::pair<uint32_t, const void*>> entries;  // guest EIP -> code
    std::vector<uint64_t> allowed;  // non-block targets an entry may hold (the miss routine)
  };
  std::vector<Routine> routines;
  std::vector<IndirectTable> tables;
  bool decode_code = true;       // disassemble every block and check each branch target
  bool allow_indirect_jumps = true;   // jmp reg/mem in block code (targets come from the tables)
  bool allow_indirect_calls = false;  // call reg/mem in block code
  size_t max_problems = 64;
};

class TranslationCache {
 public:
  static constexpr size_t kDefaultCodeBytes = 32u << 20;
  static constexpr size_t kRuntimeBytes = 16u << 10;

  explicit TranslationCache(size_t code_bytes = kDefaultCodeBytes, WxMode wx = WxMode::Dual);

  // The run-time routine area (before the block area, a guard between).
  uint8_t* runtime_area() { return region_.runtime_base(); }
  size_t runtime_capacity() const { return kRuntimeBytes; }

  // Where the next block's code will be placed, and the room left.
  uint64_t next_code_address() const { return reinterpret_cast<uint64_t>(cursor_); }
  size_t free_bytes() const { return static_cast<size_t>(end_ - cursor_); }
  size_t block_area_bytes() const { return static_cast<size_t>(end_ - block_area_); }
  // Copies `size` bytes of code to next_code_address(). Returns nullptr,
  // copying nothing, if they do not fit (the caller flushes and retries).
  const uint8_t* commit_code(const void* code, size_t size);
  CodeRegion& region() { return region_; }
  const CodeRegion& region() const { return region_; }
  WxMode wx_mode() const { return region_.mode(); }

  // Finds a valid block; counts the lookup. A block that depends on the
  // next linear page (Block::page2, cut_at_page2) is returned only if
  // `page2(ctx)` (the physical page that page maps to now, usable for code,
  // or kNoPage2; called at most once) says it still fits; otherwise it is
  // discarded (its pages may become orphaned, see take_orphaned_pages) and
  // the lookup misses.
  using Page2Probe = uint32_t (*)(void* ctx);
  Block* lookup(const BlockKey& key, Page2Probe page2 = nullptr, void* ctx = nullptr);
  // Adds a translated block to the index and the page index.
  Block* insert(std::unique_ptr<Block> block);
  // Called with each block as it is invalidated (invalidate_page,
  // invalidate_range), before its code pointer may be reused: the owner
  // drops the block from the tables it keeps outside the cache (the lookup
  // cache, the dispatcher's front cache). flush() calls nothing: everything
  // goes.
  using DropHook = void (*)(void* ctx, const Block& b);
  void set_drop_hook(DropHook hook, void* ctx) {
    drop_hook_ = hook;
    drop_hook_ctx_ = ctx;
  }
  // Invalidates every block on a physical page, unpatching the chained jumps
  // into them. Returns how many.
  unsigned invalidate_page(uint32_t phys_page);
  // A guest write to [pa, pa + len) (one page, len >= 1) of a page that
  // holds blocks: invalidates the blocks whose guest bytes it overlaps and
  // returns how many. A write that overlaps none only counts its bytes;
  // after kDataWriteLimit such bytes since the page last got a block (data
  // that shares a page with code), every block of the page goes, so that
  // the caller can give the page its direct write path back.
  unsigned invalidate_range(uint32_t pa, uint32_t len);
  static constexpr uint32_t kDataWriteLimit = 512;
  // Whether a guest byte is covered by a valid block (tests, tracing).
  bool is_code_byte(uint32_t pa) const;
  // Points a stub's jump at `target` (its code entry), or back at the stub's
  // own unchained exit.
  void chain(ExitStub& stub, Block& target);
  void unchain(ExitStub& stub);
  bool page_has_blocks(uint32_t phys_page) const;
  // Physical pages that hold blocks.
  std::vector<uint32_t> code_pages() const;
  // Pages whose last block went because a two-page block was invalidated
  // through its other page or discarded by lookup, since the last call: the
  // owner unprotects them (invalidate_range's own page is the caller's).
  std::vector<uint32_t> take_orphaned_pages() { return std::exchange(orphaned_, {}); }
  // Drops every block and empties the block area.
  void flush();
  size_t block_count() const { return live_blocks_; }

  DbtStats& stats() { return stats_; }
  const DbtStats& stats() const { return stats_; }

  // Walks the whole cache and returns its inconsistencies, one line each
  // (empty: none): every block's code inside the used block area and
  // disjoint from the others; every branch in it to its own instruction
  // boundaries, a run-time routine entry, or (a direct exit's patched
  // rel32) its own unchained exit or the entry of a valid block that lists
  // the exit in `incoming`; the key and page indexes agreeing; no
  // chained jump into an invalid block; every indirect-table entry a valid
  // block's entry for that EIP or an allowed routine. (cache_check.cpp)
  std::vector<std::string> check(const CacheCheckInput& in = {}) const;

 private:
  friend struct TranslationCacheTestAccess;  // tests corrupt the index on purpose
  CodeRegion region_;
  uint8_t* block_area_;
  uint8_t* cursor_;
  uint8_t* end_;
  std::vector<std::unique_ptr<Block>> blocks_;  // owned until the next flush
  BlockIndex index_;  // the valid blocks by key
  // The valid blocks with bytes on a physical page (a two-page block is
  // listed under both) and the bytes they cover there, one bit per byte.
  struct CodePage {
    std::vector<Block*> blocks;
    uint64_t code_bits[64] = {};
    uint32_t data_write_bytes = 0;
    void mark(const Block& b, uint32_t page);  // b's bytes on physical page `page`
    bool overlaps(uint32_t offset, uint32_t len) const;
  };
  // Invalidates one block (unlink, unchain). The page index of `listed_page`
  // is the caller's; a two-page block also leaves the other page's index.
  void drop(Block* b, uint32_t listed_page);
  void detach(Block* b, uint32_t phys_page);  // removes b from a page's index
  // The bytes [first, end) of b on physical page `page` (empty if none).
  static std::pair<uint32_t, uint32_t> range_on(const Block& b, uint32_t page);
  std::unordered_map<uint32_t, CodePage> by_page_;
  std::vector<uint32_t> orphaned_;  // see take_orphaned_pages()
  DropHook drop_hook_ = nullptr;
  void* drop_hook_ctx_ = nullptr;
  size_t live_blocks_ = 0;
  DbtStats stats_;
};

}  // namespace popek::dbt
