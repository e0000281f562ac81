// x87 environment and state images: FNSTENV/FLDENV (14/28 bytes),
// FNSAVE/FRSTOR (94/108 bytes), FXSAVE/FXRSTOR (512 bytes).
//
// The FSTENV layout follows the operand size (16/32-bit) and the mode: the
// protected-mode layout stores FIP/FDP as offsets with their selectors; the
// real-mode layout (real and V86 mode) stores them as linear addresses
// (selector * 16 + offset) split into 16-bit halves, with FOP beside the
// upper half of FIP (SDM vol. 1, figures 8-9 to 8-12). Reserved halves of the
// 32-bit layouts are written as FFFFh, as hardware does. Tag words are
// written as recomputed from the register contents; on loads only "empty"
// counts and the other tags are recomputed (as P6 does).
//
// FXSAVE writes the 32-bit legacy area (bytes 0-159): FCW, FSW, abridged
// FTW, FOP, FIP/FCS, FDP/FDS, MXCSR, MXCSR_MASK (FFBFh: no DAZ) and ST0-7.
// This CPU has no XMM registers, so bytes 160-511 are left as they were (the
// whole 512 bytes are still checked for access rights). FXRSTOR raises
// #GP(0) for MXCSR bits outside MXCSR_MASK. Neither checks for pending x87
// exceptions; both require a 16-byte aligned linear address (#GP(0)).
#include <cstring>

#include "core/interpreter.h"
#include "core/x87_model.h"

namespace popek::x87 {
namespace {

constexpr uint32_t kMxcsrMask = 0xffbf;

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, v);
  put16(p + 2, v >> 16);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) { return get16(p) | (uint32_t(get16(p + 2)) << 16); }

struct EnvFormat {
  bool op32;
  bool protected_layout;
  unsigned size() const { return op32 ? 28 : 14; }
};

EnvFormat env_format(const Interpreter& in, const DecodedInsn& d) {
  return EnvFormat{d.insn.operand_width == 32, in.protected_mode() && !in.v86_mode()};
}

void build_env(const X87State& f, EnvFormat fmt, uint8_t* out) {
  const unsigned w = fmt.op32 ? 4 : 2;  // field stride
  auto field = [&](unsigned i, uint32_t v) { fmt.op32 ? put32(out + i * w, v) : put16(out + i * w, v); };
  const uint32_t hi = fmt.op32 ? 0xffff0000u : 0;
  field(0, hi | f.cw);
  field(1, hi | f.sw);
  field(2, hi | f.tw);
  const uint32_t fop = f.fop & 0x7ffu;
  if (fmt.protected_layout) {
    field(3, f.fip);
    field(4, fmt.op32 ? (f.fcs | (fop << 16)) : f.fcs);
    field(5, f.fdp);
    field(6, hi | f.fds);
    return;
  }
  const uint32_t ip = (uint32_t(f.fcs) << 4) + f.fip;
  const uint32_t dp = (uint32_t(f.fds) << 4) + f.fdp;
  const uint32_t upper_mask = fmt.op32 ? 0xffff0000u : 0xf0000u;
  field(3, hi | (ip & 0xffff));
  field(4, ((ip & upper_mask) >> 4) | fop);
  field(5, hi | (dp & 0xffff));
  field(6, (dp & upper_mask) >> 4);
}

void parse_env(const uint8_t* in, EnvFormat fmt, X87State& f) {
  const unsigned w = fmt.op32 ? 4 : 2;
  auto field = [&](unsigned i) { return fmt.op32 ? get32(in + i * w) : get16(in + i * w); };
  f.cw = static_cast<uint16_t>((field(0) & cwb::WRITABLE) | cwb::FIXED1);
  f.sw = static_cast<uint16_t>(field(1));
  f.tw = static_cast<uint16_t>(field(2));
  if (fmt.protected_layout) {
    f.fip = field(3);
    f.fcs = static_cast<uint16_t>(field(4));
    f.fop = fmt.op32 ? static_cast<uint16_t>((field(4) >> 16) & 0x7ff) : 0;
    f.fdp = field(5);
    f.fds = static_cast<uint16_t>(field(6));
    return;
  }
  const uint32_t upper_mask = fmt.op32 ? 0x0ffff000u : 0xf000u;
  f.fip = (field(3) & 0xffff) | ((field(4) & upper_mask) << 4);
  f.fop = static_cast<uint16_t>(field(4) & 0x7ff);
  f.fdp = (field(5) & 0xffff) | ((field(6) & upper_mask) << 4);
  f.fcs = 0;
  f.fds = 0;
}

// FNSTENV m14/28byte: stores the environment, then masks every exception.
void FNSTENV(Interpreter& in, const DecodedInsn& d) {
  begin(in, false);
  X87State& f = in.cpu.fpu;
  const EnvFormat fmt = env_format(in, d);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  uint8_t image[28];
  X87State current = f;
  retag(current);
  build_env(current, fmt, image);
  check_write_guest(in, m.seg, m.offset, fmt.size());
  write_guest(in, m.seg, m.offset, image, fmt.size());
  f.tw = current.tw;
  f.cw |= cwb::MASKS;
  f.sw &= static_cast<uint16_t>(~(swb::ES | swb::B));
}

void FLDENV(Interpreter& in, const DecodedInsn& d) {
  begin(in, true);
  const EnvFormat fmt = env_format(in, d);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  uint8_t image[28];
  read_guest(in, m.seg, m.offset, image, fmt.size());
  X87State& f = in.cpu.fpu;
  parse_env(image, fmt, f);
  retag(f);
  update_summary(f);
}

// FNSAVE m94/108byte: environment, ST(0)..ST(7), then FNINIT.
void FNSAVE(Interpreter& in, const DecodedInsn& d) {
  begin(in, false);
  X87State& f = in.cpu.fpu;
  const EnvFormat fmt = env_format(in, d);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  uint8_t image[108];
  X87State current = f;
  retag(current);
  build_env(current, fmt, image);
  for (unsigned k = 0; k < 8; ++k) store80(current.st[phys(current, k)], image + fmt.size() + 10 * k);
  const unsigned n = fmt.size() + 80;
  check_write_guest(in, m.seg, m.offset, n);
  write_guest(in, m.seg, m.offset, image, n);
  initialize(f);
}

void FRSTOR(Interpreter& in, const DecodedInsn& d) {
  begin(in, true);
  const EnvFormat fmt = env_format(in, d);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  uint8_t image[108];
  read_guest(in, m.seg, m.offset, image, fmt.size() + 80);
  X87State& f = in.cpu.fpu;
  parse_env(image, fmt, f);
  for (unsigned k = 0; k < 8; ++k) f.st[phys(f, k)] = load80(image + fmt.size() + 10 * k);
  retag(f);
  update_summary(f);
}

// FXSAVE/FXRSTOR: #NM on EM or TS, no pending-exception check, 16-byte alignment.
MemRef fxsave_operand(Interpreter& in, const DecodedInsn& d) {
  in.fpu_check_available(false);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  if ((in.cpu.seg[m.seg].base + m.offset) & 15) raise_fault(vec::GP, 0);
  return m;
}

void FXSAVE(Interpreter& in, const DecodedInsn& d) {
  const MemRef m = fxsave_operand(in, d);
  X87State f = in.cpu.fpu;
  retag(f);
  uint8_t image[160] = {};
  put16(image + 0, f.cw);
  put16(image + 2, f.sw);
  for (unsigned r = 0; r < 8; ++r)
    if (tag(f, r) != kTagEmpty) image[4] |= static_cast<uint8_t>(1u << r);
  put16(image + 6, f.fop & 0x7ffu);
  put32(image + 8, f.fip);
  put16(image + 12, f.fcs);
  put32(image + 16, f.fdp);
  put16(image + 20, f.fds);
  put32(image + 24, in.cpu.mxcsr);
  put32(image + 28, kMxcsrMask);
  for (unsigned k = 0; k < 8; ++k) store80(f.st[phys(f, k)], image + 32 + 16 * k);
  check_write_guest(in, m.seg, m.offset, 512);
  write_guest(in, m.seg, m.offset, image, sizeof image);
}

void FXRSTOR(Interpreter& in, const DecodedInsn& d) {
  const MemRef m = fxsave_operand(in, d);
  uint8_t image[512];
  read_guest(in, m.seg, m.offset, image, sizeof image);
  const uint32_t mxcsr = get32(image + 24);
  if (mxcsr & ~kMxcsrMask) raise_fault(vec::GP, 0);
  X87State& f = in.cpu.fpu;
  f.cw = static_cast<uint16_t>((get16(image + 0) & cwb::WRITABLE) | cwb::FIXED1);
  f.sw = get16(image + 2);
  f.fop = get16(image + 6) & 0x7ff;
  f.fip = get32(image + 8);
  f.fcs = get16(image + 12);
  f.fdp = get32(image + 16);
  f.fds = get16(image + 20);
  for (unsigned k = 0; k < 8; ++k) f.st[phys(f, k)] = load80(image + 32 + 16 * k);
  for (unsigned r = 0; r < 8; ++r)
    set_tag(f, r, (image[4] >> r) & 1 ? classify(f.st[r]) : kTagEmpty);
  update_summary(f);
  in.cpu.mxcsr = mxcsr;
}

}  // namespace

void register_env_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_FNSTENV, &FNSTENV);
  t.set(ZYDIS_MNEMONIC_FLDENV, &FLDENV);
  t.set(ZYDIS_MNEMONIC_FNSAVE, &FNSAVE);
  t.set(ZYDIS_MNEMONIC_FRSTOR, &FRSTOR);
  t.set(ZYDIS_MNEMONIC_FXSAVE, &FXSAVE);
  t.set(ZYDIS_MNEMONIC_FXRSTOR, &FXRSTOR);
}

}  // namespace popek::x87
