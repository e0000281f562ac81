#include "translator/runtime_routines.h"

#include "translator/host_sequences.h"

#include <vector>

namespace popek::dbt {

namespace {
namespace x86 = asmjit::x86;
using asmjit::imm;

x86::Mem ctx_field(size_t offset, uint32_t size) {
  return x86::ptr(host::kCtx, static_cast<int32_t>(offset), size);
}

const x86::Gp kSaved[] = {x86::rbx, x86::rbp, x86::r12, x86::r13, x86::r14, x86::r15};

}  // namespace

bool emit_runtime_routines(TranslationCache& cache, FallbackHelperFn fallback_helper,
                           TlbFillHelperFn fill_helper, bool validate, RuntimeRoutines& out) {
  const uint64_t base = reinterpret_cast<uint64_t>(cache.runtime_area());
  asmjit::Environment env(asmjit::Arch::kX64);
  asmjit::CodeHolder code;
  code.init(env, base);
  x86::Assembler a(&code);
  if (validate) a.addDiagnosticOptions(asmjit::DiagnosticOptions::kValidateAssembler);

  asmjit::Label enter = a.newLabel(), exit_spill = a.newLabel(), exit_nospill = a.newLabel(),
                fallback = a.newLabel(), tlb_fill = a.newLabel(), ib_miss = a.newLabel(),
                lookup_miss = a.newLabel(), slow_path = a.newLabel(), budget_exit = a.newLabel(),
                stashed_lookup_miss = a.newLabel();

  // ---- enter(ctx = rdi, cpu = rsi, code = rdx) ----
  a.bind(enter);
  for (const x86::Gp& r : kSaved) a.push(r);
  a.sub(x86::rsp, 8);  // 6 pushes + return address: realign to 16
  a.mov(host::kCtx, x86::rdi);
  a.mov(host::kCpu, x86::rsi);
  a.mov(ctx_field(offsetof(DbtContext, host_rsp), 8), x86::rsp);
  a.mov(x86::r11, x86::rdx);
  seq::load_flags(a);
  seq::fill_registers(a);
  a.jmp(x86::r11);

  // ---- exit_spill / exit_nospill ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(exit_spill);
  seq::spill_registers(a);
  seq::save_flags(a);
  a.bind(exit_nospill);
  a.mov(x86::rsp, ctx_field(offsetof(DbtContext, host_rsp), 8));
  a.add(x86::rsp, 8);
  for (int i = 5; i >= 0; --i) a.pop(kSaved[i]);
  a.ret();

  // ---- fallback (r9 = FallbackSite*) ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(fallback);
  seq::spill_registers(a);
  seq::save_flags(a);
  a.sub(x86::rsp, 8);  // entered by call: realign for the C++ call
  a.mov(x86::rdi, host::kCtx);
  a.mov(x86::rsi, x86::r9);
  a.mov(x86::rax, imm(reinterpret_cast<uint64_t>(fallback_helper)));
  a.call(x86::rax);
  a.add(x86::rsp, 8);
  a.test(x86::eax, x86::eax);
  a.jnz(exit_nospill);  // exit_nospill resets rsp, dropping our return address
  seq::load_flags(a);
  seq::fill_registers(a);
  a.ret();

  // ---- tlb_fill (r8d = linear, r9d = kind | size << 8; keeps guest regs, r8, r10) ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(tlb_fill);
  const x86::Gp kept[] = {x86::rax, x86::rcx, x86::rdx, x86::rsi, x86::rdi, x86::r8, x86::r10};
  for (const x86::Gp& r : kept) a.push(r);  // 7 pushes after the call: aligned
  a.mov(x86::rdi, host::kCtx);
  a.mov(x86::esi, x86::r8d);
  a.mov(x86::edx, x86::r9d);
  a.mov(x86::rax, imm(reinterpret_cast<uint64_t>(fill_helper)));
  a.call(x86::rax);
  a.mov(x86::r9d, x86::eax);
  for (int i = 6; i >= 0; --i) a.pop(kept[i]);
  a.ret();

  // ---- ib_miss (r9d = guest EIP) ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(ib_miss);
  a.mov(x86::ptr(host::kCpu, offsetof(CpuState, eip), 4), x86::r9d);
  a.mov(ctx_field(offsetof(DbtContext, ib_pending), 4), 1);
  a.jmp(exit_spill);

  // ---- lookup_miss (r9d = guest EIP) ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(lookup_miss);
  a.mov(x86::ptr(host::kCpu, offsetof(CpuState, eip), 4), x86::r9d);
  a.mov(ctx_field(offsetof(DbtContext, ib_pending), 4), 2);
  a.jmp(exit_spill);

  // ---- slow_path (r9 = FallbackSite*, flags stashed in r10) ----
  // Called from a block (rsp = 8 mod 16): one more slot keeps `fallback`'s
  // own realignment right. LEA, not ADD, after the re-stash.
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(slow_path);
  a.sub(x86::rsp, 8);
  seq::unstash_flags(a);
  a.call(fallback);
  seq::stash_flags(a);
  a.lea(x86::rsp, x86::ptr(x86::rsp, 8));
  a.ret();

  // ---- budget_exit (r9 = EIP << 32 | slots, flags stashed) ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(budget_exit);
  a.mov(x86::r11d, x86::r9d);
  a.add(ctx_field(offsetof(DbtContext, budget_left), 8), x86::r11);
  a.shr(x86::r9, 32);
  a.mov(x86::ptr(host::kCpu, offsetof(CpuState, eip), 4), x86::r9d);
  a.mov(ctx_field(offsetof(DbtContext, exit_reason), 4), uint32_t(ExitReason::BudgetExhausted));
  seq::unstash_flags(a);
  a.jmp(exit_spill);

  // ---- stashed_lookup_miss (r9 = tag, flags stashed) ----
  a.align(asmjit::AlignMode::kCode, 16);
  a.bind(stashed_lookup_miss);
  seq::unstash_flags(a);
  a.jmp(lookup_miss);

  if (code.flatten() || code.resolveUnresolvedLinks() || code.relocateToBase(base)) return false;
  const size_t size = code.codeSize();
  if (size > cache.runtime_capacity()) return false;
  std::vector<uint8_t> bytes(size);
  code.copyFlattenedData(bytes.data(), bytes.size());
  cache.region().write(cache.runtime_area(), bytes.data(), bytes.size());
  out.enter = reinterpret_cast<EnterFn>(base + code.labelOffsetFromBase(enter));
  out.exit_spill = base + code.labelOffsetFromBase(exit_spill);
  out.exit_nospill = base + code.labelOffsetFromBase(exit_nospill);
  out.fallback = base + code.labelOffsetFromBase(fallback);
  out.tlb_fill = base + code.labelOffsetFromBase(tlb_fill);
  out.ib_miss = base + code.labelOffsetFromBase(ib_miss);
  out.lookup_miss = base + code.labelOffsetFromBase(lookup_miss);
  out.slow_path = base + code.labelOffsetFromBase(slow_path);
  out.budget_exit = base + code.labelOffsetFromBase(budget_exit);
  out.stashed_lookup_miss = base + code.labelOffsetFromBase(stashed_lookup_miss);
  out.size = static_cast<uint32_t>(size);
  return true;
}

}  // namespace popek::dbt
