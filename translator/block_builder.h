// Block builder: decodes one guest basic block with decoder/decoder.h.
//
// A block ends
//  - after a control transfer or an instruction whose class says kEndsBlock
//    (decoder/insn_class.h),
//  - before an instruction that would cross the CS limit, and at the page
//    end: an instruction that starts on the page and continues on the next
//    one is left out by build() (GuestBlock::cut), and the caller may add it
//    with append_straddler() once it knows the next page's bytes (the block
//    then ends after it, and depends on both physical pages),
//  - before an instruction that does not decode or is not an i686
//    instruction (the interpreter raises #UD or #GP for it, precisely),
//  - after an instruction whose 16-bit IP wraps to 0,
//  - at the instruction budget.
// A block may be empty (its first instruction is one of the "before" cases):
// the dispatcher then lets the interpreter run that instruction.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "decoder/decoder.h"
#include "decoder/insn_class.h"

namespace popek::dbt {

struct GuestInsn {
  DecodedInsn d;
  InsnClass cls;
  uint32_t eip;
  uint32_t next_eip;  // fall-through EIP (16-bit wrapped in 16-bit code)
};

enum class BlockEnd : uint8_t {
  ControlTransfer,    // JMP/Jcc/CALL/RET/INT/IRET/LOOP...
  EndsBlockClass,     // sensitive or mode-changing instruction (kEndsBlock)
  PageBoundary,       // the next instruction starts on, or crosses into, the next page
  CsLimit,            // the next instruction does not fit inside the CS limit
  Undecodable,        // the next instruction is invalid or not i686
  IpWrap,             // 16-bit IP wrapped
  InstructionBudget,
};
const char* to_string(BlockEnd e);

struct GuestBlock {
  uint32_t eip = 0;
  bool code32 = true;
  bool stack32 = true;
  std::vector<GuestInsn> insns;
  BlockEnd end = BlockEnd::InstructionBudget;
  // build() stopped at the page end before an instruction that starts on
  // this page and needs bytes of the next one.
  bool cut = false;
  // The last instruction is such an instruction (append_straddler()).
  bool straddles = false;
  uint32_t guest_bytes() const {
    return insns.empty() ? 0 : (insns.back().eip - eip) + insns.back().d.insn.length;
  }
};

class BlockBuilder {
 public:
  static constexpr unsigned kDefaultMaxInsns = 64;
  explicit BlockBuilder(unsigned max_insns = kDefaultMaxInsns) : max_insns_(max_insns) {}

  // `bytes` holds the guest code starting at `eip`; `available` is how many
  // bytes may be fetched (to the page end and the CS limit, whichever is
  // nearer); `to_limit` says the CS limit, not the page end, is the bound.
  void build(const uint8_t* bytes, uint32_t available, bool to_limit, uint32_t eip, bool code32,
             bool stack32, GuestBlock& out) const;

  // Appends the instruction a cut block stopped before, decoded from `bytes`
  // (its bytes on both pages: `len` <= 15 of them, within the CS limit). The
  // block then ends. False, the block unchanged, when those bytes do not
  // hold a whole valid i686 instruction (the interpreter raises the fault).
  bool append_straddler(const uint8_t* bytes, uint32_t len, GuestBlock& out) const;

  static bool is_control_transfer(const InsnClass& c) { return c.group == InsnGroup::Control; }
  // An instruction the class table marks kEndsBlock that the translator
  // lets continue its block (POPF, STI: see block_builder.cpp).
  static bool continues_block(const DecodedInsn& d);

 private:
  bool take(uint32_t eip, GuestBlock& out) const;  // classifies out.insns.back()
  unsigned max_insns_;
  Decoder decoder_;
};

}  // namespace popek::dbt
