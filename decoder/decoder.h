// A thin wrapper over Zydis 4 for the guest's 16- and 32-bit code.
//
// Real mode is decoded as LEGACY_16: Zydis's REAL_16 mode rejects some
// instructions outright that the CPU decodes and then faults on (e.g. LLDT
// raises #UD in real mode, which is a CPU decision, not a decode failure), so
// the mode checks live in the interpreter and translator, as the SDM states them.
#pragma once
#include <Zydis/Zydis.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace popek {

struct DecodedInsn {
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  uint8_t bytes[16];  // raw instruction bytes (insn.length of them are valid)

  ZydisMnemonic mnemonic() const { return insn.mnemonic; }
  unsigned length() const { return insn.length; }
  unsigned operand_width() const { return insn.operand_width; }  // 8, 16 or 32
  unsigned address_width() const { return insn.address_width; }  // 16 or 32
  bool has_rep() const { return insn.attributes & ZYDIS_ATTRIB_HAS_REP; }
  bool has_repe() const { return insn.attributes & ZYDIS_ATTRIB_HAS_REPE; }
  bool has_repne() const { return insn.attributes & ZYDIS_ATTRIB_HAS_REPNE; }
  bool has_lock() const { return insn.attributes & ZYDIS_ATTRIB_HAS_LOCK; }
};

enum class DecodeStatus { Ok, NeedMoreBytes, Invalid };

class Decoder {
 public:
  Decoder();
  // code32: CS.D; stack32: SS.B.
  DecodeStatus decode(const uint8_t* bytes, size_t len, bool code32, bool stack32,
                      DecodedInsn& out) const;
  // Intel-syntax text of a decoded instruction at `runtime_address`.
  static std::string format(const DecodedInsn& d, uint64_t runtime_address);

 private:
  ZydisDecoder dec_[2][2];  // [code32][stack32]
};

}  // namespace popek
