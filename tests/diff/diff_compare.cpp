#include "tests/diff/diff_compare.h"

#include <cstdio>
#include <map>

namespace popek::diff {
namespace {

constexpr const char* kRegNames[8] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
struct FlagName {
  uint32_t bit;
  const char* name;
};
constexpr FlagName kFlags[] = {{1u << 0, "CF"},  {1u << 2, "PF"},  {1u << 4, "AF"},   {1u << 6, "ZF"},
                               {1u << 7, "SF"},  {1u << 8, "TF"},  {1u << 9, "IF"},   {1u << 10, "DF"},
                               {1u << 11, "OF"}, {1u << 14, "NT"}, {1u << 18, "AC"}, {1u << 21, "ID"}};

std::string hex(uint32_t v, int digits = 8) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*x", digits, v);
  return b;
}

void compare_area(const uint8_t* a, const uint8_t* b, uint32_t base, uint32_t size, const char* name,
                  std::vector<Mismatch>& out) {
  for (uint32_t i = 0; i < size; ++i) {
    if (a[i] == b[i]) continue;
    char what[32];
    std::snprintf(what, sizeof what, "%s[0x%04x]", name, base + i);
    out.push_back({what, a[i], b[i]});
  }
}

}  // namespace

std::string flag_names(uint32_t flags) {
  std::string s;
  for (const FlagName& f : kFlags) {
    if (!(flags & f.bit)) continue;
    if (!s.empty()) s += ' ';
    s += f.name;
  }
  return s.empty() ? "-" : s;
}

std::vector<Mismatch> compare_runs(const RunResult& a, const RunResult& b, uint32_t ignore_flags) {
  std::vector<Mismatch> out;
  if (a.faulted != b.faulted || a.hung != b.hung) {
    out.push_back({"outcome (0 end, 1 fault, 2 out of steps)", a.hung ? 2u : a.faulted ? 1u : 0u,
                   b.hung ? 2u : b.faulted ? 1u : 0u});
  } else if (a.faulted && a.vector != b.vector) {
    out.push_back({"fault vector", a.vector, b.vector});
  }
  if (a.eip != b.eip) out.push_back({"EIP", a.eip, b.eip});
  for (int r = 0; r < 8; ++r)
    if (a.state.regs[r] != b.state.regs[r]) out.push_back({kRegNames[r], a.state.regs[r], b.state.regs[r]});
  const uint32_t flags = kComparedFlags & ~ignore_flags;
  for (const FlagName& f : kFlags) {
    if (!(flags & f.bit)) continue;
    uint32_t fa = (a.state.eflags & f.bit) ? 1 : 0, fb = (b.state.eflags & f.bit) ? 1 : 0;
    if (fa != fb) out.push_back({std::string("EFLAGS.") + f.name, fa, fb});
  }
  compare_area(a.state.data.data(), b.state.data.data(), kDataBase, kDataSize, "data", out);
  compare_area(a.state.stack.data(), b.state.stack.data(), kStackBase, kStackSize, "stack", out);
  return out;
}

std::string format_state(const GuestState& s) {
  std::string out = " ";
  for (int r = 0; r < 8; ++r) out += std::string(" ") + kRegNames[r] + "=" + hex(s.regs[r]);
  out += "\n  EFLAGS=" + hex(s.eflags) + " [" + flag_names(s.eflags & kComparedFlags) + "]";
  return out;
}

std::string format_end(const RunResult& r) {
  char b[160];
  if (r.hung) std::snprintf(b, sizeof b, "out of steps at 0x%08x", r.eip);
  else if (r.faulted) std::snprintf(b, sizeof b, "fault vector %u at 0x%08x", r.vector, r.eip);
  else std::snprintf(b, sizeof b, "reached the end at 0x%08x", r.eip);
  std::string s = b;
  if (!r.note.empty()) s += " (" + r.note + ")";
  return s;
}

std::string format_mismatches(const std::vector<Mismatch>& m, const char* a_name, const char* b_name,
                              size_t max_lines) {
  std::string out;
  for (size_t i = 0; i < m.size() && i < max_lines; ++i) {
    const Mismatch& x = m[i];
    const int digits = x.what.rfind("EFLAGS.", 0) == 0 ? 1 : x.what.find('[') != std::string::npos ? 2 : 8;
    out += "    " + x.what + ": " + a_name + "=" + hex(x.a, digits) + " " + b_name + "=" + hex(x.b, digits) + "\n";
  }
  if (m.size() > max_lines) out += "    ... and " + std::to_string(m.size() - max_lines) + " more\n";
  return out;
}

std::string family_of(const std::string& m) {
  static const std::map<std::string, std::string> kFamilies = {
      {"add", "alu"},       {"adc", "alu"},        {"sub", "alu"},       {"sbb", "alu"},       {"and", "alu"},
      {"or", "alu"},        {"xor", "alu"},        {"cmp", "alu"},       {"test", "alu"},      {"inc", "incdec"},
      {"dec", "incdec"},    {"neg", "negnot"},     {"not", "negnot"},    {"mul", "muldiv"},    {"imul", "muldiv"},
      {"div", "muldiv"},    {"idiv", "muldiv"},    {"shl", "shift"},     {"sal", "shift"},     {"shr", "shift"},
      {"sar", "shift"},     {"rol", "rotate"},     {"ror", "rotate"},    {"rcl", "rotate"},    {"rcr", "rotate"},
      {"shld", "shld"},     {"shrd", "shld"},      {"bt", "bit"},        {"bts", "bit"},       {"btr", "bit"},
      {"btc", "bit"},       {"bsf", "bitscan"},    {"bsr", "bitscan"},   {"bswap", "bswap"},   {"xadd", "atomic"},
      {"cmpxchg", "atomic"}, {"cmpxchg8b", "atomic"}, {"xchg", "atomic"}, {"mov", "move"},     {"movzx", "move"},
      {"movsx", "move"},    {"lea", "move"},       {"xlat", "move"},     {"nop", "move"},      {"cbw", "convert"},
      {"cwde", "convert"},  {"cwd", "convert"},    {"cdq", "convert"},   {"push", "stack"},    {"pop", "stack"},
      {"pusha", "stack"},   {"popa", "stack"},     {"pushad", "stack"},  {"popad", "stack"},   {"pushf", "flagstack"},
      {"popf", "flagstack"}, {"pushfd", "flagstack"}, {"popfd", "flagstack"}, {"enter", "stack"}, {"leave", "stack"},
      {"clc", "flags"},     {"stc", "flags"},      {"cmc", "flags"},     {"cld", "flags"},     {"std", "flags"},
      {"lahf", "flags"},    {"sahf", "flags"},     {"daa", "bcd"},       {"das", "bcd"},       {"aaa", "bcd"},
      {"aas", "bcd"},       {"aam", "bcd"},        {"aad", "bcd"},       {"jmp", "control"},   {"call", "control"},
      {"ret", "control"},   {"loop", "control"},   {"loope", "control"}, {"loopne", "control"}, {"jcxz", "control"},
      {"jecxz", "control"}, {"salc", "bcd"},
  };
  auto it = kFamilies.find(m);
  if (it != kFamilies.end()) return it->second;
  if (m.rfind("cmov", 0) == 0 || m.rfind("set", 0) == 0) return "cmov_setcc";
  if (m.size() == 5 && (m.rfind("movs", 0) == 0 || m.rfind("cmps", 0) == 0 || m.rfind("stos", 0) == 0 ||
                        m.rfind("lods", 0) == 0 || m.rfind("scas", 0) == 0))
    return "string";
  if (m[0] == 'j') return "control";
  return "other";
}

}  // namespace popek::diff
