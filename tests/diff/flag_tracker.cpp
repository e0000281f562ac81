#include "tests/diff/flag_tracker.h"

#include "core/cpu_state.h"
#include "tests/diff/known_disagreements.h"

namespace popek::diff {
namespace {

constexpr uint32_t CF = flag::CF, PF = flag::PF, AF = flag::AF, ZF = flag::ZF, SF = flag::SF, OF = flag::OF;
constexpr uint32_t ARITH = flag::ARITH;

// The count operand of a shift, rotate or double shift (imm, CL or the implicit 1).
uint32_t count_operand(const DecodedInsn& d, const uint32_t regs[8]) {
  const unsigned i = d.insn.operand_count_visible - 1;
  const ZydisDecodedOperand& op = d.ops[i];
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return static_cast<uint32_t>(op.imm.value.u) & 0xff;
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && op.reg.value == ZYDIS_REGISTER_CL) return regs[ECX] & 0xff;
  return 1;
}

FlagEffect shift_effect(ZydisMnemonic m, unsigned width, uint32_t count) {
  count &= 0x1f;
  if (count == 0) return {};  // no flag is written
  const uint32_t of_undef = count == 1 ? 0 : OF;
  switch (m) {
    case ZYDIS_MNEMONIC_ROL:
    case ZYDIS_MNEMONIC_ROR: return {CF | (OF & ~of_undef), of_undef};
    case ZYDIS_MNEMONIC_RCL:
    case ZYDIS_MNEMONIC_RCR: {
      // The rotate runs count mod (width+1) times for 8/16 bits; CF only
      // changes if it runs at all.
      uint32_t runs = width < 32 ? count % (width + 1) : count;
      return {(runs ? CF : 0) | (OF & ~of_undef), of_undef};
    }
    case ZYDIS_MNEMONIC_SHLD:
    case ZYDIS_MNEMONIC_SHRD:
      if (count > width) return {0, ARITH};  // result and flags undefined
      return {ARITH & ~(AF | of_undef), AF | of_undef};
    default: {  // SHL (also the /6 alias) SHR SAR
      uint32_t undef = AF | of_undef;
      if (count >= width && m != ZYDIS_MNEMONIC_SAR) undef |= CF;
      return {ARITH & ~undef, undef};
    }
  }
}

}  // namespace

FlagEffect flag_effect(const DecodedInsn& d, const uint32_t regs[8]) {
  const ZydisMnemonic m = d.insn.mnemonic;
  const unsigned width = d.insn.operand_width;
  switch (m) {
    case ZYDIS_MNEMONIC_SHL:
    case ZYDIS_MNEMONIC_SHR:
    case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_ROL:
    case ZYDIS_MNEMONIC_ROR:
    case ZYDIS_MNEMONIC_RCL:
    case ZYDIS_MNEMONIC_RCR:
    case ZYDIS_MNEMONIC_SHLD:
    case ZYDIS_MNEMONIC_SHRD: return shift_effect(m, width, count_operand(d, regs));
    case ZYDIS_MNEMONIC_CMPSB:
    case ZYDIS_MNEMONIC_CMPSW:
    case ZYDIS_MNEMONIC_CMPSD:
    case ZYDIS_MNEMONIC_SCASB:
    case ZYDIS_MNEMONIC_SCASW:
    case ZYDIS_MNEMONIC_SCASD:
      if (d.insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) {
        uint32_t count = d.insn.address_width == 16 ? (regs[ECX] & 0xffff) : regs[ECX];
        if (count == 0) return {};
      }
      break;
    default: break;
  }
  const ZydisAccessedFlags* f = d.insn.cpu_flags;
  if (!f) return {};
  const uint32_t written = f->modified | f->set_0 | f->set_1 | f->undefined;
  return {written & ~f->undefined, f->undefined};
}

bool is_emulated_flag_insn(ZydisMnemonic m) {
  switch (m) {
    case ZYDIS_MNEMONIC_AAA:
    case ZYDIS_MNEMONIC_AAS:
    case ZYDIS_MNEMONIC_DAA:
    case ZYDIS_MNEMONIC_DAS:
    case ZYDIS_MNEMONIC_AAM:
    case ZYDIS_MNEMONIC_AAD: return true;
    default: return false;
  }
}

uint32_t flags_consumed(const DecodedInsn& d) {
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_CMPSB:
    case ZYDIS_MNEMONIC_CMPSW:
    case ZYDIS_MNEMONIC_CMPSD:
    case ZYDIS_MNEMONIC_SCASB:
    case ZYDIS_MNEMONIC_SCASW:
    case ZYDIS_MNEMONIC_SCASD: return 0;
    default: return d.insn.cpu_flags ? d.insn.cpu_flags->tested & ARITH : 0;
  }
}

uint32_t unicorn_known_bad_flags(const DecodedInsn& d) {
  uint32_t bad = 0;
  for (const KnownDisagreement& k : unicorn_known_disagreements())
    if (matches(k, d)) bad |= k.flags;
  return bad;
}

bool unicorn_cannot_run(const DecodedInsn& d) {
  for (const KnownDisagreement& k : unicorn_known_disagreements())
    if (k.unrunnable && matches(k, d)) return true;
  return false;
}

void FlagTracker::on_started(const DecodedInsn& d) {
  for (const KnownDisagreement& k : unicorn_known_disagreements()) {
    if (!k.unrunnable || !matches(k, d)) continue;
    consumed_ = true;
    notes_.push_back(k.reason);
  }
}

void FlagTracker::on_executed(const DecodedInsn& d, const uint32_t regs[8]) {
  if (flags_consumed(d) & (undefined_ | unicorn_)) consumed_ = true;
  if (flags_consumed(d) & emulated_) consumed_emulated_ = true;
  const FlagEffect e = flag_effect(d, regs);
  const uint32_t written = e.defined | e.undefined;
  undefined_ = (undefined_ & ~written) | e.undefined;
  // A flag another instruction leaves undefined may simply pass through on
  // the hardware (BT leaves OF/AF as they were on current CPUs), so an
  // emulated-undefined flag stays so until something defines it.
  emulated_ = (emulated_ & ~e.defined) | (is_emulated_flag_insn(d.insn.mnemonic) ? e.undefined : 0);
  uint32_t known_bad = 0;
  for (const KnownDisagreement& k : unicorn_known_disagreements()) {
    if (k.unrunnable || !matches(k, d)) continue;
    known_bad |= k.flags & written;
    notes_.push_back(k.reason);
  }
  unicorn_ = (unicorn_ & ~written) | known_bad;
}

}  // namespace popek::diff
