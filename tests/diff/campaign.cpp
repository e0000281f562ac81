#include "tests/diff/campaign.h"

#include <cstdio>
#include <sstream>

#include "decoder/decoder.h"

namespace popek::diff {
namespace {

constexpr size_t kReportsPerPair = 40;  // the first divergence of each culprit kind
constexpr uint64_t kLocalizeCap = 3000;  // divergent snippets localized per pair

std::vector<Mismatch> compare_pair(Pair p, const CaseOutcome& o, uint32_t extra_ignore = 0) {
  const uint32_t unicorn_ignore = o.unicorn_flags.undefined() | o.unicorn_flags.unicorn_unreliable();
  switch (p) {
    case Pair::PopekUnicorn: return compare_runs(o.unicorn, o.popek, unicorn_ignore | extra_ignore);
    case Pair::PopekNative:
      return compare_runs(o.native, o.popek, o.popek_flags.emulated_undefined() | extra_ignore);
    default: return compare_runs(o.native, o.unicorn, unicorn_ignore | extra_ignore);
  }
}

const char* first_name(Pair p) { return p == Pair::PopekUnicorn ? "unicorn" : "native"; }
const char* second_name(Pair p) { return p == Pair::UnicornNative ? "unicorn" : "popek"; }

Culprit culprit_at(const Snippet& s, size_t count, uint32_t address) {
  Culprit c;
  std::vector<uint32_t> addr;
  std::vector<uint8_t> code = s.assemble(count, &addr);
  for (size_t i = 0; i + 1 < addr.size(); ++i) {
    if (addr[i] != address) continue;
    DecodedInsn d;
    Decoder dec;
    const uint8_t* p = code.data() + (addr[i] - kCodeBase);
    if (dec.decode(p, addr[i + 1] - addr[i], true, true, d) != DecodeStatus::Ok) break;
    c.index = static_cast<int>(i);
    c.address = address;
    c.text = Decoder::format(d, address);
    c.mnemonic = ZydisMnemonicGetString(d.insn.mnemonic);
    c.family = family_of(c.mnemonic);
    return c;
  }
  c.address = address;
  c.mnemonic = "?";
  c.family = "unknown";
  return c;
}

}  // namespace

const char* pair_name(Pair p) {
  switch (p) {
    case Pair::PopekUnicorn: return "Popek vs Unicorn";
    case Pair::PopekNative: return "Popek vs native";
    default: return "Unicorn vs native";
  }
}

DiffHarness::DiffHarness(bool want_native) {
  if (want_native) native_ = std::make_unique<NativeExecutor>();
}

std::string DiffHarness::native_why() const {
  return native_ ? native_->why_unavailable() : std::string("native runs not requested");
}

CaseOutcome DiffHarness::run(const std::vector<uint8_t>& code, const GuestState& init) {
  CaseOutcome o;
  o.popek = popek_.run(code, init, &o.popek_flags, &o.popek_path);
  o.unicorn = unicorn_.run(code, init, &o.unicorn_flags, &o.unicorn_path);
  o.unicorn_tainted = !o.unicorn_flags.unicorn_comparable() || o.unicorn.unicorn_unrunnable;
  if (!o.unicorn_tainted) o.pu = compare_pair(Pair::PopekUnicorn, o);
  o.have_native = native_available();
  if (o.have_native) {
    o.native = native_->run(code, init);
    o.native_tainted = !o.popek_flags.native_comparable();
    if (!o.native_tainted) o.pn = compare_pair(Pair::PopekNative, o);
    if (!o.unicorn_tainted) o.un = compare_pair(Pair::UnicornNative, o);
    o.pn_masked_emulated = !o.native_tainted && o.pn.empty() && !compare_runs(o.native, o.popek, 0).empty();
    o.un_masked_known = !o.unicorn_tainted && o.un.empty() && !compare_runs(o.native, o.unicorn, o.unicorn_flags.undefined()).empty();
  }
  return o;
}

// A fault on one side only (or at different places) points at the faulting
// instruction directly; otherwise growing prefixes of the snippet are run
// until the pair disagrees, and the last instruction executed is the culprit.
Culprit DiffHarness::localize(const Snippet& s, Pair pair, const CaseOutcome& full) {
  const RunResult& a = pair == Pair::PopekUnicorn ? full.unicorn : full.native;
  const RunResult& b = pair == Pair::UnicornNative ? full.unicorn : full.popek;
  if (a.faulted != b.faulted || (a.faulted && (a.eip != b.eip || a.vector != b.vector))) {
    const RunResult& f = b.faulted ? b : a;
    return culprit_at(s, SIZE_MAX, f.eip);
  }
  for (size_t k = 1; k <= s.insns.size(); ++k) {
    std::vector<uint8_t> code = s.assemble(k);
    CaseOutcome o;
    o.popek = popek_.run(code, s.init, &o.popek_flags, &o.popek_path);
    o.unicorn = unicorn_.run(code, s.init, &o.unicorn_flags, &o.unicorn_path);
    if (pair != Pair::PopekUnicorn) o.native = native_->run(code, s.init);
    if (pair != Pair::PopekNative && (!o.unicorn_flags.unicorn_comparable() || o.unicorn.unicorn_unrunnable)) break;
    if (pair == Pair::PopekNative && !o.popek_flags.native_comparable()) break;
    if (compare_pair(pair, o).empty()) continue;
    const std::vector<uint32_t>& path = pair == Pair::UnicornNative ? o.unicorn_path : o.popek_path;
    if (path.empty()) break;
    return culprit_at(s, k, path.back());
  }
  Culprit c;
  c.mnemonic = "?";
  c.family = "unlocalized";
  return c;
}

std::string DiffHarness::report(const Snippet& s, Pair pair, const CaseOutcome& o, const Culprit& c,
                                const std::string& where) {
  std::ostringstream out;
  out << "=== " << pair_name(pair) << " divergence (" << where << ") ===\n";
  if (c.index >= 0) out << "  first divergent instruction: #" << c.index << " " << c.text << "  [" << c.key() << "]\n";
  else out << "  first divergent instruction: not found by prefix runs\n";
  out << "  snippet:\n";
  std::istringstream lines(disassemble(s));
  std::string line;
  for (int i = 0; std::getline(lines, line); ++i) {
    if (i == c.index && line.size() > 2) line.replace(0, 2, "=>");
    out << "  " << line << "\n";
  }
  out << "  initial state:\n  " << format_state(s.init) << "\n";
  const RunResult& a = pair == Pair::PopekUnicorn ? o.unicorn : o.native;
  const RunResult& b = pair == Pair::UnicornNative ? o.unicorn : o.popek;
  out << "  " << first_name(pair) << ": " << format_end(a) << "\n";
  out << "  " << second_name(pair) << ": " << format_end(b) << "\n";
  uint32_t ignored = pair == Pair::PopekNative
                         ? o.popek_flags.emulated_undefined()
                         : o.unicorn_flags.undefined() | o.unicorn_flags.unicorn_unreliable();
  out << "  flags not compared: " << flag_names(ignored) << "\n";
  out << "  differences:\n" << format_mismatches(o.of(pair), first_name(pair), second_name(pair));
  return out.str();
}

std::string CampaignStats::summary() const {
  std::ostringstream out;
  char seedbuf[32];
  std::snprintf(seedbuf, sizeof seedbuf, "0x%llx", static_cast<unsigned long long>(seed));
  out << "Differential campaign: seed " << seedbuf << ", " << snippets << " snippets, " << insns_generated
      << " instructions generated, " << popek_steps << " Popek steps executed\n";
  out << "  snippets ending in the same fault on every executor: " << all_faulted_alike << "\n";
  out << "  generator rejects (encodings that failed validation): " << generator_rejects << "\n";
  if (!native) out << "  native runs: unavailable (" << native_why << ")\n";
  out << "  snippets consuming an undefined flag (compared with native only): " << unicorn_tainted << "\n";
  out << "  snippets consuming a BCD-undefined flag (not compared with native): " << native_tainted << "\n";
  out << "  Popek vs native, masked BCD-undefined-flag differences: " << pn_masked_emulated << " snippets\n";
  out << "  Unicorn vs native, differences covered by the known-disagreement table: " << un_masked_known
      << " snippets\n";
  for (Pair p : {Pair::PopekUnicorn, Pair::PopekNative, Pair::UnicornNative}) {
    const PairStats& ps = p == Pair::PopekUnicorn ? pu : p == Pair::PopekNative ? pn : un;
    if (p != Pair::PopekUnicorn && !native) continue;
    out << "  " << pair_name(p) << ": " << ps.divergent << " divergent snippets";
    if (ps.unlocalized) out << " (" << ps.unlocalized << " not localized)";
    out << "\n";
    for (const auto& [key, b] : ps.by_culprit) {
      char line[200];
      std::snprintf(line, sizeof line, "    %-28s %6llu   e.g. %s\n", key.c_str(),
                    static_cast<unsigned long long>(b.snippets), b.example.c_str());
      out << line;
    }
  }
  return out.str();
}

CampaignStats run_campaign(uint64_t seed, uint64_t total_insns, unsigned per_snippet, bool want_native) {
  CampaignStats st;
  st.seed = seed;
  InsnGenerator gen(seed);
  DiffHarness h(want_native);
  st.native = h.native_available();
  st.native_why = h.native_why();
  while (st.insns_generated < total_insns) {
    Snippet s = gen.make(per_snippet);
    st.insns_generated += s.insns.size();
    const uint64_t steps_before = h.popek_steps();
    CaseOutcome o = h.run(s);
    st.popek_steps += h.popek_steps() - steps_before;
    const uint64_t index = st.snippets++;
    if (o.popek.faulted && o.unicorn.faulted && o.popek.vector == o.unicorn.vector &&
        (!o.have_native || (o.native.faulted && o.native.vector == o.popek.vector)))
      ++st.all_faulted_alike;
    st.pn_masked_emulated += o.pn_masked_emulated;
    st.un_masked_known += o.un_masked_known;
    st.unicorn_tainted += o.unicorn_tainted;
    st.native_tainted += o.native_tainted;
    for (Pair p : {Pair::PopekUnicorn, Pair::PopekNative, Pair::UnicornNative}) {
      if (o.of(p).empty()) continue;
      CampaignStats::PairStats& ps = st.of(p);
      ++ps.divergent;
      if (ps.divergent > kLocalizeCap) {
        ++ps.unlocalized;
        continue;
      }
      Culprit c = h.localize(s, p, o);
      CampaignStats::Bucket& b = ps.by_culprit[c.key()];
      const bool first_of_kind = b.snippets++ == 0;
      if (first_of_kind) b.example = c.text;
      if (first_of_kind && ps.reports.size() < kReportsPerPair) {
        char where[96];
        std::snprintf(where, sizeof where, "seed 0x%llx, snippet %llu", static_cast<unsigned long long>(seed),
                      static_cast<unsigned long long>(index));
        ps.reports.push_back(h.report(s, p, o, c, where));
      }
    }
  }
  st.generator_rejects = gen.rejected();
  return st;
}

}  // namespace popek::diff
