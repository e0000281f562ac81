// Memory operands: guest effective address, segment checks, and the inline
// software TLB.
//
// Fast path (flat segment, 32-bit addressing), 9 instructions plus the flag
// stash:
//   lea   r8d, [ea]                     guest offset = linear (flat)
//   mov   r9d, r8d
//   shr   r9d, 8                        page number * 16 ...
//   and   r9d, (entries - 1) * 16       ... masked: the entry's offset
//   lea   r11d, [r8 + size - 1]         page of the access's last byte
//   and   r11d, 0xfffff000
//   cmp   r11d, [r13 + r9 + tlb.tag]    a crossing access never matches
//   jne   miss
//   add   r8, [r13 + r9 + tlb.addend]   host pointer
// A segment that is not flat adds a limit/rights check against the context's
// segment table (one compare: -1 there forces the slow path) and the base.
// The guest flags are stashed in r10 before the lookup with LAHF/SETO and
// restored with CMP/SAHF (never PUSHF) only where something reads them (see
// the flag-location tracking in emitter_internal.h): the slow path always
// restores them, so a fault sees exact EFLAGS.
//
// The entry array is chosen at translation time by the block's CPL (user or
// supervisor entries, DbtContext::tlb), so a CPL change never flushes.
//
// Slow paths (cold): a TLB miss calls the fill routine and retries; a fill
// that cannot install an entry (page fault, MMIO, ROM write, code page,
// page-crossing access) or a failed segment check runs the whole guest
// instruction in the interpreter, which raises any fault precisely (nothing
// of the instruction has executed yet). A fill that failed with a page
// fault where that fault is certainly the instruction's first
// (fill_fault_is_exact, site_flag::kFillFaultExact) has the fallback helper
// deliver the #PF directly instead: no interpreter run, no C++ exception.
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

namespace {

unsigned scale_shift(uint8_t scale) {
  switch (scale) {
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    default: return 0;
  }
}

}  // namespace

void Emission::effective_address(const ZydisDecodedOperand& op, unsigned address_width) {
  const auto& m = op.mem;
  const int32_t disp = static_cast<int32_t>(m.disp.value);
  const bool has_base = m.base != ZYDIS_REGISTER_NONE;
  const bool has_index = m.index != ZYDIS_REGISTER_NONE;
  const unsigned shift = scale_shift(m.scale);
  if (has_base && has_index) {
    a.lea(host::kAddr.r32(), x86::ptr(host_register64(m.base), host_register64(m.index), shift, disp));
  } else if (has_base) {
    a.lea(host::kAddr.r32(), x86::ptr(host_register64(m.base), disp));
  } else if (has_index) {
    if (shift == 0)
      a.lea(host::kAddr.r32(), x86::ptr(host_register64(m.index), disp));
    else
      a.lea(host::kAddr.r32(),
            x86::ptr_abs(static_cast<uint64_t>(static_cast<int64_t>(disp)), host_register64(m.index), shift));
  } else {
    a.mov(host::kAddr.r32(), imm(static_cast<uint32_t>(disp)));
  }
  // 16-bit addressing wraps the offset at 64 KiB.
  if (address_width == 16) a.movzx(host::kAddr.r32(), host::kAddr.r16());
}

void Emission::host_pointer(unsigned k, asmjit::Label resume) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const ZydisDecodedOperand& op = gi.d.ops[ip.mem_op];
  SegReg seg = Interpreter::sreg_index(op.mem.segment);
  if (seg == SEG_NONE) seg = DS;
  effective_address(op, gi.d.insn.address_width);
  guarded_access(k, seg, ip.mem_size, ip.kind, resume);
}

asmjit::Label Emission::guarded_access(unsigned k, SegReg seg, unsigned size, TlbKind tlb_kind,
                                       asmjit::Label resume) {
  const bool flat_segment = opt.flat && (seg == DS || seg == ES || seg == SS);
  const unsigned kind = static_cast<unsigned>(tlb_kind);
  // The block's CPL is fixed (it is in the mode key): CPL 3 code reads the
  // user entries, CPL 0-2 code the supervisor ones.
  const TlbPrivilege priv =
      ((meta.key.mode >> mode_bit::kCplShift) & 3) == 3 ? TlbPrivilege::User : TlbPrivilege::Supervisor;
  asmjit::Label slow = a.newLabel(), miss = a.newLabel(), retry = a.newLabel();
  need_stash();
  rflags_clobbered();
  if (!flat_segment) {
    a.lea(host::kTmp1, x86::ptr(host::kAddr, static_cast<int32_t>(size - 1)));
    a.cmp(host::kTmp1, ctx_field(offsetof(DbtContext, seg_limit) + (kind * 8 + seg) * 8, 8));
    a.jg(slow);
    a.add(host::kAddr.r32(),
          seq::cpu_field(offsetof(CpuState, seg) + seg * sizeof(SegmentCache) + offsetof(SegmentCache, base), 4));
  }
  a.bind(retry);
  const int32_t tlb = static_cast<int32_t>(offsetof(DbtContext, tlb) +
                                           (unsigned(priv) * kTlbKinds + kind) * kTlbEntries * sizeof(TlbEntry));
  a.mov(host::kTmp1.r32(), host::kAddr.r32());
  a.shr(host::kTmp1.r32(), 12 - 4);
  a.and_(host::kTmp1.r32(), imm((kTlbEntries - 1) << 4));
  if (size > 1)
    a.lea(host::kTmp2.r32(), x86::ptr(host::kAddr, static_cast<int32_t>(size - 1)));
  else
    a.mov(host::kTmp2.r32(), host::kAddr.r32());
  a.and_(host::kTmp2.r32(), imm(0xfffff000u));
  a.cmp(host::kTmp2.r32(), x86::ptr(host::kCtx, host::kTmp1, 0, tlb + offsetof(TlbEntry, tag), 4));
  a.jne(miss);
  a.add(host::kAddr, x86::ptr(host::kCtx, host::kTmp1, 0, tlb + offsetof(TlbEntry, addend), 8));

  // A REP string site looks up the first byte of the first element only:
  // its fault is that element's when the segment check covers the element
  // too (a flat segment has nothing to check).
  const InsnPlan& ip = plan.insns[k];
  const bool exact = fill_fault_is_exact(ip.how) &&
                     (ip.how != Lowering::RepString || flat_segment || size == ip.mem_size);
  const uint8_t exact_flag = exact ? site_flag::kFillFaultExact : 0;
  FallbackSite* site = new_site(k, site_flag::kMemorySlowPath | exact_flag);
  const uint32_t request = tlb_fill_request(tlb_kind, priv, size);
  cold.push_back([this, slow, miss, retry, resume, site, request] {
    a.bind(miss);
    a.mov(host::kTmp1.r32(), imm(request));
    a.call(imm(rt.tlb_fill));
    a.test(host::kTmp1.r32(), host::kTmp1.r32());
    a.jnz(retry);
    a.bind(slow);
    stashed_fallback(site, resume);
  });
  return slow;
}

}  // namespace popek::dbt
