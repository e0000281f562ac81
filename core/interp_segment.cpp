// Segment-register instructions: MOV to/from Sreg, PUSH/POP Sreg,
// LDS/LES/LFS/LGS/LSS, and the descriptor probes LAR, LSL, VERR, VERW and
// ARPL (SDM vol. 2).
//
// Choices: PUSH Sreg with a 32-bit operand size moves the stack pointer by
// 4 but writes only the low 16 bits (P6 behaviour; the upper two bytes of
// the slot keep their old contents). MOV r32, Sreg zero-extends (P6 and
// later). MOV SS and POP SS open a one-instruction shadow that blocks
// interrupts and the single-step trap; LSS does not.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

bool is_sreg_operand(const DecodedInsn& d, int i) {
  return d.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && Interpreter::sreg_index(d.ops[i].reg.value) != SEG_NONE;
}

void open_ss_shadow(Interpreter& in) {
  in.cpu.inhibit_irq = 1;
  in.suppress_single_step = true;
}

// LDS/LES/LFS/LGS/LSS r, m16:16/32: selector at offset+opsize.
template <SegReg Seg>
void LxS_Gv_Mp(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = d.ops[0].size / 8;
  const ZydisDecodedOperand& m = d.ops[1];
  const SegReg src = in.operand_segment(m);
  const uint32_t ea = in.effective_address(m);
  const uint32_t offset = in.read_mem(src, ea, size);
  const uint16_t sel = static_cast<uint16_t>(in.read_mem(src, ea + size, 2));
  in.load_segment(Seg, sel);
  in.reg_write(d.ops[0].reg.value, offset);
}

// ---- descriptor probes ----

enum class Probe : uint8_t { Lar, Lsl, Verr, Verw };

bool system_type_visible(Probe p, unsigned type) {
  switch (type) {
    case sys_type::TSS16_AVAIL: case sys_type::LDT: case sys_type::TSS16_BUSY:
    case sys_type::TSS32_AVAIL: case sys_type::TSS32_BUSY:
      return p == Probe::Lar || p == Probe::Lsl;
    case sys_type::CALL_GATE16: case sys_type::TASK_GATE: case sys_type::CALL_GATE32:
      return p == Probe::Lar;
    default:
      return false;
  }
}

// Whether `sel` names a descriptor the probe accepts at the current CPL.
bool probe_descriptor(Interpreter& in, Probe p, uint16_t sel, Descriptor& d) {
  if (selector_null(sel) || !fetch_descriptor(in, sel, d)) return false;
  if (!d.s()) {
    if (!system_type_visible(p, d.type())) return false;
  } else if (p == Probe::Verr && !d.readable()) {
    return false;
  } else if (p == Probe::Verw && !d.writable_data()) {
    return false;
  }
  if (d.conforming()) return true;  // conforming code: no DPL check
  return d.dpl() >= in.cpl() && d.dpl() >= selector_rpl(sel);
}

template <Probe P>
void LAR_LSL_Gv_Ew(Interpreter& in, const DecodedInsn& d) {
  require_protected_mode(in);
  const uint16_t sel = static_cast<uint16_t>(in.op_read(d, 1));
  Descriptor desc;
  if (!probe_descriptor(in, P, sel, desc)) {
    set_zf(in, false);
    return;
  }
  uint32_t v = P == Probe::Lar ? (desc.hi & 0x00f0ff00u) : desc.limit();
  if (d.ops[0].size == 16) v &= 0xffff;
  in.reg_write(d.ops[0].reg.value, v);
  set_zf(in, true);
}

template <Probe P>
void VERR_VERW_Ew(Interpreter& in, const DecodedInsn& d) {
  require_protected_mode(in);
  const uint16_t sel = static_cast<uint16_t>(in.op_read(d, 0));
  Descriptor desc;
  set_zf(in, probe_descriptor(in, P, sel, desc));
}

void ARPL_Ew_Gw(Interpreter& in, const DecodedInsn& d) {
  require_protected_mode(in);
  const uint32_t dest = in.op_read(d, 0);
  const uint32_t src = in.op_read(d, 1);
  if ((dest & 3) < (src & 3)) {
    in.op_write(d, 0, (dest & ~3u) | (src & 3));
    set_zf(in, true);
  } else {
    set_zf(in, false);
  }
}

}  // namespace

void sys::MOV_Sreg(Interpreter& in, const DecodedInsn& d) {
  if (is_sreg_operand(d, 0)) {  // MOV Sreg, r/m16
    const SegReg seg = Interpreter::sreg_index(d.ops[0].reg.value);
    if (seg == CS) raise_fault(vec::UD);
    in.load_segment(seg, static_cast<uint16_t>(in.op_read(d, 1)));
    if (seg == SS) open_ss_shadow(in);
    return;
  }
  // MOV r/m, Sreg: a 16-bit store to memory; a 32-bit register gets the
  // selector zero-extended, a 16-bit one keeps its upper half.
  in.op_write(d, 0, in.cpu.seg[Interpreter::sreg_index(d.ops[1].reg.value)].selector);
}

void sys::PUSH_Sreg(Interpreter& in, const DecodedInsn& d) {
  const uint16_t sel = in.cpu.seg[Interpreter::sreg_index(d.ops[0].reg.value)].selector;
  const unsigned size = operand_bytes(d);
  uint32_t sp = in.stack_pointer() - size;
  if (!in.stack32()) sp &= 0xffff;
  in.check_write_mem(SS, sp, size);
  in.write_mem(SS, sp, 2, sel);
  in.set_stack_pointer(sp);
}

void sys::POP_Sreg(Interpreter& in, const DecodedInsn& d) {
  const SegReg seg = Interpreter::sreg_index(d.ops[0].reg.value);
  const unsigned size = operand_bytes(d);
  const bool big = in.stack32();  // the pop uses the old SS's stack size
  const uint32_t sp = in.stack_pointer();
  const uint16_t sel = static_cast<uint16_t>(in.stack_read(0, size));
  in.load_segment(seg, sel);
  uint32_t& esp = in.cpu.regs[ESP];
  esp = big ? sp + size : ((esp & 0xffff0000u) | ((sp + size) & 0xffff));
  if (seg == SS) open_ss_shadow(in);
}

void sys::register_segment_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_LDS, LxS_Gv_Mp<DS>);
  t.set(ZYDIS_MNEMONIC_LES, LxS_Gv_Mp<ES>);
  t.set(ZYDIS_MNEMONIC_LFS, LxS_Gv_Mp<FS>);
  t.set(ZYDIS_MNEMONIC_LGS, LxS_Gv_Mp<GS>);
  t.set(ZYDIS_MNEMONIC_LSS, LxS_Gv_Mp<SS>);
  t.set(ZYDIS_MNEMONIC_LAR, LAR_LSL_Gv_Ew<Probe::Lar>);
  t.set(ZYDIS_MNEMONIC_LSL, LAR_LSL_Gv_Ew<Probe::Lsl>);
  t.set(ZYDIS_MNEMONIC_VERR, VERR_VERW_Ew<Probe::Verr>);
  t.set(ZYDIS_MNEMONIC_VERW, VERR_VERW_Ew<Probe::Verw>);
  t.set(ZYDIS_MNEMONIC_ARPL, ARPL_Ew_Gw);
}

}  // namespace popek
