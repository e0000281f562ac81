// Hardware task switching (SDM vol. 3 ch. 7) for 32-bit and 16-bit TSSs,
// through JMP, CALL, IRET (back link) and interrupt task gates.
//
// Order: everything that can page-fault (the whole incoming TSS, the
// outgoing TSS's dynamic fields, the back-link field) is touched before any
// state changes. Then the outgoing state is saved, busy bits and the link
// updated, TR, CR0.TS, CR3 (paging on, 32-bit TSS), EFLAGS, EIP and the
// general registers loaded, and finally LDTR and the segment registers
// are validated; faults there are raised in the context of the new task
// (its EIP is the one pushed).
//
// A 16-bit incoming TSS sets the upper halves of the general registers to
// 0xFFFF, clears EFLAGS[31:16] and nulls FS and GS (the SDM leaves these
// undefined; this is what Bochs does). The TSS debug trap bit (T) is not
// acted upon (no #DB with DR6.BT after the switch).
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

struct TssImage {
  uint32_t cr3 = 0, eip = 0, eflags = 0;
  uint32_t regs[8] = {};
  uint16_t segs[6] = {};  // ES CS SS DS FS GS
  uint16_t ldt = 0;
};

// Field offsets of the dynamic state, per TSS width.
struct TssLayout {
  uint32_t eip, eflags, regs, reg_stride, segs, seg_stride, ldt, save_first, save_end;
};
constexpr TssLayout kTss32{0x20, 0x24, 0x28, 4, 0x48, 4, 0x60, 0x20, 0x60};
constexpr TssLayout kTss16{0x0e, 0x10, 0x12, 2, 0x22, 2, 0x2a, 0x0e, 0x2a};

TssImage read_tss(Interpreter& in, uint32_t base, bool is32) {
  const TssLayout& l = is32 ? kTss32 : kTss16;
  const unsigned w = is32 ? 4 : 2;
  TssImage t;
  if (is32) t.cr3 = in.read_sys(base + 0x1c, 4);
  t.eip = in.read_sys(base + l.eip, w);
  t.eflags = in.read_sys(base + l.eflags, w);
  for (int r = 0; r < 8; ++r) {
    t.regs[r] = in.read_sys(base + l.regs + r * l.reg_stride, w);
    if (!is32) t.regs[r] |= 0xffff0000u;
  }
  const int nsegs = is32 ? 6 : 4;  // the 16-bit TSS has no FS/GS
  for (int s = 0; s < nsegs; ++s) t.segs[s] = static_cast<uint16_t>(in.read_sys(base + l.segs + s * l.seg_stride, 2));
  t.ldt = static_cast<uint16_t>(in.read_sys(base + l.ldt, 2));
  t.eflags = (t.eflags & eflags::kDefined) | flag::FIXED1;
  return t;
}

void save_tss(Interpreter& in, uint32_t base, bool is32, uint32_t eip, uint32_t eflags) {
  const TssLayout& l = is32 ? kTss32 : kTss16;
  const unsigned w = is32 ? 4 : 2;
  in.write_sys(base + l.eip, w, eip);
  in.write_sys(base + l.eflags, w, eflags);
  for (int r = 0; r < 8; ++r) in.write_sys(base + l.regs + r * l.reg_stride, w, in.cpu.regs[r]);
  const int nsegs = is32 ? 6 : 4;
  for (int s = 0; s < nsegs; ++s) in.write_sys(base + l.segs + s * l.seg_stride, 2, in.cpu.seg[s].selector);
}

void load_task_ldt(Interpreter& in, uint16_t sel, uint32_t ext) {
  if (selector_null(sel)) {
    in.cpu.ldtr = SegmentCache{sel, 0, 0, 0};
    return;
  }
  Descriptor d;
  if (selector_ldt(sel) || !fetch_descriptor(in, sel, d) || d.s() || d.type() != sys_type::LDT || !d.present())
    raise_fault(vec::TS, selector_error(sel, ext));
  in.cpu.ldtr = d.cache(sel);
}

void load_task_code_segment(Interpreter& in, uint16_t sel, uint32_t ext) {
  Descriptor d;
  if (selector_null(sel) || !fetch_descriptor(in, sel, d) || !d.is_code())
    raise_fault(vec::TS, selector_error(sel, ext));
  if (d.conforming() ? d.dpl() > selector_rpl(sel) : d.dpl() != selector_rpl(sel))
    raise_fault(vec::TS, selector_error(sel, ext));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel, ext));
  load_segment_descriptor(in, CS, sel, d);
}

void load_task_stack_segment(Interpreter& in, uint16_t sel, uint32_t ext) {
  Descriptor d;
  if (selector_null(sel) || !fetch_descriptor(in, sel, d) || !d.writable_data() || d.dpl() != in.cpl() ||
      selector_rpl(sel) != in.cpl())
    raise_fault(vec::TS, selector_error(sel, ext));
  if (!d.present()) raise_fault(vec::SS, selector_error(sel, ext));
  load_segment_descriptor(in, SS, sel, d);
}

void load_task_data_segment(Interpreter& in, SegReg seg, uint16_t sel, uint32_t ext) {
  if (selector_null(sel)) {
    load_null_segment(in, seg, sel);
    return;
  }
  Descriptor d;
  if (!fetch_descriptor(in, sel, d) || !d.s() || !d.readable()) raise_fault(vec::TS, selector_error(sel, ext));
  if (!d.conforming() && (d.dpl() < in.cpl() || d.dpl() < selector_rpl(sel)))
    raise_fault(vec::TS, selector_error(sel, ext));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel, ext));
  load_segment_descriptor(in, seg, sel, d);
}

// Step 12-13 of the switch: selectors first (caches unusable), then each
// descriptor validated and loaded.
void load_task_segments(Interpreter& in, const TssImage& t, uint32_t ext) {
  auto& cpu = in.cpu;
  const bool v86 = t.eflags & flag::VM;
  for (int s = 0; s < 6; ++s) cpu.seg[s] = SegmentCache{t.segs[s], 0, 0, 0};
  cpu.ldtr = SegmentCache{t.ldt, 0, 0, 0};
  in.set_cpl(v86 ? 3 : selector_rpl(t.segs[CS]));
  load_task_ldt(in, t.ldt, ext);
  if (v86) {
    for (int s = 0; s < 6; ++s) load_v86_segment(in, static_cast<SegReg>(s), t.segs[s]);
    return;
  }
  load_task_code_segment(in, t.segs[CS], ext);
  load_task_stack_segment(in, t.segs[SS], ext);
  for (SegReg s : {ES, DS, FS, GS}) load_task_data_segment(in, s, t.segs[s], ext);
}

}  // namespace

void sys::tss_inner_stack(Interpreter& in, unsigned dpl, uint32_t ext, uint16_t& ss, uint32_t& esp) {
  const SegmentCache& tr = in.cpu.tr;
  const uint32_t tr_error = selector_error(tr.selector, ext);
  if (tss_is_32bit(in)) {
    const uint32_t at = dpl * 8 + 4;
    if (at + 5 > tr.limit) raise_fault(vec::TS, tr_error);
    esp = in.read_sys(tr.base + at, 4);
    ss = static_cast<uint16_t>(in.read_sys(tr.base + at + 4, 2));
  } else {
    const uint32_t at = dpl * 4 + 2;
    if (at + 3 > tr.limit) raise_fault(vec::TS, tr_error);
    esp = in.read_sys(tr.base + at, 2);
    ss = static_cast<uint16_t>(in.read_sys(tr.base + at + 2, 2));
  }
}

Descriptor sys::check_task_gate_target(Interpreter& in, uint16_t tss_sel, uint32_t ext) {
  Descriptor d;
  if (selector_ldt(tss_sel) || !fetch_descriptor(in, tss_sel, d) || !d.is_tss() || d.tss_busy())
    raise_fault(vec::GP, selector_error(tss_sel, ext));
  if (!d.present()) raise_fault(vec::NP, selector_error(tss_sel, ext));
  return d;
}

void sys::task_switch(Interpreter& in, uint16_t sel, Descriptor& tss, TaskSwitchReason why, uint32_t return_eip,
                      uint32_t ext) {
  auto& cpu = in.cpu;
  const bool new32 = tss.type() & 8;
  if (tss.limit() < (new32 ? 0x67u : 0x2bu)) raise_fault(vec::TS, selector_error(sel, ext));
  const bool nesting = why == TaskSwitchReason::Call || why == TaskSwitchReason::Interrupt;

  // Touch everything that may page-fault before changing anything.
  const bool old32 = tss_is_32bit(in);
  const uint32_t old_base = cpu.tr.base;
  const TssLayout& ol = old32 ? kTss32 : kTss16;
  TssImage next = read_tss(in, tss.base(), new32);
  in.mmu.check_write(old_base + ol.save_first, ol.save_end - ol.save_first, false);
  if (nesting) in.mmu.check_write(tss.base(), 2, false);
  Descriptor old_desc;
  const bool old_in_gdt = !selector_ldt(cpu.tr.selector) && fetch_descriptor(in, cpu.tr.selector, old_desc);

  // The outgoing task.
  if (!nesting && old_in_gdt && old_desc.is_tss()) set_tss_busy(in, old_desc, false);
  uint32_t old_flags = cpu.eflags;
  if (why == TaskSwitchReason::Iret) old_flags &= ~flag::NT;
  save_tss(in, old_base, old32, return_eip, old_flags);
  if (nesting) {
    in.write_sys(tss.base(), 2, cpu.tr.selector);
    next.eflags |= flag::NT;
  }
  if (why != TaskSwitchReason::Iret) set_tss_busy(in, tss, true);

  // The incoming task.
  cpu.tr = tss.cache(sel);
  cpu.cr0 |= cr0::TS;
  if (new32 && (cpu.cr0 & cr0::PG)) {
    cpu.cr3 = next.cr3;
    in.mmu.flush(false);
  }
  cpu.eflags = next.eflags;
  for (int r = 0; r < 8; ++r) cpu.regs[r] = next.regs[r];
  cpu.eip = in.next_eip = in.insn_eip = next.eip;
  load_task_segments(in, next, ext);
  if (cpu.eip > cpu.seg[CS].limit) raise_fault(vec::GP, 0);
}

}  // namespace popek
