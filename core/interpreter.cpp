#include "core/interpreter.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace popek {

Interpreter::Interpreter(CpuState& cpu_, PhysicalMemory& mem_, IoBus& io_, VirtualClock& clock_,
                         InterruptController* intc_)
    : cpu(cpu_), mem(mem_), io(io_), clock(clock_), intc(intc_), mmu(cpu_, mem_),
      dcache_(kDecodeCacheEntries) {
  register_arith_handlers(handlers_);
  register_logic_handlers(handlers_);
  register_datamove_handlers(handlers_);
  register_stack_handlers(handlers_);
  register_control_handlers(handlers_);
  register_string_handlers(handlers_);
  register_system_handlers(handlers_);
  register_x87_handlers(handlers_);
}

void Interpreter::reset() {
  std::memset(&cpu, 0, sizeof cpu);
  cpu.eflags = flag::FIXED1;
  cpu.eip = 0xfff0;
  for (int s = 0; s < 6; ++s) {
    cpu.seg[s] = SegmentCache{0, static_cast<uint16_t>(seg_attr::P | seg_attr::S | 0x3), 0, 0xffff};
  }
  cpu.seg[CS].selector = 0xf000;
  cpu.seg[CS].base = 0xffff0000u;
  cpu.seg[CS].attr = seg_attr::P | seg_attr::S | seg_attr::CODE | seg_attr::READABLE | seg_attr::ACCESSED;
  cpu.ldtr = SegmentCache{0, static_cast<uint16_t>(seg_attr::P | 0x2), 0, 0xffff};
  cpu.tr = SegmentCache{0, static_cast<uint16_t>(seg_attr::P | 0xb), 0, 0xffff};
  cpu.gdtr = DescriptorTableReg{0, 0xffff};
  cpu.idtr = DescriptorTableReg{0, 0xffff};
  cpu.cr0 = cr0::ET | cr0::CD | cr0::NW;
  cpu.dr[6] = 0xffff0ff0u;
  cpu.dr[7] = 0x400;
  cpu.regs[EDX] = 0x0633;  // family 6, model 3, stepping 3 (Pentium II)
  cpu.a20_enabled = 1;
  cpu.fpu.cw = 0x40;  // FNINIT sets 0x37f; reset leaves 0x40
  cpu.fpu.tw = 0x5555;
  cpu.msr.apic_base = 0xfee00900ull;
  cpu.mxcsr = 0x1f80;
  mmu.flush(true);
}

// ---------------------------------------------------------------- registers

int Interpreter::gpr_index(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) return r - ZYDIS_REGISTER_EAX;
  if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) return r - ZYDIS_REGISTER_AX;
  if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) return r - ZYDIS_REGISTER_AL;
  if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) return r - ZYDIS_REGISTER_AH;
  return -1;
}

SegReg Interpreter::sreg_index(ZydisRegister r) {
  switch (r) {
    case ZYDIS_REGISTER_ES: return ES;
    case ZYDIS_REGISTER_CS: return CS;
    case ZYDIS_REGISTER_SS: return SS;
    case ZYDIS_REGISTER_DS: return DS;
    case ZYDIS_REGISTER_FS: return FS;
    case ZYDIS_REGISTER_GS: return GS;
    default: return SEG_NONE;
  }
}

uint32_t Interpreter::reg_read(ZydisRegister r) const {
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) return cpu.regs[r - ZYDIS_REGISTER_EAX];
  if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) return cpu.regs[r - ZYDIS_REGISTER_AX] & 0xffff;
  if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) return cpu.regs[r - ZYDIS_REGISTER_AL] & 0xff;
  if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) return (cpu.regs[r - ZYDIS_REGISTER_AH] >> 8) & 0xff;
  SegReg s = sreg_index(r);
  if (s != SEG_NONE) return cpu.seg[s].selector;
  switch (r) {
    case ZYDIS_REGISTER_CR0: return cpu.cr0;
    case ZYDIS_REGISTER_CR2: return cpu.cr2;
    case ZYDIS_REGISTER_CR3: return cpu.cr3;
    case ZYDIS_REGISTER_CR4: return cpu.cr4;
    case ZYDIS_REGISTER_EIP: return cpu.eip;
    case ZYDIS_REGISTER_IP: return cpu.eip & 0xffff;
    case ZYDIS_REGISTER_EFLAGS: return cpu.eflags;
    case ZYDIS_REGISTER_FLAGS: return cpu.eflags & 0xffff;
    default: break;
  }
  if (r >= ZYDIS_REGISTER_DR0 && r <= ZYDIS_REGISTER_DR7) return cpu.dr[r - ZYDIS_REGISTER_DR0];
  return 0;
}

void Interpreter::reg_write(ZydisRegister r, uint32_t v) {
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) {
    cpu.regs[r - ZYDIS_REGISTER_EAX] = v;
  } else if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) {
    uint32_t& g = cpu.regs[r - ZYDIS_REGISTER_AX];
    g = (g & 0xffff0000u) | (v & 0xffff);
  } else if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) {
    uint32_t& g = cpu.regs[r - ZYDIS_REGISTER_AL];
    g = (g & 0xffffff00u) | (v & 0xff);
  } else if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
    uint32_t& g = cpu.regs[r - ZYDIS_REGISTER_AH];
    g = (g & 0xffff00ffu) | ((v & 0xff) << 8);
  }
}

// ---------------------------------------------------------------- operands

uint32_t Interpreter::effective_address(const ZydisDecodedOperand& op) const {
  const auto& m = op.mem;
  uint32_t ea = static_cast<uint32_t>(m.disp.value);
  if (m.base != ZYDIS_REGISTER_NONE) ea += reg_read(m.base);
  if (m.index != ZYDIS_REGISTER_NONE) ea += reg_read(m.index) * (m.scale ? m.scale : 1);
  // Zydis reports the address width per instruction; 16-bit addressing wraps.
  return cur && cur->insn.address_width == 16 ? (ea & 0xffff) : ea;
}

SegReg Interpreter::operand_segment(const ZydisDecodedOperand& op) const {
  SegReg s = sreg_index(op.mem.segment);
  return s == SEG_NONE ? DS : s;
}

uint32_t Interpreter::op_read(const DecodedInsn& d, int i) {
  const ZydisDecodedOperand& op = d.ops[i];
  switch (op.type) {
    case ZYDIS_OPERAND_TYPE_REGISTER: return reg_read(op.reg.value);
    case ZYDIS_OPERAND_TYPE_MEMORY:
      return read_mem(operand_segment(op), effective_address(op), op.size / 8);
    case ZYDIS_OPERAND_TYPE_IMMEDIATE: {
      // A sign-extended immediate (83 /n ib, 6B, 6A) has op.size 8 but acts
      // at the instruction's operand size; unsigned ones (INT n, ENTER,
      // RET imm16, port numbers) keep their own width.
      uint32_t v = static_cast<uint32_t>(op.imm.value.u);
      unsigned bits = op.imm.is_signed ? std::max<unsigned>(op.size, d.insn.operand_width) : op.size;
      return bits < 32 ? v & ((1u << bits) - 1) : v;
    }
    default: return 0;
  }
}

void Interpreter::op_write(const DecodedInsn& d, int i, uint32_t value) {
  const ZydisDecodedOperand& op = d.ops[i];
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    reg_write(op.reg.value, value);
  } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    write_mem(operand_segment(op), effective_address(op), op.size / 8, value);
  }
}

// ---------------------------------------------------------------- segmented memory

uint32_t Interpreter::linear_address(SegReg seg, uint32_t offset, unsigned size, AccessType type) {
  const SegmentCache& sc = cpu.seg[seg];
  const uint8_t fault_vec = seg == SS ? vec::SS : vec::GP;
  const bool checks_rights = protected_mode() && !v86_mode();
  if (checks_rights) {
    if (!sc.present()) raise_fault(fault_vec, 0);
    uint16_t t = sc.attr & seg_attr::TYPE_MASK;
    if (sc.attr & seg_attr::S) {
      bool code = t & seg_attr::CODE;
      if (type == AccessType::Write && (code || !(t & seg_attr::WRITABLE))) raise_fault(fault_vec, 0);
      if (type == AccessType::Read && code && !(t & seg_attr::READABLE)) raise_fault(fault_vec, 0);
    }
  }
  uint32_t last = offset + size - 1;
  bool expand_down = (sc.attr & seg_attr::S) && !(sc.attr & seg_attr::CODE) && (sc.attr & seg_attr::EXPAND_DOWN);
  if (expand_down) {
    uint32_t upper = sc.big() ? 0xffffffffu : 0xffffu;
    if (offset <= sc.limit || last > upper || last < offset) raise_fault(fault_vec, 0);
  } else {
    if (last > sc.limit || last < offset) raise_fault(fault_vec, 0);
  }
  const uint32_t lin = sc.base + offset;
  // Alignment check: CPL 3 (incl. V86) with CR0.AM and EFLAGS.AC set. Data
  // of 8 bytes or more (m64, m80) must be 8-byte aligned.
  if (size > 1 && cpu.cpl == 3 && (cpu.cr0 & cr0::AM) && (cpu.eflags & flag::AC)) {
    uint32_t align = size >= 8 ? 8 : size;
    if (lin & (align - 1)) raise_fault(vec::AC, 0);
  }
  return lin;
}

uint32_t Interpreter::read_mem(SegReg seg, uint32_t offset, unsigned size) {
  uint32_t lin = linear_address(seg, offset, size, AccessType::Read);
  return mmu.read(lin, size, AccessType::Read, user_access());
}

void Interpreter::write_mem(SegReg seg, uint32_t offset, unsigned size, uint32_t value) {
  uint32_t lin = linear_address(seg, offset, size, AccessType::Write);
  mmu.write(lin, size, value, user_access());
}

void Interpreter::check_write_mem(SegReg seg, uint32_t offset, unsigned size) {
  uint32_t lin = linear_address(seg, offset, size, AccessType::Write);
  mmu.check_write(lin, size, user_access());
}

uint64_t Interpreter::read_mem64(SegReg seg, uint32_t offset) {
  uint32_t lin = linear_address(seg, offset, 8, AccessType::Read);
  return mmu.read64(lin, user_access());
}

void Interpreter::write_mem64(SegReg seg, uint32_t offset, uint64_t value) {
  uint32_t lin = linear_address(seg, offset, 8, AccessType::Write);
  mmu.write64(lin, value, user_access());
}

// ---------------------------------------------------------------- stack

void Interpreter::set_stack_pointer(uint32_t v) {
  if (stack32()) cpu.regs[ESP] = v;
  else cpu.regs[ESP] = (cpu.regs[ESP] & 0xffff0000u) | (v & 0xffff);
}

void Interpreter::push(uint32_t value, unsigned size) {
  uint32_t sp = stack_pointer() - size;
  if (!stack32()) sp &= 0xffff;
  write_mem(SS, sp, size, value);
  set_stack_pointer(sp);
}

uint32_t Interpreter::pop(unsigned size) {
  uint32_t sp = stack_pointer();
  uint32_t v = read_mem(SS, sp, size);
  set_stack_pointer(sp + size);
  return v;
}

uint32_t Interpreter::stack_read(uint32_t off, unsigned size) {
  uint32_t sp = stack_pointer() + off;
  if (!stack32()) sp &= 0xffff;
  return read_mem(SS, sp, size);
}

// ---------------------------------------------------------------- flags and branches

bool Interpreter::condition(unsigned cc) const {
  const uint32_t f = cpu.eflags;
  bool r;
  switch (cc >> 1) {
    case 0: r = f & flag::OF; break;
    case 1: r = f & flag::CF; break;
    case 2: r = f & flag::ZF; break;
    case 3: r = f & (flag::CF | flag::ZF); break;
    case 4: r = f & flag::SF; break;
    case 5: r = f & flag::PF; break;
    case 6: r = !(f & flag::SF) != !(f & flag::OF); break;
    default: r = (f & flag::ZF) || (!(f & flag::SF) != !(f & flag::OF)); break;
  }
  return (cc & 1) ? !r : r;
}

void Interpreter::branch_near(uint32_t target, unsigned opsize) {
  if (opsize == 2) target &= 0xffff;
  if (target > cpu.seg[CS].limit) raise_fault(vec::GP, 0);
  next_eip = target;
}

// ---------------------------------------------------------------- fetch, execute

void Interpreter::fetch_decode(DecodedInsn& out) {
  GuestFault fault;
  if (!fetch_decode(out, fault)) throw fault;
}

bool Interpreter::fetch_decode(DecodedInsn& out, GuestFault& fault) {
  const SegmentCache& cs = cpu.seg[CS];
  uint32_t eip = cpu.eip;
  if (eip > cs.limit) raise_fault(vec::GP, 0);
  uint32_t avail = cs.limit - eip + 1;  // bytes inside the CS limit
  if (avail == 0 || avail > 15) avail = 15;
  uint32_t lin = cs.base + eip;
  uint8_t buf[16];
  uint32_t in_page = 0x1000 - (lin & 0xfff);
  uint32_t have = avail < in_page ? avail : in_page;
  Mmu::Translation t = mmu.try_translate(lin, AccessType::Fetch, user_access());
  if (t.fault) {
    fault = mmu.take_page_fault(lin, t.error_code);
    return false;
  }
  for (uint32_t i = 0; i < have; ++i) buf[i] = mem.read8(t.pa + i);
  for (;;) {
    DecodeStatus st = decoder_.decode(buf, have, code32(), stack32(), out);
    if (st == DecodeStatus::Ok) return true;
    if (st == DecodeStatus::Invalid) raise_fault(vec::UD);
    if (have >= avail) {
      // Ran into the CS limit (or 15 bytes) before the instruction ended.
      if (avail < 15) raise_fault(vec::GP, 0);
      raise_fault(vec::UD);
    }
    // The instruction continues on the next page: fetch the rest (may #PF).
    uint32_t next_lin = lin + have;
    t = mmu.try_translate(next_lin, AccessType::Fetch, user_access());
    if (t.fault) {
      fault = mmu.take_page_fault(next_lin, t.error_code);
      return false;
    }
    uint32_t more = avail - have;
    for (uint32_t i = 0; i < more; ++i) buf[have + i] = mem.read8(t.pa + i);
    have = avail;
  }
}

const DecodedInsn& Interpreter::fetch_decode_cached() {
  GuestFault fault;
  const DecodedInsn* d = fetch_decode_cached(fault);
  if (!d) throw fault;
  return *d;
}

const DecodedInsn* Interpreter::fetch_decode_cached(GuestFault& fault) {
  const SegmentCache& cs = cpu.seg[CS];
  const uint32_t eip = cpu.eip;
  const uint32_t lin = cs.base + eip;
  // Only instructions wholly inside one page of RAM/ROM and the CS limit are
  // cached; everything else takes the exact slow path.
  if (eip <= cs.limit && (lin & 0xfff) <= 0x1000 - 15 && cs.limit - eip >= 14) {
    const Mmu::Translation t = mmu.try_translate(lin, AccessType::Fetch, user_access());
    if (t.fault) {
      fault = mmu.take_page_fault(lin, t.error_code);
      return nullptr;
    }
    const uint32_t pa = t.pa;
    if (const uint8_t* host = mem.host_ptr_read(pa)) {
      uint8_t mode = static_cast<uint8_t>(code32() | (stack32() << 1));
      DecodeCacheEntry& e = dcache_[(pa ^ (pa >> 12)) % kDecodeCacheEntries];
      if (e.pa == pa && e.mode == mode && std::memcmp(host, e.insn.bytes, e.insn.insn.length) == 0) {
        ++dcache_hits_;
        return &e.insn;
      }
      DecodeStatus st = decoder_.decode(host, 15, mode & 1, mode >> 1, e.insn);
      if (st != DecodeStatus::Ok) {
        e.pa = 0xffffffffu;
        raise_fault(vec::UD);
      }
      e.pa = pa;
      e.mode = mode;
      return &e.insn;
    }
  }
  return fetch_decode(scratch_insn_, fault) ? &scratch_insn_ : nullptr;
}

void Interpreter::unimplemented(const DecodedInsn& d) {
  ++unimplemented_count_;
  if (logged_unimplemented_.insert(d.insn.mnemonic).second) {
    std::fprintf(stderr, "popek: unimplemented instruction %s at %04x:%08x, bytes",
                 ZydisMnemonicGetString(d.insn.mnemonic), cpu.seg[CS].selector, insn_eip);
    for (unsigned i = 0; i < d.insn.length; ++i) std::fprintf(stderr, " %02x", d.bytes[i]);
    std::fprintf(stderr, " (raising #UD)\n");
  }
  raise_fault(vec::UD);
}

void Interpreter::execute(const DecodedInsn& d) {
  InsnHandler h = handlers_.get(d.insn.mnemonic);
  if (!h) unimplemented(d);
  h(*this, d);
}

bool Interpreter::try_deliver_external_interrupt() {
  if (cpu.nmi_pending && !cpu.in_nmi) {
    cpu.nmi_pending = 0;
    cpu.in_nmi = 1;
    cpu.halted = 0;
    insn_eip = cpu.eip;
    interrupt(vec::NMI, IntKind::Hardware, false, 0, cpu.eip);
    return true;
  }
  if (!(cpu.eflags & flag::IF) || !intc || !intc->intr_pending()) return false;
  uint8_t vector = intc->acknowledge();
  cpu.halted = 0;
  insn_eip = cpu.eip;
  interrupt(vector, IntKind::Hardware, false, 0, cpu.eip);
  return true;
}

void Interpreter::run_decoded(const DecodedInsn& d) {
  cur = &d;
  next_eip = insn_eip + d.insn.length;
  if (!code32()) next_eip &= 0xffff;
  execute(d);
  cpu.eip = next_eip;
  cpu.eflags &= ~flag::RF;
}

std::optional<GuestFault> Interpreter::execute_one() {
  insn_eip = cpu.eip;
  try {
    run_decoded(fetch_decode_cached());
  } catch (const GuestFault& f) {
    cur = nullptr;
    return f;
  }
  cur = nullptr;
  return std::nullopt;
}

std::optional<GuestFault> Interpreter::execute_one(const DecodedInsn& d) {
  insn_eip = cpu.eip;
  suppress_single_step = false;
  try {
    run_decoded(d);
  } catch (const GuestFault& f) {
    cur = nullptr;
    return f;
  }
  cur = nullptr;
  return std::nullopt;
}

StepResult Interpreter::step() {
  try {
    if (cpu.inhibit_irq) {
      cpu.inhibit_irq = 0;
    } else {
      bool delivered = false;
      try {
        delivered = try_deliver_external_interrupt();
      } catch (const GuestFault& f) {
        deliver_fault(f);
        delivered = true;
      }
      if (delivered) {
        clock.retire(1);
        return StepResult::Ok;
      }
    }
    if (cpu.halted) return StepResult::Halted;

    insn_eip = cpu.eip;
    const bool single_step = cpu.eflags & flag::TF;
    suppress_single_step = false;
    try {
      if ((cpu.dr[7] & 0xff) && !(cpu.eflags & flag::RF)) check_instruction_breakpoints();
      GuestFault fetch_fault;
      const DecodedInsn* d = fetch_decode_cached(fetch_fault);
      if (!d) {  // a page fault of the fetch, handed back: delivered without a throw
        clock.retire(1);
        deliver_fault(fetch_fault);
        return StepResult::Ok;
      }
      run_decoded(*d);
      ++retired_;
      clock.retire(1);
      if (single_step && !suppress_single_step) {
        // A trap: delivered after the instruction, pointing past it.
        cpu.dr[6] |= 0x4000;  // BS
        insn_eip = cpu.eip;
        deliver_fault(GuestFault{vec::DB, false, 0});
      }
    } catch (const GuestFault& f) {
      cur = nullptr;
      clock.retire(1);
      deliver_fault(f);
    }
    cur = nullptr;
    return StepResult::Ok;
  } catch (const TripleFault&) {
    cur = nullptr;
    if (hooks.on_triple_fault) hooks.on_triple_fault();
    return StepResult::TripleFault;
  }
}

StepResult Interpreter::fault_step(const GuestFault& f) {
  insn_eip = cpu.eip;
  suppress_single_step = false;
  cur = nullptr;
  clock.retire(1);
  try {
    deliver_fault(f);
  } catch (const TripleFault&) {
    if (hooks.on_triple_fault) hooks.on_triple_fault();
    return StepResult::TripleFault;
  }
  return StepResult::Ok;
}

namespace {
enum class FaultClass { Benign, Contributory, PageFault };
FaultClass classify(uint8_t v) {
  if (v == vec::DE || (v >= vec::TS && v <= vec::GP)) return FaultClass::Contributory;
  if (v == vec::PF) return FaultClass::PageFault;
  return FaultClass::Benign;
}
}  // namespace

void Interpreter::deliver_fault(const GuestFault& f) {
  cpu.inhibit_irq = 0;
  if (delivering_ == vec::DF) throw TripleFault{};
  int saved = delivering_;
  delivering_ = f.vector;
  try {
    interrupt(f.vector, IntKind::Exception, f.has_error, f.error_code, insn_eip);
    delivering_ = saved;
  } catch (const GuestFault& second) {
    FaultClass first_class = classify(f.vector);
    FaultClass second_class = classify(second.vector);
    bool double_fault =
        (first_class == FaultClass::Contributory && second_class == FaultClass::Contributory) ||
        (first_class == FaultClass::PageFault && second_class != FaultClass::Benign);
    if (f.vector == vec::DF) {
      delivering_ = saved;
      throw TripleFault{};
    }
    if (double_fault) {
      delivering_ = saved;
      deliver_fault(GuestFault{vec::DF, true, 0});
    } else {
      delivering_ = saved;
      deliver_fault(second);
    }
  }
}

}  // namespace popek
