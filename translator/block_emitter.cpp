#include "translator/block_emitter.h"

#include <cassert>

#include "translator/emitter_internal.h"
#include "translator/predecoded_helper.h"

namespace popek::dbt {

using asmjit::imm;

namespace {

// IN/OUT with an accumulator and an imm8/DX port, RDTSC, CPUID, RDMSR and
// WRMSR have a direct C++ implementation (DbtEngine::run_targeted) tried
// before step().
void choose_targeted_helper(const GuestInsn& gi, FallbackSite& s) {
  const DecodedInsn& d = gi.d;
  if (d.has_lock() || d.has_rep()) return;
  auto port_of = [](const ZydisDecodedOperand& op) {
    return op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? int32_t(op.imm.value.u & 0xff) : int32_t(-1);
  };
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_IN:
      s.helper = uint8_t(TargetedHelper::In);
      s.io_size = static_cast<uint8_t>(d.ops[0].size / 8);
      s.io_port = port_of(d.ops[1]);
      break;
    case ZYDIS_MNEMONIC_OUT:
      s.helper = uint8_t(TargetedHelper::Out);
      s.io_size = static_cast<uint8_t>(d.ops[1].size / 8);
      s.io_port = port_of(d.ops[0]);
      break;
    case ZYDIS_MNEMONIC_RDTSC:
      s.helper = uint8_t(TargetedHelper::Rdtsc);
      break;
    case ZYDIS_MNEMONIC_CPUID:
      s.helper = uint8_t(TargetedHelper::Cpuid);
      break;
    case ZYDIS_MNEMONIC_RDMSR:
      s.helper = uint8_t(TargetedHelper::Rdmsr);
      break;
    case ZYDIS_MNEMONIC_WRMSR:
      s.helper = uint8_t(TargetedHelper::Wrmsr);
      break;
    default:
      break;
  }
}

}  // namespace

const char* to_string(TranslateError e) {
  switch (e) {
    case TranslateError::None: return "none";
    case TranslateError::EmptyBlock: return "empty block";
    case TranslateError::NotCodeMemory: return "code not in RAM/ROM";
    case TranslateError::AssemblerError: return "assembler error";
    case TranslateError::BlockTooLarge: return "block too large";
  }
  return "?";
}

BlockPlan plan_block(const GuestBlock& gb, const BlockKey& key, uint64_t force_fallback) {
  BlockPlan p;
  plan_block(gb, key, force_fallback, p);
  return p;
}

void plan_block(const GuestBlock& gb, const BlockKey& key, uint64_t force_fallback, BlockPlan& p) {
  const PlanContext pc{key.cs_limit, key.mode};
  p.insns.clear();
  p.insns.reserve(gb.insns.size());
  for (size_t k = 0; k < gb.insns.size(); ++k) {
    InsnPlan ip = plan_instruction(gb.insns[k], pc);
    if (k < 64 && (force_fallback >> k) & 1) {
      ip = InsnPlan{};
      ip.flags_used = insn_flags::kStatus;
    }
    p.insns.push_back(ip);
  }
  // Backward flag liveness. Everything is live at the block's exits (the
  // next block is unknown), so only flags killed inside the block are dead.
  p.live_before.assign(gb.insns.size(), 0);
  uint32_t live = insn_flags::kStatus;
  for (size_t k = gb.insns.size(); k-- > 0;) {
    const InsnPlan& ip = p.insns[k];
    live = (live & ~ip.flags_killed) | ip.flags_used;
    p.live_before[k] = live;
  }
}

void Emission::exit_to(uint32_t eip) {
  need_rflags();
  a.mov(seq::cpu_field(offsetof(CpuState, eip), 4), imm(eip));
  a.jmp(imm(rt.exit_spill));
}

asmjit::Label Emission::leave_after(unsigned k, bool inhibit) {
  asmjit::Label l = a.newLabel();
  const uint32_t next = gb.insns[k].next_eip;
  const uint32_t remaining = static_cast<uint32_t>(gb.insns.size() - k - 1);
  cold.push_back([this, l, next, remaining, inhibit] {
    a.bind(l);
    if (inhibit) a.mov(seq::cpu_field(offsetof(CpuState, inhibit_irq), 1), imm(1));
    seq::unstash_flags(a);
    a.mov(ctx_field(offsetof(DbtContext, exit_unretired), 4), imm(remaining));
    a.mov(seq::cpu_field(offsetof(CpuState, eip), 4), imm(next));
    a.jmp(imm(rt.exit_spill));
  });
  return l;
}

void Emission::profile_indirect_lookup() {
  if (!opt.profile) return;
  // --profile: this block's lookups (flags are clobbered here anyway)
  const size_t start = a.offset();
  a.mov(host::kTmp2, imm(reinterpret_cast<uint64_t>(opt.profile)));
  a.add(x86::qword_ptr(host::kTmp2, offsetof(BlockCounters, indirect_lookups)), imm(1));
  meta.profile_bytes += static_cast<uint32_t>(a.offset() - start);
}

void Emission::indirect_lookup(const x86::Gp& eip, bool from_return) {
  if (eip.id() != host::kTmp1.id()) a.mov(host::kTmp1.r32(), eip);
  const int32_t ib = static_cast<int32_t>(offsetof(DbtContext, ib));
  a.add(ctx_field(offsetof(DbtContext, ib_lookups), 8), imm(1));
  if (!from_return) profile_indirect_lookup();
  // r11 := indirect_index(eip) * sizeof(IndirectEntry)
  a.mov(host::kTmp2.r32(), host::kTmp1.r32());
  a.shr(host::kTmp2.r32(), 12);
  a.xor_(host::kTmp2.r32(), host::kTmp1.r32());
  a.and_(host::kTmp2.r32(), imm(kIndirectEntries - 1));
  a.shl(host::kTmp2.r32(), 4);
  // r9 := the tag (this block's mode << 32 | EIP) the entry and the
  // target's checked entry compare.
  if (meta.key.mode && !from_return) {
    a.mov(host::kAddr, imm(lookup_tag(0, meta.key.mode)));
    a.or_(host::kTmp1, host::kAddr);
  }
  a.mov(host::kAddr, x86::ptr(host::kCtx, host::kTmp2, 0, ib + offsetof(IndirectEntry, code), 8));
  a.cmp(host::kTmp1, x86::ptr(host::kCtx, host::kTmp2, 0, ib + offsetof(IndirectEntry, eip), 8));
  a.cmovne(host::kAddr, ctx_field(offsetof(DbtContext, ib_miss_code), 8));
}

void Emission::lookup_exit(uint32_t eip) {
  // r9 := the tag (mode << 32 | EIP) the checked entry compares; then
  // through the entry of its slot (flags untouched: the target's entry
  // stashes them).
  need_rflags();
  if (meta.key.mode) a.mov(host::kTmp1, imm(lookup_tag(eip, meta.key.mode)));
  else a.mov(host::kTmp1.r32(), imm(eip));
  const size_t slot = offsetof(DbtContext, ib) + indirect_index(eip) * sizeof(IndirectEntry);
  a.jmp(ctx_field(slot + offsetof(IndirectEntry, code), 8));
}

void Emission::chained_exit(uint32_t eip) {
  if (((meta.key.cs_base + eip) >> 12) != (meta.key.linear >> 12)) {
    lookup_exit(eip);
    return;
  }
  if (meta.exit_count >= sizeof meta.exits / sizeof meta.exits[0]) {
    exit_to(eip);
    return;
  }
  need_rflags();  // a chained target block expects the guest flags in RFLAGS
  ExitStub& stub = meta.exits[meta.exit_count++];
  stub.block = &meta;
  stub.target_eip = eip;
  // jmp rel32, initially to the next instruction; patched to chain.
  a.db(0xe9);
  stub.patch_offset = static_cast<uint32_t>(a.offset());
  a.dd(0);
  a.mov(host::kTmp1, imm(reinterpret_cast<uint64_t>(&stub)));
  a.mov(ctx_field(offsetof(DbtContext, chain_from), 8), host::kTmp1);
  exit_to(eip);
}

FallbackSite* Emission::new_site(unsigned k, uint8_t site_flags) {
  const GuestInsn& gi = gb.insns[k];
  assert(next_site < meta.site_count);
  FallbackSite& s = meta.sites[next_site++];
  s.block = &meta;
  s.eip = gi.eip;
  s.next_eip = gi.next_eip;
  s.unretired_before = static_cast<uint32_t>(gb.insns.size() - k);
  s.index = static_cast<uint16_t>(k);
  s.flags = site_flags;
  s.mnemonic = static_cast<uint16_t>(gi.d.insn.mnemonic);
  s.helper = uint8_t(TargetedHelper::None);
  s.insn = nullptr;
  if (!(site_flags & site_flag::kMemorySlowPath)) choose_targeted_helper(gi, s);
  const bool predecoded = s.helper == uint8_t(TargetedHelper::None) && !(site_flags & site_flag::kMemorySlowPath) &&
                          predecoded_helper_applies(gi.d);
  if (predecoded) {
    meta.decoded.push_back(std::make_unique<DecodedInsn>(gi.d));
    s.insn = meta.decoded.back().get();
    s.helper = uint8_t(TargetedHelper::Predecoded);
  }
  // A control transfer ends its block: whatever the interpreter did, leave.
  if (BlockBuilder::is_control_transfer(gi.cls)) s.flags |= site_flag::kControlTransfer | site_flag::kAlwaysExit;
  return &s;
}

void Emission::call_fallback(FallbackSite* site) {
  a.mov(host::kTmp1, imm(reinterpret_cast<uint64_t>(site)));
  a.call(imm(rt.fallback));
}

void Emission::stashed_fallback(FallbackSite* site, asmjit::Label resume) {
  a.mov(host::kTmp1, imm(reinterpret_cast<uint64_t>(site)));
  a.call(imm(rt.slow_path));
  a.jmp(resume);
}

void Emission::inline_fallback(FallbackSite* site) {
  need_rflags();
  call_fallback(site);
  rflags_valid = true;  // reloaded from CpuState by the routine
  stash_valid = false;
}

namespace {

unsigned count_sites(const BlockPlan& p) {
  unsigned n = 0;
  for (const InsnPlan& ip : p.insns) n += fallback_sites(ip);
  return n;
}

// --profile: count this execution, and a transfer out of the block that ran
// before when it jumped straight here (the dispatcher clears
// profile_current before it enters a block). r11 is free at every entry;
// the flags are in the stash.
void emit_profile_entry(Emission& e) {
  x86::Assembler& a = e.a;
  const size_t start = a.offset();
  const x86::Gp r = host::kTmp2;
  const x86::Mem current = ctx_field(offsetof(DbtContext, profile_current), 8);
  asmjit::Label first = a.newLabel();
  a.mov(r, current);
  a.test(r, r);
  a.jz(first);
  a.add(x86::qword_ptr(r, offsetof(BlockCounters, transfers_out)), imm(1));
  a.bind(first);
  a.mov(r, imm(reinterpret_cast<uint64_t>(e.opt.profile)));
  a.add(x86::qword_ptr(r, offsetof(BlockCounters, executions)), imm(1));
  a.mov(current, r);
  e.meta.profile_bytes += static_cast<uint32_t>(a.offset() - start);
}

void emit_budget_check(Emission& e) {
  x86::Assembler& a = e.a;
  const uint32_t n = static_cast<uint32_t>(e.gb.insns.size());
  const uint32_t eip = e.gb.eip;
  const RuntimeRoutines& rt = e.rt;
  asmjit::Label out = a.newLabel();
  e.need_stash();
  e.after_stash = a.newLabel();
  a.bind(e.after_stash);
  a.add(ctx_field(offsetof(DbtContext, block_entries), 8), imm(1));
  a.sub(ctx_field(offsetof(DbtContext, budget_left), 8), imm(n));
  a.jl(out);
  if (e.opt.profile) emit_profile_entry(e);
  e.rflags_clobbered();
  const uint64_t budget_exit = rt.budget_exit;
  e.cold.push_back([&a, out, n, eip, budget_exit] {
    a.bind(out);
    a.mov(host::kTmp1, imm((uint64_t(eip) << 32) | n));  // the routine gives n back and leaves at eip
    a.jmp(imm(budget_exit));
  });
}

// Emits instruction k. Returns false on an assembler refusal. Sets
// `terminated` when the instruction ended the block with its own exits.
bool emit_instruction(Emission& e, unsigned k, bool& terminated) {
  x86::Assembler& a = e.a;
  const GuestInsn& gi = e.gb.insns[k];
  const InsnPlan& ip = e.plan.insns[k];
  const bool last = k + 1 == e.gb.insns.size();
  switch (ip.how) {
    case Lowering::Nop:
      return true;
    case Lowering::SetDf: {
      // OR/AND clobber RFLAGS: the guest flags go to the stash first.
      e.need_stash();
      e.rflags_clobbered();
      const x86::Mem eflags = seq::cpu_field(offsetof(CpuState, eflags), 4);
      if (ip.target) a.or_(eflags, imm(flag::DF));
      else a.and_(eflags, imm(~flag::DF));
      return true;
    }
    case Lowering::Lea:
      return e.lea(k);
    case Lowering::Native:
      return e.native_instruction(k);
    case Lowering::CondBranch: {
      asmjit::Label taken = a.newLabel();
      e.need_rflags();
      if (a.emit(static_cast<asmjit::InstId>(ip.asm_id), taken)) return false;
      e.chained_exit(gi.next_eip);
      a.bind(taken);
      e.chained_exit(ip.target);
      terminated = true;
      return true;
    }
    case Lowering::DirectJump:
      e.chained_exit(ip.target);
      terminated = true;
      return true;
    case Lowering::Push:
      return e.push(k);
    case Lowering::Pop:
      return e.pop(k);
    case Lowering::PushAll:
      return e.push_all(k);
    case Lowering::PopAll:
      return e.pop_all(k);
    case Lowering::CallDirect:
      terminated = true;
      return e.call_direct(k);
    case Lowering::Ret:
      terminated = true;
      return e.ret(k);
    case Lowering::LoopBranch:
      terminated = true;
      return e.loop_branch(k);
    case Lowering::JumpIndirect:
      terminated = true;
      return e.jump_indirect(k);
    case Lowering::CallIndirect:
      terminated = true;
      return e.call_indirect(k);
    case Lowering::StringOp:
      return e.string_op(k);
    case Lowering::RepString:
      return e.rep_string(k);
    case Lowering::Leave:
      return e.leave(k);
    case Lowering::Divide:
      return e.divide(k);
    case Lowering::BitString:
      return e.bit_string(k);
    case Lowering::Pushf:
      return e.pushf(k);
    case Lowering::Popf:
      return e.popf(k);  // leaves unchained when it sets TF, changes AC or enables a pending interrupt
    case Lowering::IfChange:
      // STI as the block's last instruction leaves unchained: the
      // dispatcher must see the interrupt shadow. Elsewhere it leaves only
      // when an interrupt is pending (emit_sensitive.cpp).
      if (ip.set_if && last) terminated = true;
      return e.if_change(k);
    case Lowering::ReadState:
      return e.read_state(k);
    case Lowering::PushSreg:
      return e.push_sreg(k);
    case Lowering::StoreState:
      return e.store_state(k);
    case Lowering::Fallback: {
      // A control transfer or an ends-block instruction always leaves the
      // block: whatever it did, the dispatcher looks at the new state.
      const bool always_exit =
          last && (BlockBuilder::is_control_transfer(gi.cls) || gi.cls.ends_block());
      e.inline_fallback(e.new_site(k, always_exit ? site_flag::kAlwaysExit : 0));
      return true;
    }
  }
  return false;
}

}  // namespace

BlockEmitter::BlockEmitter() : cold_(std::make_unique<ColdPaths>()) {}
BlockEmitter::~BlockEmitter() = default;

EmitResult BlockEmitter::emit(const GuestBlock& gb, const RuntimeRoutines& rt, const EmitOptions& opt,
                              uint64_t base, Block& meta) {
  EmitResult r;
  if (gb.insns.empty()) {
    r.error = TranslateError::EmptyBlock;
    return r;
  }
  // A soft reset keeps the zone memory (labels, fixups, sections) for the
  // next block; the assembler is detached by it and attached again.
  holder_.reset(asmjit::ResetPolicy::kSoft);
  holder_.init(asmjit::Environment(asmjit::Arch::kX64), base);
  x86::Assembler& a = assembler_;
  holder_.attach(&a);
  if (opt.validate) a.addDiagnosticOptions(asmjit::DiagnosticOptions::kValidateAssembler);
  else a.clearDiagnosticOptions(asmjit::DiagnosticOptions::kValidateAssembler);

  plan_block(gb, meta.key, opt.force_fallback, plan_);
  cold_->clear();
  Emission e{a, rt, gb, opt, meta, plan_, *cold_, 0};
  meta.insn_count = static_cast<uint32_t>(gb.insns.size());
  meta.site_count = count_sites(e.plan);
  meta.sites = std::make_unique<FallbackSite[]>(meta.site_count ? meta.site_count : 1);
  meta.insn_host_offset.assign(gb.insns.size() + 1, 0);
  meta.native_count = 0;
  meta.exit_count = 0;
  meta.profile_bytes = 0;

  emit_budget_check(e);
  bool terminated = false;
  for (unsigned k = 0; k < gb.insns.size() && !terminated; ++k) {
    meta.insn_host_offset[k] = static_cast<uint32_t>(a.offset());
    if (!emit_instruction(e, k, terminated)) {
      r.error = TranslateError::AssemblerError;
      r.failed_insn = static_cast<int>(k);
      return r;
    }
    if (e.plan.insns[k].how != Lowering::Fallback) ++meta.native_count;
  }
  if (!terminated) {
    // Fall-through to the next block. After an instruction that always
    // leaves (its helper never returns here) a plain exit is enough.
    const GuestInsn& last = gb.insns.back();
    const bool always_exit = e.plan.insns.back().how == Lowering::Fallback &&
                             (BlockBuilder::is_control_transfer(last.cls) || last.cls.ends_block());
    if (always_exit) e.exit_to(last.next_eip);
    else e.chained_exit(last.next_eip);
  }
  meta.insn_host_offset[gb.insns.size()] = static_cast<uint32_t>(a.offset());
  assert(e.next_site == meta.site_count);
  e.cold.run_all();
  // The checked entry (the lookup cache's way in, r9 = the tag looked up):
  // the same flag stash as the entry, then the tag compare.
  asmjit::Label checked = a.newLabel();
  a.bind(checked);
  seq::stash_flags(a);
  a.mov(host::kTmp2, imm(lookup_tag(gb.eip, meta.key.mode)));
  a.cmp(host::kTmp1, host::kTmp2);
  a.jne(imm(rt.stashed_lookup_miss));
  a.add(ctx_field(offsetof(DbtContext, checked_entries), 8), imm(1));
  a.jmp(e.after_stash);

  if (holder_.flatten() || holder_.resolveUnresolvedLinks() || holder_.relocateToBase(base)) {
    r.error = TranslateError::AssemblerError;
    return r;
  }
  meta.checked_entry_offset = static_cast<uint32_t>(holder_.labelOffsetFromBase(checked));
  code_.resize(holder_.codeSize());
  holder_.copyFlattenedData(code_.data(), code_.size());
  r.code = code_.data();
  r.code_size = code_.size();
  return r;
}

}  // namespace popek::dbt
