#include "translator/block_builder.h"

namespace popek::dbt {

const char* to_string(BlockEnd e) {
  switch (e) {
    case BlockEnd::ControlTransfer: return "control transfer";
    case BlockEnd::EndsBlockClass: return "ends-block instruction";
    case BlockEnd::PageBoundary: return "page boundary";
    case BlockEnd::CsLimit: return "CS limit";
    case BlockEnd::Undecodable: return "undecodable instruction";
    case BlockEnd::IpWrap: return "IP wrap";
    case BlockEnd::InstructionBudget: return "instruction budget";
  }
  return "?";
}

// POPF and STI end their block only when they make an interrupt
// deliverable (or change TF/AC): the emitted code checks and leaves in the
// middle of the block (emit_sensitive.cpp), so they need not end it.
bool BlockBuilder::continues_block(const DecodedInsn& d) {
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD:
    case ZYDIS_MNEMONIC_STI:
      return true;
    default:
      return false;
  }
}

// Classifies out.insns.back(), just decoded at `eip`: true when the block
// ends after it (out.end set). One that cannot be translated is removed
// again (out.end: Undecodable).
bool BlockBuilder::take(uint32_t eip, GuestBlock& out) const {
  GuestInsn& gi = out.insns.back();
  std::optional<InsnClass> cls = classify(gi.d);
  if (!cls || !cls->implemented()) {
    out.insns.pop_back();
    out.end = BlockEnd::Undecodable;
    return true;
  }
  gi.cls = *cls;
  gi.eip = eip;
  uint32_t next = gi.eip + gi.d.insn.length;
  if (!out.code32) next &= 0xffff;
  gi.next_eip = next;
  if (is_control_transfer(gi.cls)) {
    out.end = BlockEnd::ControlTransfer;
    return true;
  }
  if (gi.cls.ends_block() && !continues_block(gi.d)) {
    out.end = BlockEnd::EndsBlockClass;
    return true;
  }
  if (!out.code32 && next < gi.eip) {
    out.end = BlockEnd::IpWrap;
    return true;
  }
  return false;
}

void BlockBuilder::build(const uint8_t* bytes, uint32_t available, bool to_limit, uint32_t eip,
                         bool code32, bool stack32, GuestBlock& out) const {
  out.eip = eip;
  out.code32 = code32;
  out.stack32 = stack32;
  out.insns.clear();
  out.cut = false;
  out.straddles = false;
  uint32_t offset = 0;
  for (;;) {
    if (out.insns.size() >= max_insns_) {
      out.end = BlockEnd::InstructionBudget;
      return;
    }
    const uint32_t left = available - offset;
    if (left == 0) {
      out.end = to_limit ? BlockEnd::CsLimit : BlockEnd::PageBoundary;
      return;
    }
    // Decoded in place: a GuestInsn is about 1 KiB (Zydis's instruction and
    // ten operands), and the caller reuses `out`, so the vector's storage
    // stays allocated from block to block (no copy, no reallocation).
    GuestInsn& gi = out.insns.emplace_back();
    DecodeStatus st = decoder_.decode(bytes + offset, left, code32, stack32, gi.d);
    if (st == DecodeStatus::NeedMoreBytes) {
      out.insns.pop_back();
      out.end = to_limit ? BlockEnd::CsLimit : BlockEnd::PageBoundary;
      out.cut = !to_limit;
      return;
    }
    if (st != DecodeStatus::Ok) {
      out.insns.pop_back();
      out.end = BlockEnd::Undecodable;
      return;
    }
    const uint32_t length = gi.d.insn.length;
    if (take(eip + offset, out)) return;
    offset += length;
  }
}

bool BlockBuilder::append_straddler(const uint8_t* bytes, uint32_t len, GuestBlock& out) const {
  if (!out.cut || out.insns.size() >= max_insns_) return false;
  const uint32_t eip = out.eip + out.guest_bytes();
  GuestInsn& gi = out.insns.emplace_back();
  if (decoder_.decode(bytes, len, out.code32, out.stack32, gi.d) != DecodeStatus::Ok) {
    out.insns.pop_back();
    return false;
  }
  const BlockEnd was = out.end;
  const size_t with = out.insns.size();
  if (!take(eip, out)) out.end = BlockEnd::PageBoundary;
  if (out.insns.size() != with) {  // classified as not translatable
    out.end = was;
    return false;
  }
  out.cut = false;
  out.straddles = true;
  return true;
}

}  // namespace popek::dbt
