// Segment register loads and descriptor-table access (SDM vol. 3 ch. 3 and
// 5, vol. 2 MOV/POP Sreg).
//
// Real mode: only the selector and base change; the cached limit and the
// G/D-B bits stay (that is what makes "unreal mode" work), the segment
// becomes a present read/write data segment (CS: readable code).
// V86 mode: base = selector << 4, limit 0xFFFF, DPL 3, read/write data
// attributes for every register, CS included (as Bochs and QEMU do).
// Protected mode: the SDM's checks, error codes and accessed-bit update.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

// ---------------------------------------------------------------- descriptor tables

bool sys::fetch_descriptor(Interpreter& in, uint16_t sel, Descriptor& out) {
  uint32_t base, limit;
  if (selector_ldt(sel)) {
    const SegmentCache& ldt = in.cpu.ldtr;
    if (!ldt.present() || selector_null(ldt.selector)) return false;
    base = ldt.base;
    limit = ldt.limit;
  } else {
    base = in.cpu.gdtr.base;
    limit = in.cpu.gdtr.limit;
  }
  const uint32_t off = sel & ~7u;
  if (off + 7 > limit) return false;
  out.addr = base + off;
  out.lo = in.read_sys(out.addr, 4);
  out.hi = in.read_sys(out.addr + 4, 4);
  return true;
}

bool Interpreter::read_descriptor(uint16_t selector, uint64_t& desc) {
  Descriptor d;
  if (!fetch_descriptor(*this, selector, d)) return false;
  desc = uint64_t(d.lo) | (uint64_t(d.hi) << 32);
  return true;
}

void sys::mark_accessed(Interpreter& in, Descriptor& d) {
  if (!d.s() || (d.hi & 0x100)) return;
  d.hi |= 0x100;
  in.write_sys(d.addr + 5, 1, (d.hi >> 8) & 0xff);
}

void sys::set_tss_busy(Interpreter& in, Descriptor& d, bool busy) {
  const uint32_t bit = sys_type::TSS_BUSY_BIT << 8;
  d.hi = busy ? (d.hi | bit) : (d.hi & ~bit);
  in.write_sys(d.addr + 5, 1, (d.hi >> 8) & 0xff);
}

bool sys::offset_in_limit(const SegmentCache& sc, uint32_t offset, unsigned size) {
  const uint32_t last = offset + size - 1;
  if (last < offset) return false;  // wraps past 4 GiB
  const bool expand_down =
      (sc.attr & seg_attr::S) && !(sc.attr & seg_attr::CODE) && (sc.attr & seg_attr::EXPAND_DOWN);
  if (expand_down) return offset > sc.limit && last <= (sc.big() ? 0xffffffffu : 0xffffu);
  return last <= sc.limit;
}

// ---------------------------------------------------------------- cache loads

void sys::load_segment_descriptor(Interpreter& in, SegReg seg, uint16_t sel, Descriptor& d) {
  mark_accessed(in, d);
  in.cpu.seg[seg] = d.cache(sel);
}

void sys::load_code_segment(Interpreter& in, uint16_t sel, Descriptor& d, unsigned cpl) {
  load_segment_descriptor(in, CS, static_cast<uint16_t>((sel & 0xfffc) | cpl), d);
  in.set_cpl(cpl);
}

void sys::load_null_segment(Interpreter& in, SegReg seg, uint16_t sel) {
  in.cpu.seg[seg] = SegmentCache{sel, 0, 0, 0};
}

void sys::load_v86_segment(Interpreter& in, SegReg seg, uint16_t sel) {
  constexpr uint16_t kAttr = seg_attr::P | seg_attr::S | (3 << seg_attr::DPL_SHIFT) | seg_attr::WRITABLE |
                             seg_attr::ACCESSED;
  in.cpu.seg[seg] = SegmentCache{sel, kAttr, uint32_t(sel) << 4, 0xffff};
}

void Interpreter::load_segment_real(SegReg seg, uint16_t selector) {
  SegmentCache& sc = cpu.seg[seg];
  const uint16_t kept = sc.attr & (seg_attr::G | seg_attr::DB | seg_attr::AVL);
  const uint16_t type = seg == CS ? (seg_attr::CODE | seg_attr::READABLE | seg_attr::ACCESSED)
                                  : (seg_attr::WRITABLE | seg_attr::ACCESSED);
  sc.selector = selector;
  sc.base = uint32_t(selector) << 4;
  sc.attr = kept | seg_attr::P | seg_attr::S | type;
}

void sys::null_inaccessible_data_segments(Interpreter& in) {
  for (SegReg s : {ES, FS, GS, DS}) {
    const SegmentCache& sc = in.cpu.seg[s];
    if (!sc.present()) continue;
    const bool code = sc.attr & seg_attr::CODE;
    const bool conforming_code = code && (sc.attr & seg_attr::CONFORMING);
    if (!conforming_code && sc.dpl() < in.cpl()) load_null_segment(in, s, 0);
  }
}

// ---------------------------------------------------------------- checks

Descriptor sys::check_stack_segment(Interpreter& in, uint16_t sel, unsigned cpl, StackCheck ctx, uint32_t ext) {
  const uint8_t invalid = ctx == StackCheck::InnerTss ? vec::TS : vec::GP;
  if (selector_null(sel)) raise_fault(invalid, ext);
  Descriptor d;
  if (!fetch_descriptor(in, sel, d)) raise_fault(invalid, selector_error(sel, ext));
  if (selector_rpl(sel) != cpl || !d.writable_data() || d.dpl() != cpl)
    raise_fault(invalid, selector_error(sel, ext));
  if (!d.present()) raise_fault(vec::SS, selector_error(sel, ext));
  return d;
}

Descriptor sys::check_return_code_segment(Interpreter& in, uint16_t sel) {
  if (selector_null(sel)) raise_fault(vec::GP, 0);
  Descriptor d;
  if (!fetch_descriptor(in, sel, d) || !d.is_code() || selector_rpl(sel) < in.cpl())
    raise_fault(vec::GP, selector_error(sel));
  if (d.conforming() ? d.dpl() > selector_rpl(sel) : d.dpl() != selector_rpl(sel))
    raise_fault(vec::GP, selector_error(sel));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel));
  return d;
}

namespace {

// MOV/POP/LxS to DS, ES, FS or GS in protected mode.
void load_data_segment_protected(Interpreter& in, SegReg seg, uint16_t sel) {
  if (selector_null(sel)) {
    load_null_segment(in, seg, sel);
    return;
  }
  Descriptor d;
  if (!fetch_descriptor(in, sel, d) || !d.s() || !d.readable()) raise_fault(vec::GP, selector_error(sel));
  if (!d.conforming() && (selector_rpl(sel) > d.dpl() || in.cpl() > d.dpl()))
    raise_fault(vec::GP, selector_error(sel));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel));
  load_segment_descriptor(in, seg, sel, d);
}

}  // namespace

void Interpreter::load_segment(SegReg seg, uint16_t selector) {
  if (real_mode()) {
    load_segment_real(seg, selector);
  } else if (v86_mode()) {
    load_v86_segment(*this, seg, selector);
  } else if (seg == SS) {
    Descriptor d = check_stack_segment(*this, selector, cpl(), StackCheck::MovSs);
    load_segment_descriptor(*this, SS, selector, d);
  } else if (seg == CS) {
    // CS changes only through far transfers, which validate it themselves.
    raise_fault(vec::GP, selector_error(selector));
  } else {
    load_data_segment_protected(*this, seg, selector);
  }
}

// ---------------------------------------------------------------- stack frames

void StackFrame::push(uint32_t value, unsigned size) {
  if (count_ == kMaxSlots) raise_fault(vec::SS, error_);  // unreachable: frames are bounded
  sp_ -= size;
  if (!ss_.big()) sp_ &= 0xffff;
  slots_[count_++] = Slot{sp_, size == 2 ? (value & 0xffff) : value, static_cast<uint8_t>(size)};
}

void StackFrame::check_limits() const {
  for (int i = 0; i < count_; ++i)
    if (!offset_in_limit(ss_, slots_[i].offset, slots_[i].size)) raise_fault(vec::SS, error_);
}

void StackFrame::write(Interpreter& in) const {
  const bool user = cpl_ == 3;
  for (int i = 0; i < count_; ++i) in.mmu.check_write(ss_.base + slots_[i].offset, slots_[i].size, user);
  for (int i = 0; i < count_; ++i) in.mmu.write(ss_.base + slots_[i].offset, slots_[i].size, slots_[i].value, user);
}

}  // namespace popek
