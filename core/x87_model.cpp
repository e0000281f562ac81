// The guest x87 model around the host engine (see core/x87_model.h).
#include "core/x87_model.h"

#include <algorithm>
#include <cstring>

#include "core/interpreter.h"

namespace popek::x87 {

// ---------------------------------------------------------------- state helpers

unsigned classify(const Float80& v) {
  const unsigned exponent = v.sign_exponent & 0x7fff;
  if (exponent == 0) return v.mantissa == 0 ? kTagZero : kTagSpecial;
  if (exponent == 0x7fff) return kTagSpecial;
  return (v.mantissa >> 63) ? kTagValid : kTagSpecial;  // unnormals are special
}

void retag(X87State& f) {
  for (unsigned r = 0; r < 8; ++r)
    if (tag(f, r) != kTagEmpty) set_tag(f, r, classify(f.st[r]));
}

void update_summary(X87State& f) {
  if (f.sw & ~f.cw & cwb::MASKS)
    f.sw |= swb::ES | swb::B;
  else
    f.sw &= static_cast<uint16_t>(~(swb::ES | swb::B));
}

void initialize(X87State& f) {
  f.cw = cwb::INIT;
  f.sw = 0;
  f.tw = 0xffff;
  f.fop = 0;
  f.fip = 0;
  f.fcs = 0;
  f.fdp = 0;
  f.fds = 0;
}

void store80(const Float80& v, uint8_t* dst) {
  std::memcpy(dst, &v.mantissa, 8);
  std::memcpy(dst + 8, &v.sign_exponent, 2);
}

Float80 load80(const uint8_t* src) {
  Float80 v{};
  std::memcpy(&v.mantissa, src, 8);
  std::memcpy(&v.sign_exponent, src + 8, 2);
  return v;
}

// ---------------------------------------------------------------- checks

void begin(Interpreter& in, bool waiting) {
  in.fpu_check_available(waiting);
  if (waiting) check_pending(in);
}

void check_pending(Interpreter& in) {
  if (!(in.cpu.fpu.sw & swb::ES)) return;
  if (in.cpu.cr0 & cr0::NE) raise_fault(vec::MF);
  // CR0.NE=0: no FERR#/IRQ13 in this machine; proceed as with IGNNE#.
}

// ---------------------------------------------------------------- memory operands

int memory_operand_index(const DecodedInsn& d) {
  for (int i = 0; i < d.insn.operand_count; ++i)
    if (d.ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY) return i;
  return -1;
}

MemRef memory_ref(Interpreter& in, const DecodedInsn& d, int op_index) {
  const ZydisDecodedOperand& op = d.ops[op_index];
  return MemRef{in.operand_segment(op), in.effective_address(op)};
}

uint32_t offset_add(const DecodedInsn& d, uint32_t offset, uint32_t delta) {
  uint32_t r = offset + delta;
  return d.insn.address_width == 16 ? (r & 0xffff) : r;
}

namespace {
unsigned chunk(unsigned remaining) { return remaining >= 4 ? 4 : remaining >= 2 ? 2 : 1; }
}  // namespace

void read_guest(Interpreter& in, SegReg seg, uint32_t offset, uint8_t* dst, unsigned n) {
  in.linear_address(seg, offset, n, AccessType::Read);  // the whole operand's segment checks
  for (unsigned i = 0; i < n;) {
    const unsigned k = chunk(n - i);
    const uint32_t v = in.read_mem(seg, offset + i, k);
    std::memcpy(dst + i, &v, k);
    i += k;
  }
}

void check_write_guest(Interpreter& in, SegReg seg, uint32_t offset, unsigned n) {
  in.check_write_mem(seg, offset, n);
}

void write_guest(Interpreter& in, SegReg seg, uint32_t offset, const uint8_t* src, unsigned n) {
  for (unsigned i = 0; i < n;) {
    const unsigned k = chunk(n - i);
    uint32_t v = 0;
    std::memcpy(&v, src + i, k);
    in.write_mem(seg, offset + i, k, v);
    i += k;
  }
}

uint8_t modrm_byte(const DecodedInsn& d) {
  const auto& m = d.insn.raw.modrm;
  return static_cast<uint8_t>((m.mod << 6) | (m.reg << 3) | m.rm);
}

void record_last_instruction(Interpreter& in, const DecodedInsn& d, const MemRef* mem) {
  X87State& f = in.cpu.fpu;
  f.fip = in.insn_eip;
  f.fcs = in.cpu.seg[CS].selector;
  f.fop = static_cast<uint16_t>(((d.insn.opcode & 7) << 8) | modrm_byte(d));
  if (mem) {
    f.fdp = mem->offset;
    f.fds = in.cpu.seg[mem->seg].selector;
  }
}

// ---------------------------------------------------------------- host images

HostFpuImage to_host_image(const X87State& f) {
  HostFpuImage img{};
  img.cw = 0xffff0000u | f.cw | cwb::MASKS;
  img.sw = 0xffff0000u | (f.sw & (swb::CC | swb::TOP));
  img.tw = 0xffff0000u | f.tw;
  for (unsigned k = 0; k < 8; ++k) store80(f.st[phys(f, k)], img.st[k]);
  return img;
}

namespace {

// Registers, tags, TOP and condition codes as the host left them.
void take_host_registers(X87State& f, const HostFpuImage& img) {
  const uint16_t keep = static_cast<uint16_t>(~(swb::CC | swb::TOP));
  f.sw = static_cast<uint16_t>((f.sw & keep) | (img.sw & (swb::CC | swb::TOP)));
  f.tw = static_cast<uint16_t>(img.tw);
  for (unsigned k = 0; k < 8; ++k) f.st[phys(f, k)] = load80(img.st[k]);
}

// An unmasked exception the instruction stops at: registers, TOP and memory
// stay as they were; the exception flags up to the first unmasked one (SDM
// priority IE, DE, ZE) are set. Condition codes as measured on hardware
// (tests/core/test_interp_x87_trap*.cpp): those of the masked response,
// except after an unmasked denormal operand or an unmasked OE/UE on a
// memory store, where C1 is cleared (FCOMI family: kept) and FPREM/FPREM1
// also clear C2 and keep C0/C3.
void refuse(X87State& f, const DecodedInsn& d, const EngineForm& form, uint16_t flags, uint16_t host_sw) {
  uint16_t cc = host_sw & swb::CC;
  if ((flags & (swb::IE | swb::DE)) == swb::DE || (flags & (swb::OE | swb::UE))) {
    const bool partial_remainder = d.insn.mnemonic == ZYDIS_MNEMONIC_FPREM || d.insn.mnemonic == ZYDIS_MNEMONIC_FPREM1;
    if (partial_remainder)
      cc = f.sw & (swb::C0 | swb::C3);
    else if (!form.writes_eflags)
      cc &= static_cast<uint16_t>(~swb::C1);
  }
  f.sw = static_cast<uint16_t>(((f.sw | flags) & ~swb::CC) | cc);
  update_summary(f);
}

uint16_t precomputation_flags(uint16_t raised, uint16_t cw) {
  uint16_t out = 0;
  for (uint16_t bit : {swb::IE, swb::DE, swb::ZE}) {
    if (!(raised & bit)) continue;
    out |= bit;
    if (bit == swb::IE) out |= raised & swb::SF;
    if (bit & ~cw) break;
  }
  return out;
}

bool is_denormal_of_size(const uint8_t* v, unsigned size) {
  uint64_t bits = 0;
  std::memcpy(&bits, v, size == 4 ? 4 : 8);
  if (size == 4) return ((bits >> 23) & 0xff) == 0 && (bits & 0x7fffff) != 0;
  if (size == 8) return ((bits >> 52) & 0x7ff) == 0 && (bits & ((1ull << 52) - 1)) != 0;
  return false;
}

bool is_denormal80(const Float80& v) { return (v.sign_exponent & 0x7fff) == 0 && v.mantissa != 0; }

// ST index of the destination register of a two-operand form (before any pop).
unsigned destination_st(const DecodedInsn& d) {
  if (d.insn.operand_count_visible == 2 && d.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER)
    return d.ops[0].reg.value - ZYDIS_REGISTER_ST0;
  return 0;
}

// The source operand of an arithmetic form as an 80-bit value: a memory
// operand (float or integer) is converted exactly by the host's FLD/FILD.
Float80 source_operand(const X87State& old, const DecodedInsn& d, uint8_t* buf, bool memory) {
  if (!memory) {
    unsigned src = 1;
    if (d.insn.operand_count_visible == 2) src = d.ops[1].reg.value - ZYDIS_REGISTER_ST0;
    return old.st[phys(old, src)];
  }
  static constexpr uint8_t kLoadOpcode[8] = {0xD9, 0, 0xDB, 0, 0xDD, 0, 0xDF, 0};  // D8 DA DC DE
  HostFpuImage img{};
  img.cw = cwb::INIT;
  img.tw = 0xffff;
  host_execute_mem(kLoadOpcode[d.insn.opcode & 7], 0, img, buf);
  return load80(img.st[0]);
}

// x REM infinity and FSCALE by zero return ST(0) itself: hardware signals
// no underflow for a tiny ST(0) then, although it does for x + 0 (measured).
bool returns_operand_unchanged(const X87State& old, Arith op) {
  const Float80& st1 = old.st[phys(old, 1)];
  if (op == Arith::Remainder) return (st1.sign_exponent & 0x7fff) == 0x7fff;
  if (op == Arith::Scale) return (st1.sign_exponent & 0x7fff) == 0 && st1.mantissa == 0;
  return false;
}

struct PostOutcome {
  bool store_memory;
  uint16_t flags;
};

// Unmasked OE/UE (or no unmasked exception at all): decides what reaches the
// destination. `next` holds the host's masked-response state.
PostOutcome post_computation(const X87State& old, X87State& next, const DecodedInsn& d,
                             const EngineForm& form, uint8_t* buf, unsigned mem_size,
                             uint16_t raised) {
  const uint16_t cw = old.cw;
  const bool memory = mem_size != 0;
  const bool store = memory && form.mem == MemDir::Store;
  const unsigned dest = phys(old, result_st(d, form.arith));
  bool tiny = raised & swb::UE;
  if (!tiny && !(cw & swb::UE)) {
    const bool float_store = d.insn.opcode == 0xD9 || d.insn.opcode == 0xDD;  // FST(P) m32/m64
    if (store) tiny = float_store && is_denormal_of_size(buf, mem_size);
    if (!store && form.arith != Arith::None && !returns_operand_unchanged(old, form.arith))
      tiny = is_denormal80(next.st[dest]);
  }
  uint16_t flags = static_cast<uint16_t>(raised | (tiny ? swb::UE : 0));
  const uint16_t unmasked = flags & ~cw & (swb::OE | swb::UE);
  if (!unmasked) return {store, flags};
  if (store) return {false, static_cast<uint16_t>(flags & (swb::OE | swb::UE))};  // no PE (as measured)
  if (form.arith == Arith::None) return {false, flags};
  const bool two_operand = form.arith <= Arith::DivR;
  BiasInput bias{};
  bias.op = form.arith;
  bias.a = old.st[phys(old, two_operand ? destination_st(d) : 0)];
  bias.b = two_operand ? source_operand(old, d, buf, memory) : old.st[phys(old, 1)];
  bias.masked = next.st[dest];
  bias.cw = cw;
  bias.opcode = d.insn.opcode;
  bias.modrm = modrm_byte(d);
  bias.overflow = (unmasked & swb::OE) != 0;
  Float80 biased;
  uint16_t bits = 0;
  if (biased_result(bias, biased, bits)) {
    next.st[dest] = biased;
    if (tag(next, dest) != kTagEmpty) set_tag(next, dest, classify(biased));  // FADDP ST(0),ST(0) pops it
    if (form.arith != Arith::Remainder) {  // C1 of FPREM is a quotient bit
      next.sw = static_cast<uint16_t>((next.sw & ~swb::C1) | (bits & swb::C1));
      flags = static_cast<uint16_t>((flags & ~swb::PE) | (bits & swb::PE));
    }
  }
  return {false, flags};
}

void set_comparison_eflags(Interpreter& in, HostFlags hf) {
  uint32_t bits = hf.lahf & (flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF);
  if (hf.of) bits |= flag::OF;
  in.set_arith_flags(bits);
}

}  // namespace

unsigned result_st(const DecodedInsn& d, Arith op) {
  if (op == Arith::Factor) return 1;
  return op <= Arith::DivR ? destination_st(d) : 0;
}

// ---------------------------------------------------------------- the engine

void run_engine(Interpreter& in, const DecodedInsn& d, const EngineForm& form) {
  begin(in, true);
  X87State& f = in.cpu.fpu;
  const uint8_t opcode = d.insn.opcode;
  const uint8_t modrm = modrm_byte(d);
  const int mi = memory_operand_index(d);
  alignas(16) uint8_t buf[16] = {};
  MemRef mem{DS, 0};
  unsigned size = 0;
  if (mi >= 0) {
    if (!host_memory_form_valid(opcode, (modrm >> 3) & 7)) raise_fault(vec::UD);
    mem = memory_ref(in, d, mi);
    size = std::min(d.ops[mi].size / 8u, 10u);
    if (form.mem == MemDir::Load)
      read_guest(in, mem.seg, mem.offset, buf, size);
    else
      check_write_guest(in, mem.seg, mem.offset, size);
  } else if (!host_register_form_valid(opcode, modrm)) {
    raise_fault(vec::UD);
  }

  HostFpuImage img = to_host_image(f);
  HostFlags hf{};
  if (mi >= 0)
    host_execute_mem(opcode, (modrm >> 3) & 7, img, buf);
  else
    hf = host_execute_reg(opcode, modrm, img, static_cast<uint8_t>(in.cpu.eflags));
  record_last_instruction(in, d, mi >= 0 ? &mem : nullptr);

  const uint16_t raised = img.sw & swb::FLAGS;
  const uint16_t pre = precomputation_flags(raised, f.cw);
  if (form.writes_eflags) set_comparison_eflags(in, hf);  // even when refused (as hardware)
  // FLD m32/m64 of a denormal loads it even with DE unmasked (measured).
  const uint16_t stops = d.insn.mnemonic == ZYDIS_MNEMONIC_FLD ? (swb::IE | swb::ZE) : (swb::IE | swb::DE | swb::ZE);
  if (pre & ~f.cw & stops) {
    refuse(f, d, form, pre, static_cast<uint16_t>(img.sw));
    return;
  }
  X87State next = f;
  take_host_registers(next, img);
  const PostOutcome out = post_computation(f, next, d, form, buf, size, raised);
  if ((out.flags & ~f.cw & (swb::OE | swb::UE)) && form.mem == MemDir::Store && mi >= 0) {
    refuse(f, d, form, out.flags, static_cast<uint16_t>(img.sw));  // memory destination: nothing stored
    return;
  }
  if (out.store_memory) write_guest(in, mem.seg, mem.offset, buf, size);
  next.sw |= out.flags;
  update_summary(next);
  f = next;
}

}  // namespace popek::x87
