// Descriptor-table registers, control and debug registers, TLB and cache
// control (SDM vol. 2): LGDT LIDT SGDT SIDT LLDT SLDT LTR STR SMSW LMSW
// CLTS, MOV CRn, MOV DRn, INVLPG, INVD, WBINVD.
//
// Choices and limits:
// - SGDT/SIDT store the full 32-bit base whatever the operand size (current
//   SDM; QEMU stores 24 bits with a 16-bit operand size). LGDT/LIDT with a
//   16-bit operand size load a 24-bit base.
// - SMSW to a 32-bit register returns all of CR0 (P6).
// - CR0: reserved bits are ignored and ET reads as 1; PG without PE, or NW
//   without CD, is #GP(0). CR4: VME and PVI are not implemented (CPUID does
//   not report VME) and, like PAE and every other reserved bit, #GP(0).
// - DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD); DR7.GD makes the next
//   MOV DR a #DB fault with DR6.BD. DR0-DR3 instruction breakpoints are
//   matched (check_instruction_breakpoints); data and I/O breakpoints
//   (R/W = 01, 10, 11) are not.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

constexpr uint32_t kCr0Writable = cr0::PE | cr0::MP | cr0::EM | cr0::TS | cr0::NE | cr0::WP | cr0::AM |
                                  cr0::NW | cr0::CD | cr0::PG;
constexpr uint32_t kCr4Valid = cr4::TSD | cr4::DE | cr4::PSE | cr4::MCE | cr4::PGE | cr4::PCE | cr4::OSFXSR |
                               cr4::OSXMMEXCPT;
constexpr uint32_t kDr6Fixed1 = 0xffff0ff0u, kDr6Writable = 0xe00fu;
constexpr uint32_t kDr7Reserved0 = 0xd800u, kDr7Fixed1 = 0x400u, kDr7Gd = 0x2000u, kDr6Bd = 0x2000u;

// ---- GDTR / IDTR ----

template <bool Idt>
void LGDT_LIDT_Ms(Interpreter& in, const DecodedInsn& d) {
  require_cpl0(in);
  const SegReg seg = in.operand_segment(d.ops[0]);
  const uint32_t ea = in.effective_address(d.ops[0]);
  const uint32_t limit = in.read_mem(seg, ea, 2);
  uint32_t base = in.read_mem(seg, ea + 2, 4);
  if (d.insn.operand_width == 16) base &= 0x00ffffffu;
  (Idt ? in.cpu.idtr : in.cpu.gdtr) = DescriptorTableReg{base, limit};
}

template <bool Idt>
void SGDT_SIDT_Ms(Interpreter& in, const DecodedInsn& d) {
  const DescriptorTableReg& r = Idt ? in.cpu.idtr : in.cpu.gdtr;
  const SegReg seg = in.operand_segment(d.ops[0]);
  const uint32_t ea = in.effective_address(d.ops[0]);
  in.check_write_mem(seg, ea, 6);
  in.write_mem(seg, ea, 2, r.limit);
  in.write_mem(seg, ea + 2, 4, r.base);
}

// ---- LDTR / TR ----

void LLDT_Ew(Interpreter& in, const DecodedInsn& d) {
  require_protected_mode(in);
  require_cpl0(in);
  const uint16_t sel = static_cast<uint16_t>(in.op_read(d, 0));
  if (selector_null(sel)) {
    in.cpu.ldtr = SegmentCache{sel, 0, 0, 0};
    return;
  }
  Descriptor desc;
  if (selector_ldt(sel) || !fetch_descriptor(in, sel, desc) || desc.s() || desc.type() != sys_type::LDT)
    raise_fault(vec::GP, selector_error(sel));
  if (!desc.present()) raise_fault(vec::NP, selector_error(sel));
  in.cpu.ldtr = desc.cache(sel);
}

void LTR_Ew(Interpreter& in, const DecodedInsn& d) {
  require_protected_mode(in);
  require_cpl0(in);
  const uint16_t sel = static_cast<uint16_t>(in.op_read(d, 0));
  if (selector_null(sel)) raise_fault(vec::GP, 0);
  Descriptor desc;
  if (selector_ldt(sel) || !fetch_descriptor(in, sel, desc) || !desc.is_tss() || desc.tss_busy())
    raise_fault(vec::GP, selector_error(sel));
  if (!desc.present()) raise_fault(vec::NP, selector_error(sel));
  set_tss_busy(in, desc, true);
  in.cpu.tr = desc.cache(sel);
}

// SLDT/STR: a 16-bit store to memory; a 32-bit register gets the selector
// zero-extended.
template <bool Tr>
void SLDT_STR_Ew(Interpreter& in, const DecodedInsn& d) {
  require_protected_mode(in);
  in.op_write(d, 0, Tr ? in.cpu.tr.selector : in.cpu.ldtr.selector);
}

// ---- machine status word ----

void SMSW_Ew(Interpreter& in, const DecodedInsn& d) { in.op_write(d, 0, in.cpu.cr0); }

// LMSW loads PE MP EM TS; it can set PE but never clear it.
void LMSW_Ew(Interpreter& in, const DecodedInsn& d) {
  require_cpl0(in);
  const uint32_t src = in.op_read(d, 0) & 0xf;
  const uint32_t old = in.cpu.cr0;
  in.cpu.cr0 = (old & ~0xeu) | src;
  in.on_cr_write(0, old);
}

void CLTS(Interpreter& in, const DecodedInsn&) {
  require_cpl0(in);
  in.cpu.cr0 &= ~cr0::TS;
}

// ---- TLB and caches ----

void INVLPG_M(Interpreter& in, const DecodedInsn& d) {
  require_cpl0(in);
  const ZydisDecodedOperand& m = d.ops[0];
  in.mmu.invlpg(in.cpu.seg[in.operand_segment(m)].base + in.effective_address(m));
}

void cache_control(Interpreter& in, const DecodedInsn&) { require_cpl0(in); }  // INVD, WBINVD: no caches

void write_control_register(Interpreter& in, int cr, uint32_t v) {
  auto& cpu = in.cpu;
  uint32_t old = 0;
  switch (cr) {
    case 0:
      v = (v & kCr0Writable) | cr0::ET;
      if (((v & cr0::PG) && !(v & cr0::PE)) || ((v & cr0::NW) && !(v & cr0::CD))) raise_fault(vec::GP, 0);
      old = cpu.cr0;
      cpu.cr0 = v;
      break;
    case 2:
      cpu.cr2 = v;
      return;
    case 3:
      old = cpu.cr3;
      cpu.cr3 = v;
      break;
    case 4:
      if (v & ~kCr4Valid) raise_fault(vec::GP, 0);
      old = cpu.cr4;
      cpu.cr4 = v;
      break;
    default:
      raise_fault(vec::UD);
  }
  in.on_cr_write(cr, old);
}

int control_register_index(ZydisRegister r) {
  switch (r) {
    case ZYDIS_REGISTER_CR0: return 0;
    case ZYDIS_REGISTER_CR2: return 2;
    case ZYDIS_REGISTER_CR3: return 3;
    case ZYDIS_REGISTER_CR4: return 4;
    default: return -1;
  }
}

}  // namespace

void sys::MOV_CRn(Interpreter& in, const DecodedInsn& d) {
  require_cpl0(in);
  const int to_cr = control_register_index(d.ops[0].reg.value);
  if (to_cr >= 0) {
    write_control_register(in, to_cr, in.reg_read(d.ops[1].reg.value));
    return;
  }
  if (control_register_index(d.ops[1].reg.value) < 0) raise_fault(vec::UD);
  in.reg_write(d.ops[0].reg.value, in.reg_read(d.ops[1].reg.value));
}

void sys::MOV_DRn(Interpreter& in, const DecodedInsn& d) {
  require_cpl0(in);
  auto& cpu = in.cpu;
  const bool to_dr = d.ops[0].reg.value >= ZYDIS_REGISTER_DR0 && d.ops[0].reg.value <= ZYDIS_REGISTER_DR15;
  int n = (to_dr ? d.ops[0].reg.value : d.ops[1].reg.value) - ZYDIS_REGISTER_DR0;
  if (n > 7) raise_fault(vec::UD);
  if (n == 4 || n == 5) {
    if (cpu.cr4 & cr4::DE) raise_fault(vec::UD);
    n += 2;
  }
  if (cpu.dr[7] & kDr7Gd) {  // general detect: a fault before the access
    cpu.dr[6] |= kDr6Bd;
    cpu.dr[7] &= ~kDr7Gd;
    raise_fault(vec::DB);
  }
  if (!to_dr) {
    in.reg_write(d.ops[0].reg.value, cpu.dr[n]);
    return;
  }
  const uint32_t v = in.reg_read(d.ops[1].reg.value);
  if (n == 6) cpu.dr[6] = (v & kDr6Writable) | kDr6Fixed1;
  else if (n == 7) cpu.dr[7] = (v & ~kDr7Reserved0) | kDr7Fixed1;
  else cpu.dr[n] = v;
}

void Interpreter::check_instruction_breakpoints() {
  const uint32_t linear = cpu.seg[CS].base + cpu.eip;
  const uint32_t dr7 = cpu.dr[7];
  uint32_t hits = 0;
  for (int i = 0; i < 4; ++i) {
    const bool enabled = dr7 & (3u << (2 * i));            // Ln or Gn
    const bool execute = ((dr7 >> (16 + 4 * i)) & 0xf) == 0;  // R/W = 00, LEN = 00
    if (enabled && execute && cpu.dr[i] == linear) hits |= 1u << i;
  }
  if (!hits) return;
  cpu.dr[6] |= hits;
  raise_fault(vec::DB);
}

void Interpreter::on_cr_write(int cr, uint32_t old) {
  switch (cr) {
    case 0:
      if (!(cpu.cr0 & cr0::PE)) set_cpl(0);
      if ((old ^ cpu.cr0) & (cr0::PG | cr0::PE | cr0::WP)) mmu.flush(true);
      break;
    case 3:
      mmu.flush(false);
      break;
    case 4:
      if ((old ^ cpu.cr4) & (cr4::PSE | cr4::PGE | cr4::PAE)) mmu.flush(true);
      break;
    default:
      break;
  }
}

void sys::register_privileged_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_LGDT, LGDT_LIDT_Ms<false>);
  t.set(ZYDIS_MNEMONIC_LIDT, LGDT_LIDT_Ms<true>);
  t.set(ZYDIS_MNEMONIC_SGDT, SGDT_SIDT_Ms<false>);
  t.set(ZYDIS_MNEMONIC_SIDT, SGDT_SIDT_Ms<true>);
  t.set(ZYDIS_MNEMONIC_LLDT, LLDT_Ew);
  t.set(ZYDIS_MNEMONIC_LTR, LTR_Ew);
  t.set(ZYDIS_MNEMONIC_SLDT, SLDT_STR_Ew<false>);
  t.set(ZYDIS_MNEMONIC_STR, SLDT_STR_Ew<true>);
  t.set(ZYDIS_MNEMONIC_SMSW, SMSW_Ew);
  t.set(ZYDIS_MNEMONIC_LMSW, LMSW_Ew);
  t.set(ZYDIS_MNEMONIC_CLTS, CLTS);
  t.set(ZYDIS_MNEMONIC_INVLPG, INVLPG_M);
  t.set(ZYDIS_MNEMONIC_INVD, cache_control);
  t.set(ZYDIS_MNEMONIC_WBINVD, cache_control);
}

}  // namespace popek
