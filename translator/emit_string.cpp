// String instructions without a REP prefix: STOS, LODS, MOVS.
//
// Each access goes through the segment check and inline TLB like any memory
// operand (ES:[EDI] for the destination, never overridden; DS or the
// override for [ESI]), with SI/DI and a 16-bit wrap for 16-bit addressing.
// MOVS reads into r14 first and writes second; ESI/EDI are committed only
// after every access went through, so a slow path (which runs the whole
// instruction in the interpreter) starts from the original registers. The
// step is +size or -size by EFLAGS.DF, read from CpuState (the host's DF
// stays clear).
//
// REP forms: the interpreter runs a REP in chunks of at most 1024
// iterations, each chunk one step that leaves EIP on the instruction while
// the count is not exhausted. The translation does exactly one such chunk
// (n = min(ECX, 1024) iterations) as a host REP MOVS/STOS/SCAS on host
// pointers, when everything it touches is on one page that the TLB maps
// (flat segments, 32-bit addressing, DF clear); a chunk that leaves the count
// non-zero then leaves the block with EIP on the instruction and the later
// slots unretired, exactly as the interpreter's step does. Everything else
// (DF set, a chunk crossing a page, a TLB entry that cannot be installed:
// fault, MMIO, code page) runs the whole instruction in the interpreter
// before anything was committed. REPE/REPNE SCAS may stop early, so it
// scans up to the page end only, without committing; if it neither found
// its byte nor exhausted the chunk there, the interpreter redoes it from the
// start (a scan only reads, so nothing is lost but time).
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

namespace {

x86::Gp accumulator(unsigned size) {
  if (size == 1) return x86::al;
  if (size == 2) return x86::ax;
  return x86::eax;
}

// The segment of the [ESI] operand (DS unless overridden).
SegReg source_segment(const DecodedInsn& d) {
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    if (op.mem.base != ZYDIS_REGISTER_ESI && op.mem.base != ZYDIS_REGISTER_SI) continue;
    const SegReg s = Interpreter::sreg_index(op.mem.segment);
    return s == SEG_NONE ? DS : s;
  }
  return DS;
}

}  // namespace

bool Emission::string_op(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const unsigned size = ip.mem_size;
  const bool addr16 = gi.d.insn.address_width == 16;
  const ZydisMnemonic m = gi.d.insn.mnemonic;
  const bool stos = m == ZYDIS_MNEMONIC_STOSB || m == ZYDIS_MNEMONIC_STOSW || m == ZYDIS_MNEMONIC_STOSD;
  const bool lods = m == ZYDIS_MNEMONIC_LODSB || m == ZYDIS_MNEMONIC_LODSW || m == ZYDIS_MNEMONIC_LODSD;
  asmjit::Label resume = a.newLabel();
  auto offset_of = [&](Reg r) {
    if (addr16) a.movzx(host::kAddr.r32(), host::gpw(r));
    else a.mov(host::kAddr.r32(), host::gpd(r));
  };
  const x86::Gp value = x86::Gp::fromTypeAndId(accumulator(size).type(), x86::Gp::kIdR14);
  const bool scas = m == ZYDIS_MNEMONIC_SCASB || m == ZYDIS_MNEMONIC_SCASW || m == ZYDIS_MNEMONIC_SCASD;
  const bool cmps = m == ZYDIS_MNEMONIC_CMPSB || m == ZYDIS_MNEMONIC_CMPSW || m == ZYDIS_MNEMONIC_CMPSD;
  if (scas || cmps) {
    // CMP [ESI] or the accumulator with ES:[EDI]; the step is computed
    // before the compare and applied with LEA, so the flags are the CMP's.
    if (cmps) {
      offset_of(ESI);
      guarded_access(k, source_segment(gi.d), size, TlbKind::Read, resume);
      a.mov(value, x86::ptr(host::kAddr, 0, size));
    }
    offset_of(EDI);
    guarded_access(k, ES, size, TlbKind::Read, resume);
    const x86::Gp step = host::kTmp1.r32();
    a.mov(step, seq::cpu_field(offsetof(CpuState, eflags), 4));
    a.and_(step, imm(flag::DF));
    a.shr(step, size == 1 ? 9 : size == 2 ? 8 : 7);
    a.neg(step);
    a.add(step, imm(size));
    a.cmp(cmps ? value : accumulator(size), x86::ptr(host::kAddr, 0, size));
    auto advance = [&](Reg r) {
      if (addr16) {
        a.lea(host::kTmp2.r32(), x86::ptr(host::gpq(r), host::kTmp1));
        a.mov(host::gpw(r), host::kTmp2.r16());
      } else {
        a.lea(host::gpd(r), x86::ptr(host::gpq(r), host::kTmp1));
      }
    };
    if (cmps) advance(ESI);
    advance(EDI);
    a.bind(resume);
    rflags_valid = true;  // the slow path joins with both valid
    stash_valid = false;
    return true;
  }
  if (!stos) {  // LODS, MOVS: read [ESI]
    offset_of(ESI);
    guarded_access(k, source_segment(gi.d), size, TlbKind::Read, resume);
    if (lods) {
      // LODS has a single access: nothing can fail after it.
      a.mov(accumulator(size), x86::ptr(host::kAddr, 0, size));
    } else {
      a.mov(value, x86::ptr(host::kAddr, 0, size));
    }
  }
  if (!lods) {  // STOS, MOVS: write ES:[EDI]
    offset_of(EDI);
    guarded_access(k, ES, size, TlbKind::Write, resume);
    a.mov(x86::ptr(host::kAddr, 0, size), stos ? accumulator(size) : value);
  }
  // step := DF ? -size : +size (flags are stashed: the accesses clobbered them)
  const x86::Gp step = host::kTmp1.r32();
  a.mov(step, seq::cpu_field(offsetof(CpuState, eflags), 4));
  a.and_(step, imm(flag::DF));
  a.shr(step, size == 1 ? 9 : size == 2 ? 8 : 7);  // DF * 2 * size
  a.neg(step);
  a.add(step, imm(size));
  auto advance = [&](Reg r) {
    if (addr16) {
      a.lea(host::kTmp2.r32(), x86::ptr(host::gpq(r), host::kTmp1));
      a.mov(host::gpw(r), host::kTmp2.r16());
    } else {
      a.lea(host::gpd(r), x86::ptr(host::gpq(r), host::kTmp1));
    }
  };
  if (!stos) advance(ESI);
  if (!lods) advance(EDI);
  a.bind(resume);
  rflags_clobbered();
  return true;
}

namespace {

unsigned log2_size(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : 2; }

// r11d := n = min(ECX, 1024).
void chunk_count(x86::Assembler& a, const x86::Gp& dst) {
  a.mov(dst, imm(1024));
  a.cmp(x86::ecx, dst);
  a.cmovb(dst, x86::ecx);
}

}  // namespace

bool Emission::rep_string(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const unsigned size = ip.mem_size;
  const unsigned shift = log2_size(size);
  const ZydisMnemonic m = gi.d.insn.mnemonic;
  const bool movs = ip.string_accesses == 2;
  const bool scas = m == ZYDIS_MNEMONIC_SCASB || m == ZYDIS_MNEMONIC_SCASW || m == ZYDIS_MNEMONIC_SCASD;
  const x86::Gp r8 = host::kAddr, r9 = host::kTmp1, r11 = host::kTmp2, r14 = x86::r14;
  const x86::Mem eflags = seq::cpu_field(offsetof(CpuState, eflags), 4);
  asmjit::Label resume = a.newLabel(), yield = a.newLabel();

  // The whole chunk [reg, reg + n*size) on the page of its first byte (a
  // 64-bit sum: a chunk that wraps 4 GiB fails too).
  auto same_page = [&](Reg r, asmjit::Label fail) {
    chunk_count(a, r11.r32());
    a.lea(r9, x86::ptr(host::gpq(r), r11, shift, -1));
    a.xor_(r9, host::gpq(r));
    a.test(r9, imm(-4096));
    a.jnz(fail);
  };

  need_stash();
  rflags_clobbered();
  if (!scas) {
    a.test(x86::ecx, x86::ecx);
    a.jz(resume);  // a zero count does nothing
    asmjit::Label slow;
    if (movs) {
      a.mov(r8.r32(), x86::esi);
      slow = guarded_access(k, source_segment(gi.d), 1, TlbKind::Read, resume);
      a.test(eflags, imm(flag::DF));
      a.jnz(slow);
      same_page(ESI, slow);
      a.mov(r14, r8);  // the source's host pointer
    }
    a.mov(r8.r32(), x86::edi);
    const asmjit::Label dslow = guarded_access(k, ES, 1, TlbKind::Write, resume);
    if (!movs) {
      a.test(eflags, imm(flag::DF));
      a.jnz(dslow);
    }
    same_page(EDI, dslow);
    // r11 = n. Host REP with rdi/rsi/rcx borrowed; the guest values wait in
    // r8, r14 and r9.
    a.mov(r9, x86::rcx);
    a.mov(x86::ecx, r11.r32());
    a.xchg(x86::rdi, r8);
    if (movs) a.xchg(x86::rsi, r14);
    switch (size) {
      case 1: movs ? a.rep().movsb() : a.rep().stosb(); break;
      case 2: movs ? a.rep().movsw() : a.rep().stosw(); break;
      default: movs ? a.rep().movsd() : a.rep().stosd(); break;
    }
    a.lea(x86::edi, x86::ptr(r8, r11, shift));
    if (movs) a.lea(x86::esi, x86::ptr(r14, r11, shift));
    a.mov(x86::ecx, r9.r32());
    a.sub(x86::ecx, r11.r32());
    a.jnz(yield);  // the count is not exhausted: the chunk ends the step
    a.bind(resume);
    // Flags untouched by MOVS/STOS: the stash still holds them.
    cold.push_back([this, yield, k, &gi] {
      a.bind(yield);
      seq::unstash_flags(a);
      yield_exit(k, gi.eip);
    });
    return true;
  }

  // REPE/REPNE SCAS.
  const bool stop_on_zf = gi.d.has_repne();  // REPNE stops when equal
  asmjit::Label zero = a.newLabel(), met = a.newLabel(), finish = a.newLabel();
  a.test(x86::ecx, x86::ecx);
  a.jz(zero);
  a.mov(r8.r32(), x86::edi);
  const asmjit::Label slow = guarded_access(k, ES, 1, TlbKind::Read, resume);
  a.test(eflags, imm(flag::DF));
  a.jnz(slow);
  chunk_count(a, r11.r32());
  // r9d := whole elements left on the page, then min(r9d, n).
  a.mov(r9.r32(), x86::edi);
  a.and_(r9.r32(), imm(0xfff));
  a.neg(r9.r32());
  a.add(r9.r32(), imm(4096));
  if (shift) a.shr(r9.r32(), shift);
  a.cmp(r9.r32(), r11.r32());
  a.cmova(r9.r32(), r11.r32());
  a.test(r9.r32(), r9.r32());
  a.jz(slow);  // the first element crosses the page
  a.mov(r14, x86::rcx);                          // guest ECX
  a.mov(r11.r32(), x86::ecx);
  a.sub(r11.r32(), r9.r32());                    // ECX after n_eff iterations
  a.mov(x86::ecx, r9.r32());                     // n_eff
  a.xchg(x86::rdi, r8);                          // rdi = host pointer, r8 = guest EDI
  a.lea(r9, x86::ptr(r8, r9, shift));            // EDI after n_eff iterations (64-bit)
  if (stop_on_zf) {
    switch (size) {
      case 1: a.repne().scasb(); break;
      case 2: a.repne().scasw(); break;
      default: a.repne().scasd(); break;
    }
    a.jz(met);
  } else {
    switch (size) {
      case 1: a.repe().scasb(); break;
      case 2: a.repe().scasw(); break;
      default: a.repe().scasd(); break;
    }
    a.jnz(met);
  }
  // Not met, so rcx = 0: all n_eff iterations ran. From here on only
  // flag-free instructions, the guest flags being the last comparison's.
  a.mov(x86::rcx, r11);
  a.jecxz(x86::rcx, finish);  // the count is exhausted
  a.mov(x86::rcx, r8);
  a.not_(x86::rcx);
  a.lea(x86::rcx, x86::ptr(r9, x86::rcx, 0, 1 - 1024 * static_cast<int32_t>(size)));  // r9 - r8 - 1024*size
  asmjit::Label chunk_done = a.newLabel();
  a.jecxz(x86::rcx, chunk_done);  // n_eff was the whole chunk of 1024
  // Cut at the page end: nothing was committed; the interpreter redoes it.
  a.mov(x86::edi, r8.r32());
  a.mov(x86::ecx, r14.r32());
  a.jmp(slow);
  a.bind(met);
  // Stopped by the condition after n_eff - rcx iterations.
  a.not_(x86::rcx);                                                             // -rcx - 1
  a.lea(x86::edi, x86::ptr(r9, x86::rcx, shift, static_cast<int32_t>(size)));  // r9 - rcx*size
  a.not_(x86::rcx);                                                             // rcx again
  a.lea(x86::ecx, x86::ptr(r11, x86::rcx));                                     // r11 + rcx
  a.jmp(resume);
  a.bind(chunk_done);
  a.mov(x86::edi, r9.r32());
  a.mov(x86::ecx, r11.r32());
  yield_exit(k, gi.eip);
  a.bind(zero);
  seq::unstash_flags(a);  // a zero count leaves the flags
  a.jmp(resume);
  a.bind(finish);
  a.mov(x86::edi, r9.r32());  // ecx is 0 already
  a.bind(resume);
  rflags_valid = true;
  stash_valid = false;
  return true;
}

}  // namespace popek::dbt
