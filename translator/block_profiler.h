// The translator's hot-block profile (--profile): how often each translated
// block ran, how it was left, and where the host's CPU time went.
//
// Execution counts are exact. With profiling on, every block's entry code
// (after the budget check, so a block that did not run is not counted) adds
// one to its record and stores the record in DbtContext::profile_current;
// when the previous value was a block, that block was left straight into
// this one (a chained jump or an indirect-cache hit). Exits back to the
// dispatcher are classified there from the exit record, and the indirect
// lookups of a block's RET/JMP/CALL r/m are counted inline, so every exit
// kind is known without instrumenting the chained jumps themselves. With
// profiling off none of this is emitted: a normal run pays nothing.
//
// Records outlive translations. They are keyed by (EIP, CS base, physical
// address, mode), so a block that is invalidated (SMC) or flushed and then
// translated again keeps counting in the same record ("retranslated xN").
//
// Time is sampled: a POSIX timer on the running thread's CPU-time clock
// sends SIGPROF every period; the handler (async-signal-safe: atomics and a
// preallocated ring only) records the host RIP, the block record that was
// running and whether the translator was busy. Samples are resolved to
// blocks by code address before the block area is flushed (its addresses
// are then reused) and at the end of the run.
#pragma once
#include <atomic>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "translator/block_disassembly.h"
#include "translator/translation_cache.h"

namespace popek::dbt {

struct BlockProfile;

// Counted by generated code (block_emitter.cpp), addressed by offsetof.
// DbtContext::profile_current points at the running block's counters.
struct BlockCounters {
  uint64_t executions = 0;        // entries past the budget check
  uint64_t transfers_out = 0;     // left straight into another block (chained jump or indirect hit)
  uint64_t indirect_lookups = 0;  // inline indirect-branch cache lookups by its exits
  BlockProfile* owner = nullptr;  // the record holding these counters
};
static_assert(std::is_standard_layout_v<BlockCounters>);

// How a block was left, when it went back to the dispatcher.
enum class ExitKind : uint8_t {
  DirectUnchained,  // a direct exit not chained (yet, or never: another page)
  IndirectMiss,     // RET/JMP/CALL r/m whose target was not in the indirect cache
  Unchained,        // any other exit to the dispatcher (end of block, mid-block exit, REP yield)
  Helper,           // an instruction run by the interpreter asked to leave (control flow, mode, IF...)
  Fault,            // a guest exception was delivered (or the run stopped on an error)
  Budget,           // the next block did not fit in the remaining step budget
  Count,
};
const char* to_string(ExitKind k);

struct BlockProfile {
  BlockCounters counters;  // generated code adds to these
  // Identity (the aggregation key).
  uint32_t eip = 0, cs_base = 0, phys = 0;
  uint16_t mode = 0;
  uint64_t exits[size_t(ExitKind::Count)] = {};
  uint64_t fallbacks = 0;     // instructions of this block run by the interpreter
  uint64_t helper_calls = 0;  // targeted helpers (IN/OUT/CPUID...) run for it
  uint64_t samples_code = 0;     // samples with the host RIP in its code
  uint64_t samples_helpers = 0;  // samples in helpers it called (fallbacks, TLB fills, exit routines)
  uint32_t translations = 0;     // > 1: retranslated after an invalidation or a flush
  uint32_t versions = 0;         // distinct guest byte sequences seen (> 1: the code was rewritten)
  uint64_t host_bytes_total = 0;  // over all its translations, without the counting code
  uint32_t profile_bytes = 0;     // host bytes of the counting code in the latest translation
  // The latest translation, kept for disassembly after the cache dropped it.
  uint32_t insn_count = 0;
  std::vector<uint8_t> guest_code, host_code;
  std::vector<uint32_t> insn_host_offset;
  uint64_t host_address = 0;

  // Exits taken without the dispatcher, split by what the block's code counted.
  uint64_t indirect_hits() const;
  uint64_t chained() const;
  uint64_t samples() const { return samples_code + samples_helpers; }
};

// One sample taken by the SIGPROF handler.
struct ProfileSample {
  uint64_t rip;
  const void* block;  // DbtContext::profile_current at the time (BlockCounters*, or null)
  uint32_t phase;     // kPhase*
  uint32_t pad;
};

// Where the handler writes (one producer: the signal handler; one consumer:
// the same thread, between blocks). Lock-free, no allocation.
struct SampleRing {
  static constexpr uint64_t kCapacity = 1u << 16;
  static constexpr uint32_t kPhaseRunning = 0, kPhaseTranslating = 1;
  std::unique_ptr<ProfileSample[]> slots;
  std::atomic<uint64_t> head{0}, tail{0}, dropped{0};
  void* const volatile* current = nullptr;  // &DbtContext::profile_current
  volatile std::sig_atomic_t phase = kPhaseRunning;
  static_assert(std::atomic<uint64_t>::is_always_lock_free);
};

struct ProfileOptions {
  bool sample = true;               // time sampling (counts are always on)
  uint32_t sample_period_us = 1000;  // CPU time between samples
};

enum class ProfileSort : uint8_t { Time, Count };

// One guest instruction of a block with the host code emitted for it.
struct DisassemblyRow {
  uint32_t eip = 0;
  std::string guest;              // Intel syntax
  std::vector<std::string> host;  // host instructions
};

struct ProfiledBlock {
  const BlockProfile* profile = nullptr;
  double time_share = 0;       // of all samples
  double execution_share = 0;  // of all block executions
  std::vector<std::string> entry;     // host code before the first guest instruction
  std::vector<DisassemblyRow> rows;
  std::vector<std::string> cold;      // out-of-line host code
};

struct ProfileReport {
  ProfileSort sort = ProfileSort::Time;
  bool sampling = false;
  std::string sampling_error;  // why sampling did not start
  uint32_t sample_period_us = 0;
  // Samples by where the host was: in a block's code, in helpers a block
  // called, in the shared run-time routines outside any block, in the
  // translator, and anywhere else (dispatcher, interpreter steps, devices).
  uint64_t samples_total = 0, samples_code = 0, samples_block_helpers = 0, samples_runtime = 0,
           samples_translator = 0, samples_other = 0, samples_dropped = 0;
  uint64_t blocks = 0;        // distinct blocks (records)
  uint64_t translations = 0;  // including retranslations
  uint64_t executions = 0;    // all block executions
  std::vector<ProfiledBlock> top;
};

class BlockProfiler {
 public:
  explicit BlockProfiler(const ProfileOptions& options = {});
  ~BlockProfiler();
  BlockProfiler(const BlockProfiler&) = delete;
  BlockProfiler& operator=(const BlockProfiler&) = delete;

  // The code region: [runtime_begin, runtime_end) holds the shared routines.
  void set_runtime_area(uint64_t runtime_begin, uint64_t runtime_end) {
    runtime_begin_ = runtime_begin;
    runtime_end_ = runtime_end;
  }
  // The record for a block about to be translated (made on first use; its
  // address never changes).
  BlockProfile& record_for(const BlockKey& key, uint32_t eip);
  // After `b` (translated for `p`) is committed to the cache.
  void on_translated(BlockProfile& p, const Block& b);
  // Before the block area is flushed: resolves the pending samples.
  void before_flush();
  void count_exit(BlockProfile* p, ExitKind k) {
    if (p) ++p->exits[size_t(k)];
  }
  // Resolves samples when the ring is half full (call between blocks).
  void poll() {
    if (ring_.head.load(std::memory_order_acquire) - ring_.tail.load(std::memory_order_relaxed) >
        SampleRing::kCapacity / 2)
      drain();
  }
  void set_translating(bool on) {
    ring_.phase = on ? SampleRing::kPhaseTranslating : SampleRing::kPhaseRunning;
  }

  // Starts the sampling timer on the calling thread (the one that runs the
  // blocks); `current` is &DbtContext::profile_current. Returns false with
  // a reason when the timer cannot be made (the counts still work).
  bool start_sampling(void* const volatile* current, std::string& error);
  void stop_sampling();
  bool sampling() const { return timer_armed_; }
  bool wants_sampling() const { return options_.sample; }
  const std::string& sampling_error() const { return sampling_error_; }
  void set_sampling_error(const std::string& e) { sampling_error_ = e; }

  // Stops sampling, resolves what is pending and returns the `top` blocks
  // with their disassembly (`names`: the run-time routines).
  ProfileReport report(size_t top, ProfileSort sort, const std::vector<HostSymbol>& names);

  // Testing: feed one sample as the handler would.
  void add_sample_for_test(uint64_t rip, const BlockCounters* running, uint32_t phase);
  const std::vector<std::unique_ptr<BlockProfile>>& records() const { return records_; }

 private:
  struct KeyHash {
    size_t operator()(const std::tuple<uint32_t, uint32_t, uint32_t, uint16_t>& k) const;
  };
  struct CodeRange {
    uint64_t begin, end;
    BlockProfile* profile;
  };
  void drain();
  void resolve(const ProfileSample& s);

  ProfileOptions options_;
  std::vector<std::unique_ptr<BlockProfile>> records_;
  std::unordered_map<std::tuple<uint32_t, uint32_t, uint32_t, uint16_t>, BlockProfile*, KeyHash> index_;
  std::vector<CodeRange> ranges_;  // blocks in the cache since the last flush, by address
  bool ranges_sorted_ = true;
  uint64_t runtime_begin_ = 0, runtime_end_ = 0;
  SampleRing ring_;
  timer_t timer_{};
  bool timer_armed_ = false;
  std::string sampling_error_;
  uint64_t samples_total_ = 0, samples_runtime_ = 0, samples_translator_ = 0, samples_other_ = 0,
           samples_block_helpers_ = 0, samples_code_ = 0;
};

}  // namespace popek::dbt
