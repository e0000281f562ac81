// Unicorn as an oracle: UC_MODE_32 with the harness's memory layout. Unicorn
// runs at CPL 0 with flat segments, which matters only for POPF (the
// generator never asks POPF to change IF or IOPL).
#include <unicorn/unicorn.h>

#include <cstring>
#include <stdexcept>

#include "core/cpu_state.h"
#include "decoder/decoder.h"
#include "tests/diff/executors.h"

namespace popek::diff {
namespace {
constexpr int kRegIds[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                            UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};
constexpr uint64_t kMaxInsns = 100000;

// Value of a GPR of any width from the 8 full registers.
uint32_t gpr_value(ZydisRegister r, const uint32_t regs[8]) {
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) return regs[r - ZYDIS_REGISTER_EAX];
  if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) return regs[r - ZYDIS_REGISTER_AX] & 0xffff;
  if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) return regs[r - ZYDIS_REGISTER_AL] & 0xff;
  if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) return (regs[r - ZYDIS_REGISTER_AH] >> 8) & 0xff;
  return 0;
}

// Unicorn 2.0.1's IDIV helpers divide in host integers before checking for
// overflow, so the most negative dividend divided by -1 (16- and 32-bit
// forms) kills the whole process with SIGFPE instead of raising #DE.
bool idiv_would_crash_unicorn(uc_struct* uc, const DecodedInsn& d, const uint32_t regs[8]) {
  if (d.insn.mnemonic != ZYDIS_MNEMONIC_IDIV) return false;
  const unsigned w = d.insn.operand_width;
  if (w == 32 && !(regs[2] == 0x80000000u && regs[0] == 0)) return false;
  if (w == 16 && !((regs[2] & 0xffff) == 0x8000 && (regs[0] & 0xffff) == 0)) return false;
  if (w != 16 && w != 32) return false;
  const ZydisDecodedOperand& op = d.ops[0];
  uint32_t divisor = 0;
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    divisor = gpr_value(op.reg.value, regs);
  } else {
    uint32_t ea = static_cast<uint32_t>(op.mem.disp.value);
    if (op.mem.base != ZYDIS_REGISTER_NONE) ea += gpr_value(op.mem.base, regs);
    if (op.mem.index != ZYDIS_REGISTER_NONE) ea += gpr_value(op.mem.index, regs) * op.mem.scale;
    if (d.insn.address_width == 16) ea &= 0xffff;
    if (uc_mem_read(uc, ea, &divisor, w / 8) != UC_ERR_OK) return false;
  }
  return (divisor & (w == 32 ? 0xffffffffu : 0xffffu)) == (w == 32 ? 0xffffffffu : 0xffffu);
}

void check(uc_err e, const char* what) {
  if (e != UC_ERR_OK) throw std::runtime_error(std::string("unicorn: ") + what + ": " + uc_strerror(e));
}
}  // namespace

UnicornExecutor::UnicornExecutor() {
  check(uc_open(UC_ARCH_X86, UC_MODE_32, &uc_), "uc_open");
  check(uc_mem_map(uc_, kCodeBase, DIFF_CODE_SIZE, UC_PROT_ALL), "map code");
  check(uc_mem_map(uc_, kDataBase, kDataSize, UC_PROT_READ | UC_PROT_WRITE), "map data");
  check(uc_mem_map(uc_, kStackBase, kStackSize, UC_PROT_READ | UC_PROT_WRITE), "map stack");
  uc_hook h;
  check(uc_hook_add(uc_, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&UnicornExecutor::on_interrupt), this, 1, 0),
        "interrupt hook");
  check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&UnicornExecutor::on_code), this, kCodeBase,
                    kCodeBase + DIFF_CODE_SIZE - 1),
        "code hook");
  // The CPU state every run starts from. Restoring it matters after a
  // fault: the interrupt hook swallows the exception before delivery, so
  // QEMU never clears its "exception in progress" record, and the next #DE
  // would be promoted to #DF (and the one after to a shutdown).
  check(uc_context_alloc(uc_, &pristine_), "context alloc");
  check(uc_context_save(uc_, pristine_), "context save");
}

UnicornExecutor::~UnicornExecutor() {
  if (pristine_) uc_context_free(pristine_);
  if (uc_) uc_close(uc_);
}

// Keeps the first exception: Unicorn may go on to report the #DF its
// delivery would cause (the harness sets up no IDT) before it stops.
void UnicornExecutor::on_interrupt(uc_struct* uc, uint32_t intno, void* self_ptr) {
  auto* self = static_cast<UnicornExecutor*>(self_ptr);
  if (self->intno_ < 0) self->intno_ = static_cast<int>(intno);
  uc_emu_stop(uc);
}

// Runs before every instruction: records the path, screens out forms that
// would crash Unicorn, and feeds the flag tracker. The hook runs before the
// instruction, so its flag effect is applied when the next one starts (or
// the run ends normally): a faulting instruction changes nothing.
void UnicornExecutor::on_code(uc_struct* uc, uint64_t address, uint32_t, void* self_ptr) {
  auto* self = static_cast<UnicornExecutor*>(self_ptr);
  if (self->path_) self->path_->push_back(static_cast<uint32_t>(address));
  self->commit_pending();
  if (address < kCodeBase || address >= kCodeBase + self->code_.size()) return;
  static thread_local Decoder dec;
  const size_t off = address - kCodeBase;
  if (dec.decode(self->code_.data() + off, self->code_.size() - off, true, true, self->pending_) != DecodeStatus::Ok) {
    // The CPU raises #UD here; remember it, to see whether Unicorn does.
    if (!self->undecodable_at_) self->undecodable_at_ = static_cast<uint32_t>(address);
    return;
  }
  for (int r = 0; r < 8; ++r) uc_reg_read(uc, kRegIds[r], &self->pending_regs_[r]);
  if (idiv_would_crash_unicorn(uc, self->pending_, self->pending_regs_)) {
    // Leave before the instruction runs: moving EIP in a code hook makes
    // Unicorn restart at the new address, here the stop address.
    self->crash_avoided_ = true;
    uint32_t end = kCodeBase + static_cast<uint32_t>(self->code_.size());
    uc_reg_write(uc, UC_X86_REG_EIP, &end);
    uc_emu_stop(uc);
    return;
  }
  if (!self->flags_) return;
  self->has_pending_ = true;
  self->flags_->on_started(self->pending_);
}

void UnicornExecutor::commit_pending() {
  if (has_pending_ && flags_) flags_->on_executed(pending_, pending_regs_);
  has_pending_ = false;
}

RunResult UnicornExecutor::run(const std::vector<uint8_t>& code, const GuestState& init, FlagTracker* flags,
                               std::vector<uint32_t>* path) {
  code_.assign(DIFF_CODE_SIZE, 0);
  for (size_t i = 0; i + 1 < code_.size(); i += 2) {
    code_[i] = 0x0f;
    code_[i + 1] = 0x0b;
  }
  std::memcpy(code_.data(), code.data(), code.size());
  check(uc_mem_write(uc_, kCodeBase, code_.data(), code_.size()), "write code");
  check(uc_ctl_remove_cache(uc_, kCodeBase, kCodeBase + DIFF_CODE_SIZE), "flush code cache");
  code_.resize(code.size());
  check(uc_context_restore(uc_, pristine_), "context restore");
  check(uc_mem_write(uc_, kDataBase, init.data.data(), kDataSize), "write data");
  check(uc_mem_write(uc_, kStackBase, init.stack.data(), kStackSize), "write stack");
  for (int r = 0; r < 8; ++r) {
    uint32_t v = init.regs[r];
    check(uc_reg_write(uc_, kRegIds[r], &v), "write reg");
  }
  uint32_t fl = init.eflags | flag::FIXED1;
  check(uc_reg_write(uc_, UC_X86_REG_EFLAGS, &fl), "write eflags");
  flags_ = flags;
  if (flags_) flags_->reset();
  path_ = path;
  if (path_) path_->clear();
  intno_ = -1;
  has_pending_ = false;
  crash_avoided_ = false;
  undecodable_at_ = 0;

  const uint32_t end = kCodeBase + static_cast<uint32_t>(code.size());
  uc_err err = uc_emu_start(uc_, kCodeBase, end, 0, kMaxInsns);
  if (err == UC_ERR_OK && intno_ < 0) commit_pending();
  has_pending_ = false;
  flags_ = nullptr;
  path_ = nullptr;

  RunResult res;
  for (int r = 0; r < 8; ++r) uc_reg_read(uc_, kRegIds[r], &res.state.regs[r]);
  uc_reg_read(uc_, UC_X86_REG_EFLAGS, &res.state.eflags);
  uc_reg_read(uc_, UC_X86_REG_EIP, &res.eip);
  uc_mem_read(uc_, kDataBase, res.state.data.data(), kDataSize);
  uc_mem_read(uc_, kStackBase, res.state.stack.data(), kStackSize);
  if (crash_avoided_) {
    res.unicorn_unrunnable = true;
    res.note = "unicorn: skipped an IDIV (most negative / -1) that crashes Unicorn 2.0.1";
  } else if (intno_ >= 0) {
    res.faulted = true;
    res.vector = static_cast<uint8_t>(intno_);
  } else if (err == UC_ERR_INSN_INVALID) {
    res.faulted = true;
    res.vector = 6;
  } else if (err != UC_ERR_OK) {
    res.faulted = true;
    switch (err) {
      case UC_ERR_READ_UNMAPPED:
      case UC_ERR_WRITE_UNMAPPED:
      case UC_ERR_FETCH_UNMAPPED:
      case UC_ERR_READ_PROT:
      case UC_ERR_WRITE_PROT:
      case UC_ERR_FETCH_PROT: res.vector = 14; break;
      default: res.vector = 0xff; break;
    }
    res.note = std::string("unicorn: ") + uc_strerror(err);
  } else if (res.eip != end) {
    res.hung = true;
  }
  if (undecodable_at_ && !(res.faulted && res.vector == 6 && res.eip == undecodable_at_)) {
    // Unicorn ran an encoding the CPU rejects (LOCK MOV, for one): what
    // follows cannot be compared.
    res.unicorn_unrunnable = true;
    res.note = "unicorn: executed an encoding the CPU rejects with #UD";
  }
  return res;
}

}  // namespace popek::diff
