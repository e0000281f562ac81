// The differential harness proper: runs a snippet on Popek, Unicorn and the
// real CPU, compares them pairwise with the right flag masks, localizes a
// divergence to the instruction that introduces it, and aggregates the
// random-stream campaign's statistics by instruction family.
//
// Masks, per comparison:
//  Popek vs Unicorn   flags undefined along the path, plus flags after an
//                     instruction in the known Unicorn-disagreement table;
//  Popek vs native    nothing, except undefined flags left by the BCD group,
//                     which Popek emulates in C++ (counted, reported);
//  Unicorn vs native  as Popek vs Unicorn: what remains is an unlisted
//                     Unicorn bug (or a harness problem) and fails the audit.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/diff/diff_compare.h"
#include "tests/diff/executors.h"
#include "tests/diff/insn_gen.h"

namespace popek::diff {

enum class Pair { PopekUnicorn, PopekNative, UnicornNative };
const char* pair_name(Pair p);

struct CaseOutcome {
  RunResult popek, unicorn, native;
  bool have_native = false;
  FlagTracker popek_flags, unicorn_flags;
  std::vector<uint32_t> popek_path, unicorn_path;
  std::vector<Mismatch> pu, pn, un;
  bool pn_masked_emulated = false;  // Popek and native differ only in BCD-undefined flags
  bool un_masked_known = false;     // Unicorn and native differ only in known-disagreement flags
  bool unicorn_tainted = false;     // an undefined flag was consumed: Unicorn not compared
  bool native_tainted = false;      // a BCD-undefined flag was consumed: native not compared
  const std::vector<Mismatch>& of(Pair p) const {
    return p == Pair::PopekUnicorn ? pu : p == Pair::PopekNative ? pn : un;
  }
};

struct Culprit {
  int index = -1;  // instruction index in the snippet; -1 if not found
  uint32_t address = 0;
  std::string text;      // disassembly
  std::string mnemonic;
  std::string family;
  std::string key() const { return family + "/" + mnemonic; }
};

class DiffHarness {
 public:
  explicit DiffHarness(bool want_native = true);
  bool native_available() const { return native_ && native_->available(); }
  std::string native_why() const;

  CaseOutcome run(const std::vector<uint8_t>& code, const GuestState& init);
  CaseOutcome run(const Snippet& s) { return run(s.assemble(), s.init); }
  // The instruction after which `pair` first disagrees (prefix runs).
  Culprit localize(const Snippet& s, Pair pair, const CaseOutcome& full);
  std::string report(const Snippet& s, Pair pair, const CaseOutcome& o, const Culprit& c,
                     const std::string& where);
  uint64_t popek_steps() const { return popek_.steps(); }

 private:
  PopekExecutor popek_;
  UnicornExecutor unicorn_;
  std::unique_ptr<NativeExecutor> native_;
};

struct CampaignStats {
  struct Bucket {
    uint64_t snippets = 0;
    std::string example;  // culprit text of the first one
  };
  struct PairStats {
    uint64_t divergent = 0;
    uint64_t unlocalized = 0;
    std::map<std::string, Bucket> by_culprit;  // "family/mnemonic"
    std::vector<std::string> reports;          // the first few, in full
  };
  uint64_t seed = 0;
  uint64_t snippets = 0;
  uint64_t insns_generated = 0;
  uint64_t popek_steps = 0;
  uint64_t all_faulted_alike = 0;  // snippets ending in the same fault everywhere
  uint64_t pn_masked_emulated = 0;
  uint64_t un_masked_known = 0;
  uint64_t unicorn_tainted = 0;
  uint64_t native_tainted = 0;
  unsigned generator_rejects = 0;
  bool native = false;
  std::string native_why;
  PairStats pu, pn, un;
  PairStats& of(Pair p) { return p == Pair::PopekUnicorn ? pu : p == Pair::PopekNative ? pn : un; }
  std::string summary() const;
};

// Runs random snippets of `per_snippet` instructions until `total_insns`
// have been generated.
CampaignStats run_campaign(uint64_t seed, uint64_t total_insns, unsigned per_snippet, bool want_native);

}  // namespace popek::diff
