#include "tests/diff/targeted_support.h"

#include <iostream>
#include <sstream>

namespace popek::diff::targeted {
namespace {

constexpr size_t kReports = 3;

// A snippet made of straight-line code (for reports and localization).
Snippet snippet_of(const std::vector<uint8_t>& code, const GuestState& init) {
  Snippet s;
  s.init = init;
  Decoder dec;
  for (size_t off = 0; off < code.size();) {
    DecodedInsn d;
    size_t len = 1;
    if (dec.decode(code.data() + off, code.size() - off, true, true, d) == DecodeStatus::Ok) len = d.insn.length;
    SnippetInsn in;
    in.bytes.assign(code.begin() + static_cast<std::ptrdiff_t>(off),
                    code.begin() + static_cast<std::ptrdiff_t>(off + len));
    s.insns.push_back(std::move(in));
    off += len;
  }
  return s;
}

}  // namespace

GuestState base_state() {
  GuestState s;
  s.regs = {0, 0, 0, kDataBase + 0x400, kInitialEsp, kDataBase + 0x800, kDataBase + 0x600, kDataBase + 0xa00};
  s.eflags = 0x202;
  for (uint32_t i = 0; i < kDataSize; ++i) s.data[i] = static_cast<uint8_t>(i * 7 + 3);
  for (uint32_t i = 0; i < kStackSize; ++i) s.stack[i] = static_cast<uint8_t>(i * 13 + 5);
  return s;
}

DiffHarness& harness() {
  static DiffHarness h(true);
  return h;
}

void Suite::run(const std::vector<uint8_t>& code, const GuestState& init, bool native_only) {
  ++cases_;
  DiffHarness& h = harness();
  CaseOutcome o = h.run(code, init);
  if (native_only || o.unicorn_tainted) ++unicorn_skipped_;
  for (Pair p : {Pair::PopekUnicorn, Pair::PopekNative, Pair::UnicornNative}) {
    if (native_only && p != Pair::PopekNative) continue;
    if (o.of(p).empty()) continue;
    PairLog& log = p == Pair::PopekUnicorn ? pu_ : p == Pair::PopekNative ? pn_ : un_;
    ++log.divergent;
    Snippet s = snippet_of(code, init);
    Culprit c = h.localize(s, p, o);
    ++log.by_culprit[c.key()];
    if (log.reports.size() < kReports) log.reports.push_back(h.report(s, p, o, c, name_));
  }
}

void Suite::expect_clean() {
  std::ostringstream sum;
  sum << "[" << name_ << "] " << cases_ << " cases";
  if (!harness().native_available()) sum << " (native runner unavailable: " << harness().native_why() << ")";
  if (unicorn_skipped_) sum << ", " << unicorn_skipped_ << " not comparable with Unicorn";
  sum << "\n";
  for (Pair p : {Pair::PopekUnicorn, Pair::PopekNative, Pair::UnicornNative}) {
    const PairLog& log = p == Pair::PopekUnicorn ? pu_ : p == Pair::PopekNative ? pn_ : un_;
    sum << "  " << pair_name(p) << ": " << log.divergent << " divergent cases";
    for (const auto& [k, n] : log.by_culprit) sum << "  " << k << "=" << n;
    sum << "\n";
  }
  std::cout << sum.str();
  auto details = [](const PairLog& log) {
    std::string out;
    for (const std::string& r : log.reports) out += r;
    return out;
  };
  EXPECT_EQ(pn_.divergent, 0u) << sum.str() << details(pn_);
  EXPECT_EQ(pu_.divergent, 0u) << sum.str() << details(pu_);
  EXPECT_EQ(un_.divergent, 0u) << "Unicorn disagrees with the real CPU where no known-disagreement entry says so\n"
                               << sum.str() << details(un_);
}

}  // namespace popek::diff::targeted
