// Generator core: operand construction under the memory invariants, the
// emit/validate/track step, snippet assembly and the driving loop. The
// instruction families themselves live in insn_gen_alu.cpp and
// insn_gen_flow.cpp.
#include "tests/diff/insn_gen.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "core/interpreter.h"
#include "tests/diff/flag_tracker.h"

namespace popek::diff {
namespace {

constexpr uint32_t kMaxBaseWidth = 0x400;  // widest known range usable for addressing
constexpr uint32_t kStackSlack = 64;       // ESP stays this far inside the stack area

struct Region {
  uint32_t lo, hi;  // [lo, hi)
};
constexpr Region kRegions[2] = {{kDataBase, kDataBase + kDataSize}, {kStackBase, kStackBase + kStackSize}};

bool inside_some_region(uint32_t lo, uint64_t end) {
  for (const Region& r : kRegions)
    if (lo >= r.lo && end <= r.hi) return true;
  return false;
}

}  // namespace

uint32_t Rng::interesting(unsigned bits) {
  const uint32_t mask = bits >= 32 ? 0xffffffffu : (1u << bits) - 1;
  const uint32_t sign = 1u << (bits - 1);
  switch (below(12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return mask;
    case 3: return sign;
    case 4: return sign - 1;
    case 5: return (sign + 1) & mask;
    case 6: return below(16);
    case 7: return (mask - below(16)) & mask;
    case 8: return (sign + (below(16) - 8)) & mask;
    default: return next() & mask;
  }
}

// ---------------------------------------------------------------- assembly

std::vector<uint8_t> Snippet::assemble(size_t count, std::vector<uint32_t>* offsets) const {
  const size_t n = std::min(count, insns.size());
  std::vector<SnippetInsn> v(insns.begin(), insns.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<uint32_t> addr(n + 1);
  for (int pass = 0; pass < 64; ++pass) {
    uint32_t a = kCodeBase;
    for (size_t i = 0; i < n; ++i) {
      addr[i] = a;
      a += static_cast<uint32_t>(v[i].bytes.size());
    }
    addr[n] = a;
    bool widened = false;
    for (size_t i = 0; i < n; ++i) {
      SnippetInsn& in = v[i];
      if (in.fixup != SnippetInsn::Fixup::Rel8) continue;
      uint32_t target = (in.target < 0 || static_cast<size_t>(in.target) >= n) ? addr[n] : addr[in.target];
      int64_t rel = static_cast<int64_t>(target) - (addr[i] + in.bytes.size());
      if (rel >= -128 && rel <= 127) continue;
      uint8_t op = in.bytes[in.fixup_at - 1];
      if (in.fixup_at != 1) throw std::runtime_error("rel8 branch with prefixes cannot be widened");
      if (op == 0xeb) {
        in.bytes = {0xe9, 0, 0, 0, 0};
        in.fixup_at = 1;
      } else if (op >= 0x70 && op <= 0x7f) {
        in.bytes = {0x0f, static_cast<uint8_t>(op + 0x10), 0, 0, 0, 0};
        in.fixup_at = 2;
      } else {
        throw std::runtime_error("LOOP/JCXZ target out of rel8 range");
      }
      in.fixup = SnippetInsn::Fixup::Rel32;
      widened = true;
    }
    if (!widened) break;
  }
  std::vector<uint8_t> code;
  for (size_t i = 0; i < n; ++i) {
    SnippetInsn in = v[i];
    uint32_t target = (in.target < 0 || static_cast<size_t>(in.target) >= n) ? addr[n] : addr[in.target];
    uint32_t next = addr[i] + static_cast<uint32_t>(in.bytes.size());
    switch (in.fixup) {
      case SnippetInsn::Fixup::None: break;
      case SnippetInsn::Fixup::Rel8: in.bytes[in.fixup_at] = static_cast<uint8_t>(target - next); break;
      case SnippetInsn::Fixup::Rel32:
        for (int k = 0; k < 4; ++k) in.bytes[in.fixup_at + k] = static_cast<uint8_t>((target - next) >> (8 * k));
        break;
      case SnippetInsn::Fixup::Abs32:
        for (int k = 0; k < 4; ++k) in.bytes[in.fixup_at + k] = static_cast<uint8_t>(target >> (8 * k));
        break;
    }
    code.insert(code.end(), in.bytes.begin(), in.bytes.end());
  }
  if (code.size() > kCodeMax) throw std::runtime_error("snippet larger than the code area");
  if (offsets) *offsets = addr;
  return code;
}

std::string disassemble(const Snippet& s, size_t count) {
  std::vector<uint32_t> addr;
  std::vector<uint8_t> code = s.assemble(count, &addr);
  Decoder dec;
  std::string out;
  for (size_t i = 0; i + 1 < addr.size(); ++i) {
    const uint8_t* p = code.data() + (addr[i] - kCodeBase);
    size_t len = addr[i + 1] - addr[i];
    DecodedInsn d;
    char head[96];
    int k = std::snprintf(head, sizeof head, "  %2zu  %08x  ", i, addr[i]);
    for (size_t b = 0; b < len && k < 80; ++b) k += std::snprintf(head + k, sizeof head - k, "%02x", p[b]);
    out += head;
    out.append(k < 60 ? 60 - k : 1, ' ');
    if (dec.decode(p, len, true, true, d) == DecodeStatus::Ok) out += Decoder::format(d, addr[i]);
    else out += "(undecodable)";
    out += '\n';
  }
  char tail[48];
  std::snprintf(tail, sizeof tail, "      %08x  (end)\n", addr.back());
  out += tail;
  return out;
}

// ---------------------------------------------------------------- choices and operands

unsigned GenContext::opsize() { return rng.chance(opt.opsize16_percent) ? 16 : 32; }

unsigned GenContext::any_size() { return rng.chance(30) ? 8 : opsize(); }

unsigned GenContext::dest_reg(unsigned size) {
  if (size == 8) return rng.below(8);
  unsigned r = rng.below(7);
  return r >= ESP ? r + 1 : r;
}

std::vector<uint8_t> GenContext::le(uint32_t v, unsigned bytes) {
  std::vector<uint8_t> out(bytes);
  for (unsigned i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

RmOperand GenContext::reg_operand(unsigned reg) const {
  RmOperand r;
  r.is_reg = true;
  r.reg = reg & 7;
  return r;
}

// Picks an address in the data or stack area for an access whose base sum
// lies in [sum_lo, sum_lo + width] (mod `mask`+1), with a displacement that
// must stay in [dmin, dmax]; returns the address the sum's low end maps to.
bool GenContext::place(uint64_t sum_lo64, uint32_t width, unsigned size, uint32_t before, uint32_t after,
                            uint32_t mask, int32_t dmin, int32_t dmax, uint32_t& ea_lo) {
  const uint32_t sum_lo = static_cast<uint32_t>(sum_lo64) & mask;
  const Region& r = kRegions[rng.chance(80) ? 0 : 1];
  const uint64_t need = uint64_t{before} + width + size + after;
  if (need > r.hi - r.lo) return false;
  uint32_t a = r.lo + before;                                   // lowest valid ea_lo
  uint32_t b = static_cast<uint32_t>(r.hi - width - size - after);  // highest valid ea_lo
  // Addresses reachable with a displacement in [dmin, dmax]: start + k, k <= span.
  const uint64_t span = static_cast<uint64_t>(int64_t{dmax} - dmin);
  if (span < mask) {
    const uint32_t start = (sum_lo + static_cast<uint32_t>(dmin)) & mask;
    uint32_t lo, hi;
    uint32_t ka = (a - start) & mask;
    if (ka <= span) {
      lo = a;
      hi = static_cast<uint32_t>(std::min<uint64_t>(b, a + (span - ka)));
    } else if (((start - a) & mask) <= b - a) {
      lo = start;
      hi = static_cast<uint32_t>(std::min<uint64_t>(b, start + span));
    } else {
      return false;
    }
    if (lo > hi) return false;
    a = lo;
    b = hi;
  }
  if (!place_atomic_) {
    ea_lo = a + rng.below(b - a + 1);
    return true;
  }
  if (width + size > 64) return false;
  for (int tries = 0; tries < 32; ++tries) {
    uint32_t ea = a + rng.below(b - a + 1);
    if ((ea & 63) + width + size <= 64) {
      ea_lo = ea;
      return true;
    }
  }
  return false;
}

namespace {
uint8_t random_seg_prefix(Rng& rng) {
  static constexpr uint8_t kSegs[3] = {0x26, 0x36, 0x3e};  // ES SS DS: flat everywhere (CS is not writable)
  return rng.chance(10) ? kSegs[rng.below(3)] : 0;
}
constexpr uint8_t kNoIndex = 4;  // SIB.index = 100b
}  // namespace

std::optional<RmOperand> GenContext::try_mem32(unsigned size, uint32_t before, uint32_t after,
                                               bool allow_esp_base) {
  std::vector<unsigned> bases, indexes;
  for (unsigned r = 0; r < 8; ++r) {
    if (!reg_known(r, kMaxBaseWidth) || (avoid_ >> r & 1)) continue;
    if (r != ESP || allow_esp_base) bases.push_back(r);
    if (r != ESP) indexes.push_back(r);
  }
  const unsigned form = rng.below(5);  // 0 [b] 1 [b+d8] 2 [b+d32] 3 [b+i*s+d] 4 [i*s+d32]
  const bool need_base = form <= 3, need_index = form >= 3;
  if ((need_base && bases.empty()) || (need_index && indexes.empty())) return std::nullopt;
  const unsigned base = need_base ? bases[rng.below(static_cast<uint32_t>(bases.size()))] : 0;
  const unsigned index = need_index ? indexes[rng.below(static_cast<uint32_t>(indexes.size()))] : kNoIndex;
  const unsigned ss = rng.below(4);  // without an index the scale bits are ignored: any value must do
  uint64_t sum = 0, width = 0;
  if (need_base) {
    sum += track_.regs[base].lo;
    width += track_.regs[base].width;
  }
  if (need_index) {
    sum += uint64_t{track_.regs[index].lo} << ss;
    width += uint64_t{track_.regs[index].width} << ss;
  }
  if (width > 2 * kMaxBaseWidth) return std::nullopt;
  // Displacement width: form 0 none, 1 disp8, 2/4 disp32, 3 any of the three.
  unsigned disp_kind = form == 0 ? 0 : form == 1 ? 1 : form == 3 ? rng.below(3) : 2;
  if (need_base && base == EBP && disp_kind == 0) disp_kind = 1;  // mod 00 with EBP means disp32, no base
  const int32_t dmin = disp_kind == 0 ? 0 : disp_kind == 1 ? -128 : INT32_MIN;
  const int32_t dmax = disp_kind == 0 ? 0 : disp_kind == 1 ? 127 : INT32_MAX;
  uint32_t ea = 0;
  if (!place(sum, static_cast<uint32_t>(width), size, before, after, 0xffffffffu, dmin, dmax, ea)) return std::nullopt;
  const uint32_t disp = ea - static_cast<uint32_t>(sum);

  RmOperand m;
  m.is_reg = false;
  const bool use_sib = need_index || base == ESP || rng.chance(10);
  uint8_t mod = form == 4 ? 0 : static_cast<uint8_t>(disp_kind);
  if (use_sib) {
    uint8_t sib_base = form == 4 ? 5 : static_cast<uint8_t>(base);
    m.tail.push_back(static_cast<uint8_t>(mod << 6 | 4));
    m.tail.push_back(static_cast<uint8_t>(ss << 6 | index << 3 | sib_base));
  } else {
    m.tail.push_back(static_cast<uint8_t>(mod << 6 | base));
  }
  if (form == 4 || disp_kind == 2) {
    auto d = le(disp, 4);
    m.tail.insert(m.tail.end(), d.begin(), d.end());
  } else if (disp_kind == 1) {
    m.tail.push_back(static_cast<uint8_t>(disp));
  }
  return m;
}

std::optional<RmOperand> GenContext::try_mem16(unsigned size, uint32_t before, uint32_t after) {
  // ModRM.rm in 16-bit addressing: the register pair it sums.
  static constexpr int kPairs[8][2] = {{EBX, ESI}, {EBX, EDI}, {EBP, ESI}, {EBP, EDI},
                                       {ESI, -1},  {EDI, -1},  {EBP, -1}, {EBX, -1}};
  const unsigned rm = rng.below(8);
  unsigned mod = rng.below(3);
  if (rm == 6 && mod == 0) mod = 1;  // [disp16] is the absolute form, handled by the fallback
  uint32_t sum = 0, width = 0;
  for (int r : kPairs[rm]) {
    if (r < 0) continue;
    if (!reg_known(static_cast<unsigned>(r), kMaxBaseWidth) || (avoid_ >> r & 1)) return std::nullopt;
    sum += track_.regs[r].lo & 0xffff;
    width += track_.regs[r].width;
  }
  const int32_t dmin = mod == 0 ? 0 : mod == 1 ? -128 : -32768;
  const int32_t dmax = mod == 0 ? 0 : mod == 1 ? 127 : 32767;
  uint32_t ea = 0;
  if (!place(sum, width, size, before, after, 0xffff, dmin, dmax, ea)) return std::nullopt;
  const uint32_t disp = (ea - sum) & 0xffff;
  RmOperand m;
  m.is_reg = false;
  m.addr16 = true;
  m.tail.push_back(static_cast<uint8_t>(mod << 6 | rm));
  if (mod == 1) m.tail.push_back(static_cast<uint8_t>(disp));
  if (mod == 2) {
    m.tail.push_back(static_cast<uint8_t>(disp));
    m.tail.push_back(static_cast<uint8_t>(disp >> 8));
  }
  return m;
}

RmOperand GenContext::mem_operand(unsigned size, uint32_t before, uint32_t after, bool allow_esp_base,
                                  bool atomic) {
  place_atomic_ = atomic;
  std::optional<RmOperand> m;
  if (rng.chance(opt.addr16_percent)) m = try_mem16(size, before, after);
  for (int attempt = 0; attempt < 6 && !m; ++attempt) m = try_mem32(size, before, after, allow_esp_base);
  if (!m) {
    // Absolute displacement: [disp32], or [disp16] with 16-bit addressing.
    uint32_t ea = kDataBase + before;
    for (int tries = 0; tries < 8; ++tries)  // each try picks a region; the data area always fits
      if (place(0, 0, size, before, after, 0xffffffffu, INT32_MIN, INT32_MAX, ea)) break;
    RmOperand a;
    a.is_reg = false;
    if (rng.chance(opt.addr16_percent)) {
      a.addr16 = true;
      a.tail = {0x06, static_cast<uint8_t>(ea), static_cast<uint8_t>(ea >> 8)};
    } else {
      a.tail = {0x05};
      auto d = le(ea, 4);
      a.tail.insert(a.tail.end(), d.begin(), d.end());
    }
    m = a;
  }
  place_atomic_ = false;
  avoid_ = 0;
  m->seg_prefix = random_seg_prefix(rng);
  m->atomic_safe = atomic;
  return *m;
}

RmOperand GenContext::rm_operand(unsigned size_bits, bool allow_mem, bool atomic) {
  if (allow_mem && rng.chance(opt.mem_percent)) return mem_operand(size_bits / 8, 0, 0, true, atomic);
  avoid_ = 0;
  return reg_operand(dest_reg(size_bits));
}

RmOperand GenContext::free_address() {
  RmOperand m;
  m.is_reg = false;
  const uint8_t mod = static_cast<uint8_t>(rng.below(3));
  const uint8_t rm = static_cast<uint8_t>(rng.below(8));
  m.tail.push_back(static_cast<uint8_t>(mod << 6 | rm));
  if (rng.chance(opt.addr16_percent)) {
    m.addr16 = true;
    unsigned disp_bytes = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0;
    for (unsigned i = 0; i < disp_bytes; ++i) m.tail.push_back(static_cast<uint8_t>(rng.next()));
    return m;
  }
  uint8_t sib_base = 0;
  if (rm == 4) {
    uint8_t sib = static_cast<uint8_t>(rng.next());
    sib_base = sib & 7;
    m.tail.push_back(sib);
  }
  unsigned disp_bytes = mod == 1 ? 1 : (mod == 2 || (mod == 0 && (rm == 5 || (rm == 4 && sib_base == 5)))) ? 4 : 0;
  uint32_t disp = rng.interesting(32);
  for (unsigned i = 0; i < disp_bytes; ++i) m.tail.push_back(static_cast<uint8_t>(disp >> (8 * i)));
  return m;
}

// ---------------------------------------------------------------- emission

std::vector<uint8_t> GenContext::encode(const Encoding& e) {
  std::vector<uint8_t> b;
  if (e.lock) b.push_back(0xf0);
  if (e.rep) b.push_back(e.rep);
  if (e.has_modrm && !e.rm.is_reg && e.rm.seg_prefix) b.push_back(e.rm.seg_prefix);
  if (e.opsize16) b.push_back(0x66);
  if (e.addr16 || (e.has_modrm && !e.rm.is_reg && e.rm.addr16)) b.push_back(0x67);
  b.insert(b.end(), e.opcode.begin(), e.opcode.end());
  if (e.has_modrm) {
    if (e.rm.is_reg) {
      b.push_back(static_cast<uint8_t>(0xc0 | (e.reg_field & 7) << 3 | (e.rm.reg & 7)));
    } else {
      b.push_back(static_cast<uint8_t>(e.rm.tail[0] | (e.reg_field & 7) << 3));
      b.insert(b.end(), e.rm.tail.begin() + 1, e.rm.tail.end());
    }
  }
  b.insert(b.end(), e.imm.begin(), e.imm.end());
  return b;
}

bool GenContext::emit(const Encoding& e, const Effect& fx) {
  std::vector<uint8_t> bytes = encode(e);
  Effect f = fx;
  if (rng.chance(opt.redundant_prefix_percent)) add_redundant_prefix(bytes, e, f);
  return emit_bytes(bytes, f);
}

// Prefixes that change nothing here: a DS/ES/SS override (all flat; never
// CS, which is not writable), a second 0x66 where there is one, or F2/F3 on
// plain one-byte ALU and MOV opcodes (never with 0F opcodes, where F3 makes
// TZCNT/POPCNT on the host, nor on NOP, where it makes PAUSE). Short
// branches are left alone so they can still be widened.
void GenContext::add_redundant_prefix(std::vector<uint8_t>& bytes, const Encoding& e, Effect& fx) {
  if (fx.fixup == SnippetInsn::Fixup::Rel8 || e.opcode.empty()) return;
  const uint8_t op = e.opcode[0];
  const bool plain_alu = !e.lock && e.has_modrm &&
                         ((op < 0x40 && (op & 7) < 4) || (op >= 0x80 && op <= 0x8b) || op == 0xc0 || op == 0xc1 ||
                          (op >= 0xd0 && op <= 0xd3) || op == 0xf6 || op == 0xf7);
  uint8_t prefix;
  switch (rng.below(3)) {
    case 0: prefix = e.opsize16 ? 0x66 : 0x3e; break;
    case 1: prefix = plain_alu ? (rng.chance(50) ? 0xf3 : 0xf2) : 0x26; break;
    default: prefix = rng.chance(50) ? 0x36 : 0x3e; break;
  }
  bytes.insert(bytes.begin(), prefix);
  if (fx.fixup != SnippetInsn::Fixup::None) ++fx.fixup_at;
}

bool GenContext::check_memory(const DecodedInsn& d, const Effect& fx) const {
  if (fx.skip_mem_check || d.insn.mnemonic == ZYDIS_MNEMONIC_LEA || d.insn.mnemonic == ZYDIS_MNEMONIC_NOP)
    return true;
  for (unsigned i = 0; i < d.insn.operand_count_visible; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    const uint32_t mask = d.insn.address_width == 16 ? 0xffffu : 0xffffffffu;
    uint64_t width = 0;
    uint32_t lo = static_cast<uint32_t>(op.mem.disp.value);
    const std::pair<ZydisRegister, unsigned> parts[2] = {{op.mem.base, 1u}, {op.mem.index, op.mem.scale ? op.mem.scale : 1u}};
    for (const auto& [r, scale] : parts) {
      if (r == ZYDIS_REGISTER_NONE) continue;
      int g = Interpreter::gpr_index(r);
      if (g < 0 || !track_.regs[g].known) return false;
      lo += track_.regs[g].lo * scale;
      width += uint64_t{track_.regs[g].width} * scale;
    }
    lo &= mask;
    if (!inside_some_region(lo, lo + width + op.size / 8)) return false;
  }
  return true;
}

// Which flags may be undefined after `d`. The effect of shifts by CL and of
// REP CMPS/SCAS depends on ECX; unless ECX is exactly known, every count is
// assumed possible (undefined if any count leaves it so, defined only if all
// counts define it).
void GenContext::update_flag_state(const DecodedInsn& d, const TrackState& pre) {
  uint32_t regs[8] = {};
  for (unsigned r = 0; r < 8; ++r) regs[r] = pre.regs[r].lo;
  uint32_t undefined = 0, defined = 0xffffffffu;
  const bool ecx_exact = pre.regs[ECX].known && pre.regs[ECX].width == 0;
  for (uint32_t count : {0u, 1u, 2u, 7u, 8u, 9u, 15u, 16u, 17u, 31u}) {
    if (!ecx_exact) regs[ECX] = count;
    const FlagEffect fe = flag_effect(d, regs);
    undefined |= fe.undefined | (unicorn_known_bad_flags(d) & (fe.defined | fe.undefined));
    defined &= fe.defined | fe.undefined;
    if (ecx_exact) break;
  }
  track_.maybe_undefined = (track_.maybe_undefined & ~defined) | undefined;
}

// CMP r32, imm8: defines all six arithmetic flags and writes no register.
bool GenContext::emit_flag_definer() {
  Encoding e;
  e.opcode = {0x83};
  e.has_modrm = true;
  e.reg_field = 7;
  e.rm = reg_operand(rng.below(8));
  e.imm = {static_cast<uint8_t>(rng.interesting(8))};
  return emit(e);
}

void GenContext::apply_effects(const DecodedInsn& d, const Effect& fx) {
  const TrackState pre = track_;
  update_flag_state(d, pre);
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_REGISTER || !(op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
    int g = Interpreter::gpr_index(op.reg.value);
    if (g >= 0 && g != ESP) track_.regs[g].known = false;
  }
  if (fx.writes_esp) track_.regs[ESP].lo = pre.regs[ESP].lo + static_cast<uint32_t>(fx.esp_delta);
  if (fx.frame == 1) track_.regs[EBP] = RegTrack{pre.regs[ESP].known, pre.regs[ESP].lo - 4, pre.regs[ESP].width};
  if (fx.frame == 2) track_.regs[ESP] = RegTrack{pre.regs[EBP].known, pre.regs[EBP].lo + 4, pre.regs[EBP].width};
  if (fx.exact_reg >= 0) track_.regs[fx.exact_reg] = RegTrack{true, fx.exact_value, 0};
  for (int r : fx.widen_reg) {
    if (r < 0 || !pre.regs[r].known) continue;
    uint64_t w = uint64_t{pre.regs[r].width} + 2ull * fx.widen_by;
    if (w <= kMaxBaseWidth) track_.regs[r] = RegTrack{true, pre.regs[r].lo - fx.widen_by, static_cast<uint32_t>(w)};
  }
}

// Counts a built instruction that failed validation (a generator bug unless
// rare); POPEK_DIFF_DEBUG_REJECTS prints it.
bool GenContext::reject(const char* why, const std::vector<uint8_t>& bytes) {
  ++rejected_;
  if (std::getenv("POPEK_DIFF_DEBUG_REJECTS")) {
    std::fprintf(stderr, "generator reject (%s):", why);
    for (uint8_t b : bytes) std::fprintf(stderr, " %02x", b);
    std::fprintf(stderr, "\n");
  }
  return false;
}

// A deliberately undecodable instruction: each executor raises #UD there,
// so nothing after it runs.
bool GenContext::emit_invalid(const std::vector<uint8_t>& bytes) {
  DecodedInsn d;
  if (bytes.empty() || decoder_.decode(bytes.data(), bytes.size(), true, true, d) == DecodeStatus::Ok)
    return reject("meant to be invalid but decodes", bytes);
  SnippetInsn si;
  si.bytes = bytes;
  insns_.push_back(std::move(si));
  track_.dead = true;
  return true;
}

bool GenContext::emit_bytes(const std::vector<uint8_t>& bytes, const Effect& fx) {
  if (fx.invalid) return emit_invalid(bytes);
  DecodedInsn d;
  if (bytes.empty() || decoder_.decode(bytes.data(), bytes.size(), true, true, d) != DecodeStatus::Ok ||
      d.insn.length != bytes.size())
    return reject("does not decode to its length", bytes);
  bool writes_esp = false;
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
        (op.reg.value == ZYDIS_REGISTER_ESP || op.reg.value == ZYDIS_REGISTER_SP))
      writes_esp = true;
  }
  if (writes_esp != (fx.writes_esp || fx.frame != 0)) return reject("untracked ESP write", bytes);
  if (!track_.dead && (flags_consumed(d) & track_.maybe_undefined) &&
      !rng.chance(opt.consume_undefined_percent) && !emit_flag_definer())
    return false;
  if (!track_.dead) {
    if (!check_memory(d, fx)) return reject("memory operand outside the areas", bytes);
    if (writes_esp) {
      // The new ESP range must stay kStackSlack inside the stack area, and so
      // must the old one (checked when it was made): pushes and pops between
      // the two then stay inside too.
      const RegTrack& src = fx.frame == 2 ? track_.regs[EBP] : track_.regs[ESP];
      uint32_t lo = fx.frame == 2 ? src.lo + 4 : src.lo + static_cast<uint32_t>(fx.esp_delta);
      if (!src.known || lo < kStackBase + kStackSlack ||
          uint64_t{lo} + src.width > kStackBase + kStackSize - kStackSlack)
        return false;
    }
  }
  apply_effects(d, fx);
  SnippetInsn si;
  si.bytes = bytes;
  si.fixup = fx.fixup;
  si.fixup_at = fx.fixup_at;
  insns_.push_back(std::move(si));
  const size_t idx = insns_.size() - 1;
  if (fx.skip_insns >= 0) {
    pending_.push_back(PendingJump{idx, idx + 1 + static_cast<size_t>(fx.skip_insns), !fx.label_only, track_});
    if (fx.label_only) label_insn_ = idx;
  }
  if (fx.takes_label) {
    for (PendingJump& p : pending_)
      if (p.insn == label_insn_) {
        p.state = track_;
        p.has_state = true;
      }
  }
  if (fx.unconditional) track_.dead = true;
  return true;
}

bool GenContext::mov_imm(unsigned reg, uint32_t value) {
  Encoding e;
  e.opcode = {static_cast<uint8_t>(0xb8 + reg)};
  e.imm = le(value, 4);
  Effect fx;
  fx.exact_reg = static_cast<int>(reg);
  fx.exact_value = value;
  return emit(e, fx);
}

bool GenContext::point_into_data(unsigned reg, uint32_t room) {
  if (room * 2 >= kDataSize) return false;
  const uint32_t value = kDataBase + room + rng.below(kDataSize - 2 * room);
  // Sometimes derive it with LEA r32, [other + disp32] from an exactly known register.
  const unsigned other = rng.below(8);
  if (rng.chance(30) && other != reg && other != ESP && reg_known(other, 0)) {
    Encoding e;
    e.opcode = {0x8d};
    e.has_modrm = true;
    e.reg_field = static_cast<uint8_t>(reg);
    e.rm.is_reg = false;
    e.rm.tail = {static_cast<uint8_t>(0x80 | other)};
    auto d = le(value - track_.regs[other].lo, 4);
    e.rm.tail.insert(e.rm.tail.end(), d.begin(), d.end());
    Effect fx;
    fx.exact_reg = static_cast<int>(reg);
    fx.exact_value = value;
    return emit(e, fx);
  }
  return mov_imm(reg, value);
}

// ---------------------------------------------------------------- driving

void GenContext::start(const GuestState& init) {
  for (unsigned r = 0; r < 8; ++r) track_.regs[r] = RegTrack{true, init.regs[r], 0};
  track_.dead = false;
  track_.maybe_undefined = 0;
  insns_.clear();
  pending_.clear();
  label_insn_ = SIZE_MAX;
}

void GenContext::merge(TrackState& into, const TrackState& from) {
  if (from.dead) return;
  if (into.dead) {
    into = from;
    return;
  }
  into.maybe_undefined |= from.maybe_undefined;
  for (unsigned r = 0; r < 8; ++r) {
    RegTrack& a = into.regs[r];
    const RegTrack& b = from.regs[r];
    if (!a.known || !b.known) {
      a.known = false;
      continue;
    }
    uint64_t w1 = std::max<uint64_t>(a.width, uint64_t{static_cast<uint32_t>(b.lo - a.lo)} + b.width);
    uint64_t w2 = std::max<uint64_t>(b.width, uint64_t{static_cast<uint32_t>(a.lo - b.lo)} + a.width);
    uint32_t lo = w1 <= w2 ? a.lo : b.lo;
    uint64_t w = std::min(w1, w2);
    a = w <= kMaxBaseWidth ? RegTrack{true, lo, static_cast<uint32_t>(w)} : RegTrack{};
  }
}

void GenContext::begin_group() {
  const size_t here = insns_.size();
  for (size_t i = 0; i < pending_.size();) {
    PendingJump& p = pending_[i];
    if (p.threshold > here) {
      ++i;
      continue;
    }
    insns_[p.insn].target = static_cast<int>(here);
    if (p.has_state) merge(track_, p.state);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void GenContext::finish() {
  begin_group();
  for (const PendingJump& p : pending_) insns_[p.insn].target = -1;  // the snippet end
  pending_.clear();
}

InsnGenerator::InsnGenerator(uint64_t seed, GenOptions opt) : rng_(seed), opt_(opt) {
  for (const auto* table : {&alu_families(), &flow_families()})
    for (const Family& f : *table) {
      families_.push_back(f);
      total_weight_ += f.weight;
    }
}

GuestState InsnGenerator::random_state() {
  GuestState s;
  for (unsigned r = 0; r < 8; ++r) {
    bool pointer = (r == EBX || r == EBP || r == ESI || r == EDI) ? rng_.chance(75) : rng_.chance(10);
    s.regs[r] = pointer ? kDataBase + 0x100 + rng_.below(kDataSize - 0x200) : rng_.interesting(32);
  }
  s.regs[ESP] = kInitialEsp - rng_.below(64);
  s.eflags = 0x202 | (rng_.next() & kArithFlags) | (rng_.chance(30) ? 0x400u : 0u);
  for (uint32_t i = 0; i < kDataSize; i += 4) {
    uint32_t v = rng_.chance(40) ? rng_.interesting(32) : rng_.next();
    for (int k = 0; k < 4; ++k) s.data[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  for (uint32_t i = 0; i < kStackSize; ++i) s.stack[i] = static_cast<uint8_t>(rng_.next());
  return s;
}

Snippet InsnGenerator::make(unsigned n_insns) {
  Snippet s;
  s.init = random_state();
  GenContext ctx(rng_, opt_);
  ctx.start(s.init);
  for (unsigned attempts = 0; ctx.insns().size() < n_insns && attempts < 50 * n_insns + 50; ++attempts) {
    ctx.begin_group();
    uint32_t pick = rng_.below(total_weight_);
    for (const Family& f : families_) {
      if (pick < f.weight) {
        f.gen(ctx);
        break;
      }
      pick -= f.weight;
    }
  }
  ctx.finish();
  rejected_ += ctx.rejected();
  s.insns = std::move(ctx.insns());
  return s;
}

}  // namespace popek::diff
